import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class Relationship(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    RELATIONSHIP_UNSPECIFIED: _ClassVar[Relationship]
    RELATIONSHIP_SPOUSE: _ClassVar[Relationship]
    RELATIONSHIP_FATHER: _ClassVar[Relationship]
    RELATIONSHIP_MOTHER: _ClassVar[Relationship]
    RELATIONSHIP_SON: _ClassVar[Relationship]
    RELATIONSHIP_DAUGHTER: _ClassVar[Relationship]
    RELATIONSHIP_ELDER_BROTHER: _ClassVar[Relationship]
    RELATIONSHIP_YOUNGER_BROTHER: _ClassVar[Relationship]
    RELATIONSHIP_ELDER_SISTER: _ClassVar[Relationship]
    RELATIONSHIP_YOUNGER_SISTER: _ClassVar[Relationship]
    RELATIONSHIP_PATERNAL_GRANDFATHER: _ClassVar[Relationship]
    RELATIONSHIP_PATERNAL_GRANDMOTHER: _ClassVar[Relationship]
    RELATIONSHIP_MATERNAL_GRANDFATHER: _ClassVar[Relationship]
    RELATIONSHIP_MATERNAL_GRANDMOTHER: _ClassVar[Relationship]
    RELATIONSHIP_PATERNAL_GRANDSON: _ClassVar[Relationship]
    RELATIONSHIP_PATERNAL_GRANDDAUGHTER: _ClassVar[Relationship]
    RELATIONSHIP_MATERNAL_GRANDSON: _ClassVar[Relationship]
    RELATIONSHIP_MATERNAL_GRANDDAUGHTER: _ClassVar[Relationship]
    RELATIONSHIP_SPOUSE_FATHER: _ClassVar[Relationship]
    RELATIONSHIP_SPOUSE_MOTHER: _ClassVar[Relationship]
    RELATIONSHIP_FAMILY_ACCOUNT_PROXY: _ClassVar[Relationship]

class BindingStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    BINDING_STATUS_UNSPECIFIED: _ClassVar[BindingStatus]
    BINDING_STATUS_PENDING_CONFIRMATION: _ClassVar[BindingStatus]
    BINDING_STATUS_PENDING_REVIEW: _ClassVar[BindingStatus]
    BINDING_STATUS_ACTIVE: _ClassVar[BindingStatus]
    BINDING_STATUS_REVOKED: _ClassVar[BindingStatus]
    BINDING_STATUS_ENDED: _ClassVar[BindingStatus]

class TransitionCause(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    TRANSITION_CAUSE_UNSPECIFIED: _ClassVar[TransitionCause]
    TRANSITION_CAUSE_FILED: _ClassVar[TransitionCause]
    TRANSITION_CAUSE_CONFIRMED: _ClassVar[TransitionCause]
    TRANSITION_CAUSE_APPROVED: _ClassVar[TransitionCause]
    TRANSITION_CAUSE_GRANTOR_REQUEST: _ClassVar[TransitionCause]
    TRANSITION_CAUSE_BENEFICIARY_REQUEST: _ClassVar[TransitionCause]
    TRANSITION_CAUSE_CONFIRMATION_DECLINED: _ClassVar[TransitionCause]
    TRANSITION_CAUSE_REVIEW_REJECTED: _ClassVar[TransitionCause]
    TRANSITION_CAUSE_GRANTOR_TERMINATED: _ClassVar[TransitionCause]
    TRANSITION_CAUSE_BENEFICIARY_TERMINATED: _ClassVar[TransitionCause]
    TRANSITION_CAUSE_GRANTOR_TRANSFERRED: _ClassVar[TransitionCause]
    TRANSITION_CAUSE_BENEFICIARY_TRANSFERRED: _ClassVar[TransitionCause]
RELATIONSHIP_UNSPECIFIED: Relationship
RELATIONSHIP_SPOUSE: Relationship
RELATIONSHIP_FATHER: Relationship
RELATIONSHIP_MOTHER: Relationship
RELATIONSHIP_SON: Relationship
RELATIONSHIP_DAUGHTER: Relationship
RELATIONSHIP_ELDER_BROTHER: Relationship
RELATIONSHIP_YOUNGER_BROTHER: Relationship
RELATIONSHIP_ELDER_SISTER: Relationship
RELATIONSHIP_YOUNGER_SISTER: Relationship
RELATIONSHIP_PATERNAL_GRANDFATHER: Relationship
RELATIONSHIP_PATERNAL_GRANDMOTHER: Relationship
RELATIONSHIP_MATERNAL_GRANDFATHER: Relationship
RELATIONSHIP_MATERNAL_GRANDMOTHER: Relationship
RELATIONSHIP_PATERNAL_GRANDSON: Relationship
RELATIONSHIP_PATERNAL_GRANDDAUGHTER: Relationship
RELATIONSHIP_MATERNAL_GRANDSON: Relationship
RELATIONSHIP_MATERNAL_GRANDDAUGHTER: Relationship
RELATIONSHIP_SPOUSE_FATHER: Relationship
RELATIONSHIP_SPOUSE_MOTHER: Relationship
RELATIONSHIP_FAMILY_ACCOUNT_PROXY: Relationship
BINDING_STATUS_UNSPECIFIED: BindingStatus
BINDING_STATUS_PENDING_CONFIRMATION: BindingStatus
BINDING_STATUS_PENDING_REVIEW: BindingStatus
BINDING_STATUS_ACTIVE: BindingStatus
BINDING_STATUS_REVOKED: BindingStatus
BINDING_STATUS_ENDED: BindingStatus
TRANSITION_CAUSE_UNSPECIFIED: TransitionCause
TRANSITION_CAUSE_FILED: TransitionCause
TRANSITION_CAUSE_CONFIRMED: TransitionCause
TRANSITION_CAUSE_APPROVED: TransitionCause
TRANSITION_CAUSE_GRANTOR_REQUEST: TransitionCause
TRANSITION_CAUSE_BENEFICIARY_REQUEST: TransitionCause
TRANSITION_CAUSE_CONFIRMATION_DECLINED: TransitionCause
TRANSITION_CAUSE_REVIEW_REJECTED: TransitionCause
TRANSITION_CAUSE_GRANTOR_TERMINATED: TransitionCause
TRANSITION_CAUSE_BENEFICIARY_TERMINATED: TransitionCause
TRANSITION_CAUSE_GRANTOR_TRANSFERRED: TransitionCause
TRANSITION_CAUSE_BENEFICIARY_TRANSFERRED: TransitionCause

class Binding(_message.Message):
    __slots__ = ("name", "grantor", "beneficiary", "relationship", "status", "policy", "history", "create_time", "update_time")
    NAME_FIELD_NUMBER: _ClassVar[int]
    GRANTOR_FIELD_NUMBER: _ClassVar[int]
    BENEFICIARY_FIELD_NUMBER: _ClassVar[int]
    RELATIONSHIP_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    POLICY_FIELD_NUMBER: _ClassVar[int]
    HISTORY_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    UPDATE_TIME_FIELD_NUMBER: _ClassVar[int]
    name: str
    grantor: str
    beneficiary: str
    relationship: Relationship
    status: BindingStatus
    policy: str
    history: _containers.RepeatedCompositeFieldContainer[BindingTransition]
    create_time: _timestamp_pb2.Timestamp
    update_time: _timestamp_pb2.Timestamp
    def __init__(self, name: _Optional[str] = ..., grantor: _Optional[str] = ..., beneficiary: _Optional[str] = ..., relationship: _Optional[_Union[Relationship, str]] = ..., status: _Optional[_Union[BindingStatus, str]] = ..., policy: _Optional[str] = ..., history: _Optional[_Iterable[_Union[BindingTransition, _Mapping]]] = ..., create_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., update_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class BindingTransition(_message.Message):
    __slots__ = ("status", "time", "actor", "cause")
    STATUS_FIELD_NUMBER: _ClassVar[int]
    TIME_FIELD_NUMBER: _ClassVar[int]
    ACTOR_FIELD_NUMBER: _ClassVar[int]
    CAUSE_FIELD_NUMBER: _ClassVar[int]
    status: BindingStatus
    time: _timestamp_pb2.Timestamp
    actor: str
    cause: TransitionCause
    def __init__(self, status: _Optional[_Union[BindingStatus, str]] = ..., time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., actor: _Optional[str] = ..., cause: _Optional[_Union[TransitionCause, str]] = ...) -> None: ...

class PersonRef(_message.Message):
    __slots__ = ("id_number", "insuring_region")
    ID_NUMBER_FIELD_NUMBER: _ClassVar[int]
    INSURING_REGION_FIELD_NUMBER: _ClassVar[int]
    id_number: str
    insuring_region: str
    def __init__(self, id_number: _Optional[str] = ..., insuring_region: _Optional[str] = ...) -> None: ...

class CreateBindingRequest(_message.Message):
    __slots__ = ("request_id", "grantor", "beneficiary", "beneficiary_person", "relationship", "binding_id")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    GRANTOR_FIELD_NUMBER: _ClassVar[int]
    BENEFICIARY_FIELD_NUMBER: _ClassVar[int]
    BENEFICIARY_PERSON_FIELD_NUMBER: _ClassVar[int]
    RELATIONSHIP_FIELD_NUMBER: _ClassVar[int]
    BINDING_ID_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    grantor: str
    beneficiary: str
    beneficiary_person: PersonRef
    relationship: Relationship
    binding_id: str
    def __init__(self, request_id: _Optional[str] = ..., grantor: _Optional[str] = ..., beneficiary: _Optional[str] = ..., beneficiary_person: _Optional[_Union[PersonRef, _Mapping]] = ..., relationship: _Optional[_Union[Relationship, str]] = ..., binding_id: _Optional[str] = ...) -> None: ...

class ConfirmBindingRequest(_message.Message):
    __slots__ = ("name", "request_id")
    NAME_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    name: str
    request_id: str
    def __init__(self, name: _Optional[str] = ..., request_id: _Optional[str] = ...) -> None: ...

class ApproveBindingRequest(_message.Message):
    __slots__ = ("name", "request_id")
    NAME_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    name: str
    request_id: str
    def __init__(self, name: _Optional[str] = ..., request_id: _Optional[str] = ...) -> None: ...

class RevokeBindingRequest(_message.Message):
    __slots__ = ("name", "request_id", "reason")
    NAME_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    name: str
    request_id: str
    reason: TransitionCause
    def __init__(self, name: _Optional[str] = ..., request_id: _Optional[str] = ..., reason: _Optional[_Union[TransitionCause, str]] = ...) -> None: ...

class GetBindingRequest(_message.Message):
    __slots__ = ("name",)
    NAME_FIELD_NUMBER: _ClassVar[int]
    name: str
    def __init__(self, name: _Optional[str] = ...) -> None: ...

class ListBindingsRequest(_message.Message):
    __slots__ = ("grantor", "beneficiary", "status", "page_size", "page_token")
    GRANTOR_FIELD_NUMBER: _ClassVar[int]
    BENEFICIARY_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    grantor: str
    beneficiary: str
    status: BindingStatus
    page_size: int
    page_token: str
    def __init__(self, grantor: _Optional[str] = ..., beneficiary: _Optional[str] = ..., status: _Optional[_Union[BindingStatus, str]] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListBindingsResponse(_message.Message):
    __slots__ = ("bindings", "next_page_token")
    BINDINGS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    bindings: _containers.RepeatedCompositeFieldContainer[Binding]
    next_page_token: str
    def __init__(self, bindings: _Optional[_Iterable[_Union[Binding, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...
