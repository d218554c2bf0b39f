import datetime

from gateway._proto.copay.v1 import policies_pb2 as _policies_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class RolloutState(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    ROLLOUT_STATE_UNSPECIFIED: _ClassVar[RolloutState]
    ROLLOUT_STATE_DISABLED: _ClassVar[RolloutState]
    ROLLOUT_STATE_PILOT: _ClassVar[RolloutState]
    ROLLOUT_STATE_LIVE: _ClassVar[RolloutState]

class ChangeState(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    CHANGE_STATE_UNSPECIFIED: _ClassVar[ChangeState]
    CHANGE_STATE_PENDING: _ClassVar[ChangeState]
    CHANGE_STATE_APPLIED: _ClassVar[ChangeState]
    CHANGE_STATE_REJECTED: _ClassVar[ChangeState]
ROLLOUT_STATE_UNSPECIFIED: RolloutState
ROLLOUT_STATE_DISABLED: RolloutState
ROLLOUT_STATE_PILOT: RolloutState
ROLLOUT_STATE_LIVE: RolloutState
CHANGE_STATE_UNSPECIFIED: ChangeState
CHANGE_STATE_PENDING: ChangeState
CHANGE_STATE_APPLIED: ChangeState
CHANGE_STATE_REJECTED: ChangeState

class Region(_message.Message):
    __slots__ = ("name", "admdvs", "province", "display_name", "state", "update_time", "updated_by")
    NAME_FIELD_NUMBER: _ClassVar[int]
    ADMDVS_FIELD_NUMBER: _ClassVar[int]
    PROVINCE_FIELD_NUMBER: _ClassVar[int]
    DISPLAY_NAME_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    UPDATE_TIME_FIELD_NUMBER: _ClassVar[int]
    UPDATED_BY_FIELD_NUMBER: _ClassVar[int]
    name: str
    admdvs: str
    province: str
    display_name: str
    state: RolloutState
    update_time: _timestamp_pb2.Timestamp
    updated_by: str
    def __init__(self, name: _Optional[str] = ..., admdvs: _Optional[str] = ..., province: _Optional[str] = ..., display_name: _Optional[str] = ..., state: _Optional[_Union[RolloutState, str]] = ..., update_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., updated_by: _Optional[str] = ...) -> None: ...

class PairLimits(_message.Message):
    __slots__ = ("per_beneficiary_daily", "per_settlement_fen", "daily_fen", "quiet_from", "quiet_until")
    PER_BENEFICIARY_DAILY_FIELD_NUMBER: _ClassVar[int]
    PER_SETTLEMENT_FEN_FIELD_NUMBER: _ClassVar[int]
    DAILY_FEN_FIELD_NUMBER: _ClassVar[int]
    QUIET_FROM_FIELD_NUMBER: _ClassVar[int]
    QUIET_UNTIL_FIELD_NUMBER: _ClassVar[int]
    per_beneficiary_daily: int
    per_settlement_fen: int
    daily_fen: int
    quiet_from: str
    quiet_until: str
    def __init__(self, per_beneficiary_daily: _Optional[int] = ..., per_settlement_fen: _Optional[int] = ..., daily_fen: _Optional[int] = ..., quiet_from: _Optional[str] = ..., quiet_until: _Optional[str] = ...) -> None: ...

class ProvincePair(_message.Message):
    __slots__ = ("name", "grantor_province", "other_province", "open", "open_time", "close_time", "limits", "open_now", "update_time", "updated_by")
    NAME_FIELD_NUMBER: _ClassVar[int]
    GRANTOR_PROVINCE_FIELD_NUMBER: _ClassVar[int]
    OTHER_PROVINCE_FIELD_NUMBER: _ClassVar[int]
    OPEN_FIELD_NUMBER: _ClassVar[int]
    OPEN_TIME_FIELD_NUMBER: _ClassVar[int]
    CLOSE_TIME_FIELD_NUMBER: _ClassVar[int]
    LIMITS_FIELD_NUMBER: _ClassVar[int]
    OPEN_NOW_FIELD_NUMBER: _ClassVar[int]
    UPDATE_TIME_FIELD_NUMBER: _ClassVar[int]
    UPDATED_BY_FIELD_NUMBER: _ClassVar[int]
    name: str
    grantor_province: str
    other_province: str
    open: bool
    open_time: _timestamp_pb2.Timestamp
    close_time: _timestamp_pb2.Timestamp
    limits: PairLimits
    open_now: bool
    update_time: _timestamp_pb2.Timestamp
    updated_by: str
    def __init__(self, name: _Optional[str] = ..., grantor_province: _Optional[str] = ..., other_province: _Optional[str] = ..., open: _Optional[bool] = ..., open_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., close_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., limits: _Optional[_Union[PairLimits, _Mapping]] = ..., open_now: _Optional[bool] = ..., update_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., updated_by: _Optional[str] = ...) -> None: ...

class KillSwitch(_message.Message):
    __slots__ = ("pulled", "update_time", "updated_by")
    PULLED_FIELD_NUMBER: _ClassVar[int]
    UPDATE_TIME_FIELD_NUMBER: _ClassVar[int]
    UPDATED_BY_FIELD_NUMBER: _ClassVar[int]
    pulled: bool
    update_time: _timestamp_pb2.Timestamp
    updated_by: str
    def __init__(self, pulled: _Optional[bool] = ..., update_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., updated_by: _Optional[str] = ...) -> None: ...

class RegionStateChange(_message.Message):
    __slots__ = ("region", "state")
    REGION_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    region: str
    state: RolloutState
    def __init__(self, region: _Optional[str] = ..., state: _Optional[_Union[RolloutState, str]] = ...) -> None: ...

class PairRef(_message.Message):
    __slots__ = ("grantor_province", "other_province", "both_ways")
    GRANTOR_PROVINCE_FIELD_NUMBER: _ClassVar[int]
    OTHER_PROVINCE_FIELD_NUMBER: _ClassVar[int]
    BOTH_WAYS_FIELD_NUMBER: _ClassVar[int]
    grantor_province: str
    other_province: str
    both_ways: bool
    def __init__(self, grantor_province: _Optional[str] = ..., other_province: _Optional[str] = ..., both_ways: _Optional[bool] = ...) -> None: ...

class PairOpening(_message.Message):
    __slots__ = ("pair", "open_time", "close_time", "limits")
    PAIR_FIELD_NUMBER: _ClassVar[int]
    OPEN_TIME_FIELD_NUMBER: _ClassVar[int]
    CLOSE_TIME_FIELD_NUMBER: _ClassVar[int]
    LIMITS_FIELD_NUMBER: _ClassVar[int]
    pair: PairRef
    open_time: _timestamp_pb2.Timestamp
    close_time: _timestamp_pb2.Timestamp
    limits: PairLimits
    def __init__(self, pair: _Optional[_Union[PairRef, _Mapping]] = ..., open_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., close_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., limits: _Optional[_Union[PairLimits, _Mapping]] = ...) -> None: ...

class PairClosing(_message.Message):
    __slots__ = ("pair",)
    PAIR_FIELD_NUMBER: _ClassVar[int]
    pair: PairRef
    def __init__(self, pair: _Optional[_Union[PairRef, _Mapping]] = ...) -> None: ...

class PairLimitsChange(_message.Message):
    __slots__ = ("pair", "limits")
    PAIR_FIELD_NUMBER: _ClassVar[int]
    LIMITS_FIELD_NUMBER: _ClassVar[int]
    pair: PairRef
    limits: PairLimits
    def __init__(self, pair: _Optional[_Union[PairRef, _Mapping]] = ..., limits: _Optional[_Union[PairLimits, _Mapping]] = ...) -> None: ...

class KillSwitchChange(_message.Message):
    __slots__ = ("pulled",)
    PULLED_FIELD_NUMBER: _ClassVar[int]
    pulled: bool
    def __init__(self, pulled: _Optional[bool] = ...) -> None: ...

class PolicyPublication(_message.Message):
    __slots__ = ("policy", "effective_time")
    POLICY_FIELD_NUMBER: _ClassVar[int]
    EFFECTIVE_TIME_FIELD_NUMBER: _ClassVar[int]
    policy: _policies_pb2.ProvincePolicy
    effective_time: _timestamp_pb2.Timestamp
    def __init__(self, policy: _Optional[_Union[_policies_pb2.ProvincePolicy, _Mapping]] = ..., effective_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class ChangeRequest(_message.Message):
    __slots__ = ("name", "state", "region_state", "pair_opening", "pair_closing", "pair_limits", "kill_switch", "policy_publication", "reason", "requested_by", "create_time", "decided_by", "decide_time", "decision_reason", "summary")
    NAME_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    REGION_STATE_FIELD_NUMBER: _ClassVar[int]
    PAIR_OPENING_FIELD_NUMBER: _ClassVar[int]
    PAIR_CLOSING_FIELD_NUMBER: _ClassVar[int]
    PAIR_LIMITS_FIELD_NUMBER: _ClassVar[int]
    KILL_SWITCH_FIELD_NUMBER: _ClassVar[int]
    POLICY_PUBLICATION_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    REQUESTED_BY_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    DECIDED_BY_FIELD_NUMBER: _ClassVar[int]
    DECIDE_TIME_FIELD_NUMBER: _ClassVar[int]
    DECISION_REASON_FIELD_NUMBER: _ClassVar[int]
    SUMMARY_FIELD_NUMBER: _ClassVar[int]
    name: str
    state: ChangeState
    region_state: RegionStateChange
    pair_opening: PairOpening
    pair_closing: PairClosing
    pair_limits: PairLimitsChange
    kill_switch: KillSwitchChange
    policy_publication: PolicyPublication
    reason: str
    requested_by: str
    create_time: _timestamp_pb2.Timestamp
    decided_by: str
    decide_time: _timestamp_pb2.Timestamp
    decision_reason: str
    summary: str
    def __init__(self, name: _Optional[str] = ..., state: _Optional[_Union[ChangeState, str]] = ..., region_state: _Optional[_Union[RegionStateChange, _Mapping]] = ..., pair_opening: _Optional[_Union[PairOpening, _Mapping]] = ..., pair_closing: _Optional[_Union[PairClosing, _Mapping]] = ..., pair_limits: _Optional[_Union[PairLimitsChange, _Mapping]] = ..., kill_switch: _Optional[_Union[KillSwitchChange, _Mapping]] = ..., policy_publication: _Optional[_Union[PolicyPublication, _Mapping]] = ..., reason: _Optional[str] = ..., requested_by: _Optional[str] = ..., create_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., decided_by: _Optional[str] = ..., decide_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., decision_reason: _Optional[str] = ..., summary: _Optional[str] = ...) -> None: ...

class RevokedCertificate(_message.Message):
    __slots__ = ("name", "serial", "fingerprint_sha256", "principal", "reason", "revoked_by", "revoke_time")
    NAME_FIELD_NUMBER: _ClassVar[int]
    SERIAL_FIELD_NUMBER: _ClassVar[int]
    FINGERPRINT_SHA256_FIELD_NUMBER: _ClassVar[int]
    PRINCIPAL_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    REVOKED_BY_FIELD_NUMBER: _ClassVar[int]
    REVOKE_TIME_FIELD_NUMBER: _ClassVar[int]
    name: str
    serial: str
    fingerprint_sha256: str
    principal: str
    reason: str
    revoked_by: str
    revoke_time: _timestamp_pb2.Timestamp
    def __init__(self, name: _Optional[str] = ..., serial: _Optional[str] = ..., fingerprint_sha256: _Optional[str] = ..., principal: _Optional[str] = ..., reason: _Optional[str] = ..., revoked_by: _Optional[str] = ..., revoke_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class AuditEntry(_message.Message):
    __slots__ = ("name", "seq", "time", "actor", "action", "target", "reason", "before_json", "after_json", "prev_hash", "hash")
    NAME_FIELD_NUMBER: _ClassVar[int]
    SEQ_FIELD_NUMBER: _ClassVar[int]
    TIME_FIELD_NUMBER: _ClassVar[int]
    ACTOR_FIELD_NUMBER: _ClassVar[int]
    ACTION_FIELD_NUMBER: _ClassVar[int]
    TARGET_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    BEFORE_JSON_FIELD_NUMBER: _ClassVar[int]
    AFTER_JSON_FIELD_NUMBER: _ClassVar[int]
    PREV_HASH_FIELD_NUMBER: _ClassVar[int]
    HASH_FIELD_NUMBER: _ClassVar[int]
    name: str
    seq: int
    time: _timestamp_pb2.Timestamp
    actor: str
    action: str
    target: str
    reason: str
    before_json: str
    after_json: str
    prev_hash: str
    hash: str
    def __init__(self, name: _Optional[str] = ..., seq: _Optional[int] = ..., time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., actor: _Optional[str] = ..., action: _Optional[str] = ..., target: _Optional[str] = ..., reason: _Optional[str] = ..., before_json: _Optional[str] = ..., after_json: _Optional[str] = ..., prev_hash: _Optional[str] = ..., hash: _Optional[str] = ...) -> None: ...

class ImpersonationAttempt(_message.Message):
    __slots__ = ("day", "caller", "beneficiary", "credential_type", "attempts", "first_time", "last_time", "last_institution_code", "last_request_id")
    DAY_FIELD_NUMBER: _ClassVar[int]
    CALLER_FIELD_NUMBER: _ClassVar[int]
    BENEFICIARY_FIELD_NUMBER: _ClassVar[int]
    CREDENTIAL_TYPE_FIELD_NUMBER: _ClassVar[int]
    ATTEMPTS_FIELD_NUMBER: _ClassVar[int]
    FIRST_TIME_FIELD_NUMBER: _ClassVar[int]
    LAST_TIME_FIELD_NUMBER: _ClassVar[int]
    LAST_INSTITUTION_CODE_FIELD_NUMBER: _ClassVar[int]
    LAST_REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    day: str
    caller: str
    beneficiary: str
    credential_type: str
    attempts: int
    first_time: _timestamp_pb2.Timestamp
    last_time: _timestamp_pb2.Timestamp
    last_institution_code: str
    last_request_id: str
    def __init__(self, day: _Optional[str] = ..., caller: _Optional[str] = ..., beneficiary: _Optional[str] = ..., credential_type: _Optional[str] = ..., attempts: _Optional[int] = ..., first_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., last_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., last_institution_code: _Optional[str] = ..., last_request_id: _Optional[str] = ...) -> None: ...

class ListRegionsRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ListRegionsResponse(_message.Message):
    __slots__ = ("regions",)
    REGIONS_FIELD_NUMBER: _ClassVar[int]
    regions: _containers.RepeatedCompositeFieldContainer[Region]
    def __init__(self, regions: _Optional[_Iterable[_Union[Region, _Mapping]]] = ...) -> None: ...

class CreateRegionRequest(_message.Message):
    __slots__ = ("request_id", "admdvs", "display_name", "reason")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    ADMDVS_FIELD_NUMBER: _ClassVar[int]
    DISPLAY_NAME_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    admdvs: str
    display_name: str
    reason: str
    def __init__(self, request_id: _Optional[str] = ..., admdvs: _Optional[str] = ..., display_name: _Optional[str] = ..., reason: _Optional[str] = ...) -> None: ...

class SetRegionStateRequest(_message.Message):
    __slots__ = ("request_id", "region", "state", "reason")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    REGION_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    region: str
    state: RolloutState
    reason: str
    def __init__(self, request_id: _Optional[str] = ..., region: _Optional[str] = ..., state: _Optional[_Union[RolloutState, str]] = ..., reason: _Optional[str] = ...) -> None: ...

class ListProvincePairsRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ListProvincePairsResponse(_message.Message):
    __slots__ = ("pairs",)
    PAIRS_FIELD_NUMBER: _ClassVar[int]
    pairs: _containers.RepeatedCompositeFieldContainer[ProvincePair]
    def __init__(self, pairs: _Optional[_Iterable[_Union[ProvincePair, _Mapping]]] = ...) -> None: ...

class OpenProvincePairRequest(_message.Message):
    __slots__ = ("request_id", "pair", "open_time", "close_time", "limits", "limits_preset", "reason")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    PAIR_FIELD_NUMBER: _ClassVar[int]
    OPEN_TIME_FIELD_NUMBER: _ClassVar[int]
    CLOSE_TIME_FIELD_NUMBER: _ClassVar[int]
    LIMITS_FIELD_NUMBER: _ClassVar[int]
    LIMITS_PRESET_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    pair: PairRef
    open_time: _timestamp_pb2.Timestamp
    close_time: _timestamp_pb2.Timestamp
    limits: PairLimits
    limits_preset: str
    reason: str
    def __init__(self, request_id: _Optional[str] = ..., pair: _Optional[_Union[PairRef, _Mapping]] = ..., open_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., close_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., limits: _Optional[_Union[PairLimits, _Mapping]] = ..., limits_preset: _Optional[str] = ..., reason: _Optional[str] = ...) -> None: ...

class CloseProvincePairRequest(_message.Message):
    __slots__ = ("request_id", "pair", "reason")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    PAIR_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    pair: PairRef
    reason: str
    def __init__(self, request_id: _Optional[str] = ..., pair: _Optional[_Union[PairRef, _Mapping]] = ..., reason: _Optional[str] = ...) -> None: ...

class SetProvincePairLimitsRequest(_message.Message):
    __slots__ = ("request_id", "pair", "limits", "limits_preset", "reason")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    PAIR_FIELD_NUMBER: _ClassVar[int]
    LIMITS_FIELD_NUMBER: _ClassVar[int]
    LIMITS_PRESET_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    pair: PairRef
    limits: PairLimits
    limits_preset: str
    reason: str
    def __init__(self, request_id: _Optional[str] = ..., pair: _Optional[_Union[PairRef, _Mapping]] = ..., limits: _Optional[_Union[PairLimits, _Mapping]] = ..., limits_preset: _Optional[str] = ..., reason: _Optional[str] = ...) -> None: ...

class GetKillSwitchRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class SetKillSwitchRequest(_message.Message):
    __slots__ = ("request_id", "pulled", "reason")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    PULLED_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    pulled: bool
    reason: str
    def __init__(self, request_id: _Optional[str] = ..., pulled: _Optional[bool] = ..., reason: _Optional[str] = ...) -> None: ...

class PublishProvincePolicyRequest(_message.Message):
    __slots__ = ("request_id", "policy", "effective_time", "reason")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    POLICY_FIELD_NUMBER: _ClassVar[int]
    EFFECTIVE_TIME_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    policy: _policies_pb2.ProvincePolicy
    effective_time: _timestamp_pb2.Timestamp
    reason: str
    def __init__(self, request_id: _Optional[str] = ..., policy: _Optional[_Union[_policies_pb2.ProvincePolicy, _Mapping]] = ..., effective_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., reason: _Optional[str] = ...) -> None: ...

class ListChangeRequestsRequest(_message.Message):
    __slots__ = ("state", "page_size", "page_token")
    STATE_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    state: ChangeState
    page_size: int
    page_token: str
    def __init__(self, state: _Optional[_Union[ChangeState, str]] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListChangeRequestsResponse(_message.Message):
    __slots__ = ("change_requests", "next_page_token")
    CHANGE_REQUESTS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    change_requests: _containers.RepeatedCompositeFieldContainer[ChangeRequest]
    next_page_token: str
    def __init__(self, change_requests: _Optional[_Iterable[_Union[ChangeRequest, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class GetChangeRequestRequest(_message.Message):
    __slots__ = ("name",)
    NAME_FIELD_NUMBER: _ClassVar[int]
    name: str
    def __init__(self, name: _Optional[str] = ...) -> None: ...

class ApproveChangeRequestRequest(_message.Message):
    __slots__ = ("name", "request_id", "reason")
    NAME_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    name: str
    request_id: str
    reason: str
    def __init__(self, name: _Optional[str] = ..., request_id: _Optional[str] = ..., reason: _Optional[str] = ...) -> None: ...

class RejectChangeRequestRequest(_message.Message):
    __slots__ = ("name", "request_id", "reason")
    NAME_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    name: str
    request_id: str
    reason: str
    def __init__(self, name: _Optional[str] = ..., request_id: _Optional[str] = ..., reason: _Optional[str] = ...) -> None: ...

class RevokeCertificateRequest(_message.Message):
    __slots__ = ("request_id", "serial", "fingerprint_sha256", "certificate_pem", "reason")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    SERIAL_FIELD_NUMBER: _ClassVar[int]
    FINGERPRINT_SHA256_FIELD_NUMBER: _ClassVar[int]
    CERTIFICATE_PEM_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    serial: str
    fingerprint_sha256: str
    certificate_pem: str
    reason: str
    def __init__(self, request_id: _Optional[str] = ..., serial: _Optional[str] = ..., fingerprint_sha256: _Optional[str] = ..., certificate_pem: _Optional[str] = ..., reason: _Optional[str] = ...) -> None: ...

class ListRevokedCertificatesRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ListRevokedCertificatesResponse(_message.Message):
    __slots__ = ("revoked_certificates",)
    REVOKED_CERTIFICATES_FIELD_NUMBER: _ClassVar[int]
    revoked_certificates: _containers.RepeatedCompositeFieldContainer[RevokedCertificate]
    def __init__(self, revoked_certificates: _Optional[_Iterable[_Union[RevokedCertificate, _Mapping]]] = ...) -> None: ...

class ListAuditEntriesRequest(_message.Message):
    __slots__ = ("actor", "action", "target", "start_time", "end_time", "page_size", "page_token")
    ACTOR_FIELD_NUMBER: _ClassVar[int]
    ACTION_FIELD_NUMBER: _ClassVar[int]
    TARGET_FIELD_NUMBER: _ClassVar[int]
    START_TIME_FIELD_NUMBER: _ClassVar[int]
    END_TIME_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    actor: str
    action: str
    target: str
    start_time: _timestamp_pb2.Timestamp
    end_time: _timestamp_pb2.Timestamp
    page_size: int
    page_token: str
    def __init__(self, actor: _Optional[str] = ..., action: _Optional[str] = ..., target: _Optional[str] = ..., start_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., end_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListAuditEntriesResponse(_message.Message):
    __slots__ = ("entries", "next_page_token")
    ENTRIES_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    entries: _containers.RepeatedCompositeFieldContainer[AuditEntry]
    next_page_token: str
    def __init__(self, entries: _Optional[_Iterable[_Union[AuditEntry, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class VerifyAuditLogRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class VerifyAuditLogResponse(_message.Message):
    __slots__ = ("intact", "entries_checked", "first_bad_seq", "problem")
    INTACT_FIELD_NUMBER: _ClassVar[int]
    ENTRIES_CHECKED_FIELD_NUMBER: _ClassVar[int]
    FIRST_BAD_SEQ_FIELD_NUMBER: _ClassVar[int]
    PROBLEM_FIELD_NUMBER: _ClassVar[int]
    intact: bool
    entries_checked: int
    first_bad_seq: int
    problem: str
    def __init__(self, intact: _Optional[bool] = ..., entries_checked: _Optional[int] = ..., first_bad_seq: _Optional[int] = ..., problem: _Optional[str] = ...) -> None: ...

class ListImpersonationAttemptsRequest(_message.Message):
    __slots__ = ("caller", "page_size", "page_token")
    CALLER_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    caller: str
    page_size: int
    page_token: str
    def __init__(self, caller: _Optional[str] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListImpersonationAttemptsResponse(_message.Message):
    __slots__ = ("attempts", "next_page_token")
    ATTEMPTS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    attempts: _containers.RepeatedCompositeFieldContainer[ImpersonationAttempt]
    next_page_token: str
    def __init__(self, attempts: _Optional[_Iterable[_Union[ImpersonationAttempt, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...
