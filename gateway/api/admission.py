"""Who may call at all, checked on every call before anything else: a certificate the operators or the
CA's CRL revoked is refused (UNAUTHENTICATED, CERTIFICATE_REVOKED); a region that is not registered
(UNAUTHENTICATED, REGION_NOT_REGISTERED) or is DISABLED (PERMISSION_DENIED, REGION_DISABLED) is
refused. The operators' state comes from the server's poll of the database (gateway.server), so a
change made on any gateway process applies here within a second, with no database round trip per call."""

from __future__ import annotations

from gateway.domain.errors import Category, Refusal
from gateway.domain.rollout import Control, Revocations, RolloutState
from gateway.security.principal import Identity, Kind


class Admission:
    def __init__(self) -> None:
        self.control = Control()
        self.crl = Revocations()

    def refusal(self, identity: Identity) -> Refusal | None:
        if self.control.revocations.revoked(identity.serial, identity.fingerprint) or \
                self.crl.revoked(identity.serial, identity.fingerprint):
            return Refusal(Category.UNAUTHENTICATED, "CERTIFICATE_REVOKED", "this client certificate is revoked; "
                           "ask the federation for a new one", metadata={"serial": identity.serial})
        principal = identity.principal
        if principal is None or principal.kind is not Kind.REGION:
            return None
        region = self.control.regions.get(principal.name)
        if region is None:
            return Refusal(Category.UNAUTHENTICATED, "REGION_NOT_REGISTERED", f"region {principal.name} is not "
                           "registered at the gateway; operators register regions", metadata={"region": principal.name})
        if region.state is RolloutState.DISABLED:
            return Refusal(Category.PERMISSION_DENIED, "REGION_DISABLED", f"region {principal.name} is disabled at "
                           "the gateway", metadata={"region": principal.name})
        return None
