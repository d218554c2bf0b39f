import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class Use(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    USE_UNSPECIFIED: _ClassVar[Use]
    USE_OUTPATIENT: _ClassVar[Use]
    USE_INPATIENT: _ClassVar[Use]
    USE_PHARMACY: _ClassVar[Use]
    USE_RESIDENT_PREMIUM: _ClassVar[Use]
    USE_LONG_TERM_CARE_PREMIUM: _ClassVar[Use]
    USE_COMMERCIAL_HEALTH_INSURANCE: _ClassVar[Use]

class CredentialType(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    CREDENTIAL_TYPE_UNSPECIFIED: _ClassVar[CredentialType]
    CREDENTIAL_TYPE_E_VOUCHER: _ClassVar[CredentialType]
    CREDENTIAL_TYPE_ID_CARD: _ClassVar[CredentialType]
    CREDENTIAL_TYPE_SOCIAL_SECURITY_CARD: _ClassVar[CredentialType]

class InstitutionKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    INSTITUTION_KIND_UNSPECIFIED: _ClassVar[InstitutionKind]
    INSTITUTION_KIND_HOSPITAL: _ClassVar[InstitutionKind]
    INSTITUTION_KIND_PHARMACY: _ClassVar[InstitutionKind]

class ItemCategory(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    ITEM_CATEGORY_UNSPECIFIED: _ClassVar[ItemCategory]
    ITEM_CATEGORY_DRUG: _ClassVar[ItemCategory]
    ITEM_CATEGORY_MEDICAL_DEVICE: _ClassVar[ItemCategory]
    ITEM_CATEGORY_MEDICAL_SERVICE: _ClassVar[ItemCategory]
    ITEM_CATEGORY_HEALTH_SUPPLEMENT: _ClassVar[ItemCategory]
    ITEM_CATEGORY_COSMETIC: _ClassVar[ItemCategory]
    ITEM_CATEGORY_DAILY_GOODS: _ClassVar[ItemCategory]
USE_UNSPECIFIED: Use
USE_OUTPATIENT: Use
USE_INPATIENT: Use
USE_PHARMACY: Use
USE_RESIDENT_PREMIUM: Use
USE_LONG_TERM_CARE_PREMIUM: Use
USE_COMMERCIAL_HEALTH_INSURANCE: Use
CREDENTIAL_TYPE_UNSPECIFIED: CredentialType
CREDENTIAL_TYPE_E_VOUCHER: CredentialType
CREDENTIAL_TYPE_ID_CARD: CredentialType
CREDENTIAL_TYPE_SOCIAL_SECURITY_CARD: CredentialType
INSTITUTION_KIND_UNSPECIFIED: InstitutionKind
INSTITUTION_KIND_HOSPITAL: InstitutionKind
INSTITUTION_KIND_PHARMACY: InstitutionKind
ITEM_CATEGORY_UNSPECIFIED: ItemCategory
ITEM_CATEGORY_DRUG: ItemCategory
ITEM_CATEGORY_MEDICAL_DEVICE: ItemCategory
ITEM_CATEGORY_MEDICAL_SERVICE: ItemCategory
ITEM_CATEGORY_HEALTH_SUPPLEMENT: ItemCategory
ITEM_CATEGORY_COSMETIC: ItemCategory
ITEM_CATEGORY_DAILY_GOODS: ItemCategory

class Credential(_message.Message):
    __slots__ = ("type", "holder_id_number")
    TYPE_FIELD_NUMBER: _ClassVar[int]
    HOLDER_ID_NUMBER_FIELD_NUMBER: _ClassVar[int]
    type: CredentialType
    holder_id_number: str
    def __init__(self, type: _Optional[_Union[CredentialType, str]] = ..., holder_id_number: _Optional[str] = ...) -> None: ...

class Institution(_message.Message):
    __slots__ = ("code", "kind", "designated", "region")
    CODE_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    DESIGNATED_FIELD_NUMBER: _ClassVar[int]
    REGION_FIELD_NUMBER: _ClassVar[int]
    code: str
    kind: InstitutionKind
    designated: bool
    region: str
    def __init__(self, code: _Optional[str] = ..., kind: _Optional[_Union[InstitutionKind, str]] = ..., designated: _Optional[bool] = ..., region: _Optional[str] = ...) -> None: ...

class SettlementClaim(_message.Message):
    __slots__ = ("beneficiary", "insuring_region", "credential", "institution", "use", "total_fen", "fund_part_fen", "personal_part_fen", "items", "grantors", "allow_partial")
    BENEFICIARY_FIELD_NUMBER: _ClassVar[int]
    INSURING_REGION_FIELD_NUMBER: _ClassVar[int]
    CREDENTIAL_FIELD_NUMBER: _ClassVar[int]
    INSTITUTION_FIELD_NUMBER: _ClassVar[int]
    USE_FIELD_NUMBER: _ClassVar[int]
    TOTAL_FEN_FIELD_NUMBER: _ClassVar[int]
    FUND_PART_FEN_FIELD_NUMBER: _ClassVar[int]
    PERSONAL_PART_FEN_FIELD_NUMBER: _ClassVar[int]
    ITEMS_FIELD_NUMBER: _ClassVar[int]
    GRANTORS_FIELD_NUMBER: _ClassVar[int]
    ALLOW_PARTIAL_FIELD_NUMBER: _ClassVar[int]
    beneficiary: str
    insuring_region: str
    credential: Credential
    institution: Institution
    use: Use
    total_fen: int
    fund_part_fen: int
    personal_part_fen: int
    items: _containers.RepeatedScalarFieldContainer[ItemCategory]
    grantors: _containers.RepeatedScalarFieldContainer[str]
    allow_partial: bool
    def __init__(self, beneficiary: _Optional[str] = ..., insuring_region: _Optional[str] = ..., credential: _Optional[_Union[Credential, _Mapping]] = ..., institution: _Optional[_Union[Institution, _Mapping]] = ..., use: _Optional[_Union[Use, str]] = ..., total_fen: _Optional[int] = ..., fund_part_fen: _Optional[int] = ..., personal_part_fen: _Optional[int] = ..., items: _Optional[_Iterable[_Union[ItemCategory, str]]] = ..., grantors: _Optional[_Iterable[str]] = ..., allow_partial: _Optional[bool] = ...) -> None: ...

class SettlementLine(_message.Message):
    __slots__ = ("binding", "grantor", "amount_fen", "refunded_fen", "grantor_region")
    BINDING_FIELD_NUMBER: _ClassVar[int]
    GRANTOR_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_FEN_FIELD_NUMBER: _ClassVar[int]
    REFUNDED_FEN_FIELD_NUMBER: _ClassVar[int]
    GRANTOR_REGION_FIELD_NUMBER: _ClassVar[int]
    binding: str
    grantor: str
    amount_fen: int
    refunded_fen: int
    grantor_region: str
    def __init__(self, binding: _Optional[str] = ..., grantor: _Optional[str] = ..., amount_fen: _Optional[int] = ..., refunded_fen: _Optional[int] = ..., grantor_region: _Optional[str] = ...) -> None: ...

class Refund(_message.Message):
    __slots__ = ("amount_fen", "actor", "time")
    AMOUNT_FEN_FIELD_NUMBER: _ClassVar[int]
    ACTOR_FIELD_NUMBER: _ClassVar[int]
    TIME_FIELD_NUMBER: _ClassVar[int]
    amount_fen: int
    actor: str
    time: _timestamp_pb2.Timestamp
    def __init__(self, amount_fen: _Optional[int] = ..., actor: _Optional[str] = ..., time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class Settlement(_message.Message):
    __slots__ = ("name", "treatment_region", "beneficiary", "credential_type", "institution_code", "institution_kind", "use", "total_fen", "fund_part_fen", "personal_part_fen", "items", "lines", "mutual_aid_fen", "cash_fen", "refunded_fen", "refunds", "create_time")
    NAME_FIELD_NUMBER: _ClassVar[int]
    TREATMENT_REGION_FIELD_NUMBER: _ClassVar[int]
    BENEFICIARY_FIELD_NUMBER: _ClassVar[int]
    CREDENTIAL_TYPE_FIELD_NUMBER: _ClassVar[int]
    INSTITUTION_CODE_FIELD_NUMBER: _ClassVar[int]
    INSTITUTION_KIND_FIELD_NUMBER: _ClassVar[int]
    USE_FIELD_NUMBER: _ClassVar[int]
    TOTAL_FEN_FIELD_NUMBER: _ClassVar[int]
    FUND_PART_FEN_FIELD_NUMBER: _ClassVar[int]
    PERSONAL_PART_FEN_FIELD_NUMBER: _ClassVar[int]
    ITEMS_FIELD_NUMBER: _ClassVar[int]
    LINES_FIELD_NUMBER: _ClassVar[int]
    MUTUAL_AID_FEN_FIELD_NUMBER: _ClassVar[int]
    CASH_FEN_FIELD_NUMBER: _ClassVar[int]
    REFUNDED_FEN_FIELD_NUMBER: _ClassVar[int]
    REFUNDS_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    name: str
    treatment_region: str
    beneficiary: str
    credential_type: CredentialType
    institution_code: str
    institution_kind: InstitutionKind
    use: Use
    total_fen: int
    fund_part_fen: int
    personal_part_fen: int
    items: _containers.RepeatedScalarFieldContainer[ItemCategory]
    lines: _containers.RepeatedCompositeFieldContainer[SettlementLine]
    mutual_aid_fen: int
    cash_fen: int
    refunded_fen: int
    refunds: _containers.RepeatedCompositeFieldContainer[Refund]
    create_time: _timestamp_pb2.Timestamp
    def __init__(self, name: _Optional[str] = ..., treatment_region: _Optional[str] = ..., beneficiary: _Optional[str] = ..., credential_type: _Optional[_Union[CredentialType, str]] = ..., institution_code: _Optional[str] = ..., institution_kind: _Optional[_Union[InstitutionKind, str]] = ..., use: _Optional[_Union[Use, str]] = ..., total_fen: _Optional[int] = ..., fund_part_fen: _Optional[int] = ..., personal_part_fen: _Optional[int] = ..., items: _Optional[_Iterable[_Union[ItemCategory, str]]] = ..., lines: _Optional[_Iterable[_Union[SettlementLine, _Mapping]]] = ..., mutual_aid_fen: _Optional[int] = ..., cash_fen: _Optional[int] = ..., refunded_fen: _Optional[int] = ..., refunds: _Optional[_Iterable[_Union[Refund, _Mapping]]] = ..., create_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class PreSettleRequest(_message.Message):
    __slots__ = ("claim",)
    CLAIM_FIELD_NUMBER: _ClassVar[int]
    claim: SettlementClaim
    def __init__(self, claim: _Optional[_Union[SettlementClaim, _Mapping]] = ...) -> None: ...

class PreSettleResponse(_message.Message):
    __slots__ = ("beneficiary", "lines", "mutual_aid_fen", "cash_fen")
    BENEFICIARY_FIELD_NUMBER: _ClassVar[int]
    LINES_FIELD_NUMBER: _ClassVar[int]
    MUTUAL_AID_FEN_FIELD_NUMBER: _ClassVar[int]
    CASH_FEN_FIELD_NUMBER: _ClassVar[int]
    beneficiary: str
    lines: _containers.RepeatedCompositeFieldContainer[SettlementLine]
    mutual_aid_fen: int
    cash_fen: int
    def __init__(self, beneficiary: _Optional[str] = ..., lines: _Optional[_Iterable[_Union[SettlementLine, _Mapping]]] = ..., mutual_aid_fen: _Optional[int] = ..., cash_fen: _Optional[int] = ...) -> None: ...

class SettleRequest(_message.Message):
    __slots__ = ("request_id", "claim", "settlement_id")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    CLAIM_FIELD_NUMBER: _ClassVar[int]
    SETTLEMENT_ID_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    claim: SettlementClaim
    settlement_id: str
    def __init__(self, request_id: _Optional[str] = ..., claim: _Optional[_Union[SettlementClaim, _Mapping]] = ..., settlement_id: _Optional[str] = ...) -> None: ...

class ReverseSettlementRequest(_message.Message):
    __slots__ = ("name", "request_id", "amount_fen")
    NAME_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_FEN_FIELD_NUMBER: _ClassVar[int]
    name: str
    request_id: str
    amount_fen: int
    def __init__(self, name: _Optional[str] = ..., request_id: _Optional[str] = ..., amount_fen: _Optional[int] = ...) -> None: ...

class GetSettlementRequest(_message.Message):
    __slots__ = ("name",)
    NAME_FIELD_NUMBER: _ClassVar[int]
    name: str
    def __init__(self, name: _Optional[str] = ...) -> None: ...

class ListSettlementsRequest(_message.Message):
    __slots__ = ("grantor", "beneficiary", "start_time", "end_time", "page_size", "page_token")
    GRANTOR_FIELD_NUMBER: _ClassVar[int]
    BENEFICIARY_FIELD_NUMBER: _ClassVar[int]
    START_TIME_FIELD_NUMBER: _ClassVar[int]
    END_TIME_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    grantor: str
    beneficiary: str
    start_time: _timestamp_pb2.Timestamp
    end_time: _timestamp_pb2.Timestamp
    page_size: int
    page_token: str
    def __init__(self, grantor: _Optional[str] = ..., beneficiary: _Optional[str] = ..., start_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., end_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListSettlementsResponse(_message.Message):
    __slots__ = ("settlements", "next_page_token")
    SETTLEMENTS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    settlements: _containers.RepeatedCompositeFieldContainer[Settlement]
    next_page_token: str
    def __init__(self, settlements: _Optional[_Iterable[_Union[Settlement, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...
