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
    """Decides per certificate; a certificate admitted is remembered (by its fingerprint) until the operators'
    state or the CRL changes, so a call pays one set lookup. Refusals are made afresh each time. The state,
    the CRL and what was admitted under them are replaced as one (the console asks from its own threads: an
    answer worked out under the previous state is remembered in the previous state's set only)."""

    REMEMBERED = 4096  # certificates remembered per state; beyond that, the others are checked on each call

    def __init__(self) -> None:
        self._now: tuple[Control, Revocations, set[str]] = (Control(), Revocations(), set())

    @property
    def control(self) -> Control:
        return self._now[0]

    @control.setter
    def control(self, control: Control) -> None:
        self._now = (control, self._now[1], set())

    @property
    def crl(self) -> Revocations:
        return self._now[1]

    @crl.setter
    def crl(self, crl: Revocations) -> None:
        self._now = (self._now[0], crl, set())

    def refusal(self, identity: Identity) -> Refusal | None:
        control, crl, admitted = self._now
        if identity.fingerprint in admitted:
            return None
        refused = _refusal(identity, control, crl)
        if refused is None and len(admitted) < self.REMEMBERED:
            admitted.add(identity.fingerprint)
        return refused


def _refusal(identity: Identity, control: Control, crl: Revocations) -> Refusal | None:
    if control.revocations.revoked(identity.serial, identity.fingerprint) or \
            crl.revoked(identity.serial, identity.fingerprint):
        return Refusal(Category.UNAUTHENTICATED, "CERTIFICATE_REVOKED", "this client certificate is revoked; "
                       "ask the federation for a new one", metadata={"serial": identity.serial})
    principal = identity.principal
    if principal is None or principal.kind is not Kind.REGION:
        return None
    region = control.regions.get(principal.name)
    if region is None:
        return Refusal(Category.UNAUTHENTICATED, "REGION_NOT_REGISTERED", f"region {principal.name} is not "
                       "registered at the gateway; operators register regions", metadata={"region": principal.name})
    if region.state is RolloutState.DISABLED:
        return Refusal(Category.PERMISSION_DENIED, "REGION_DISABLED", f"region {principal.name} is disabled at "
                       "the gateway", metadata={"region": principal.name})
    return None
