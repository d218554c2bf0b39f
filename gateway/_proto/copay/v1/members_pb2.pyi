import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class InsuranceType(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    INSURANCE_TYPE_UNSPECIFIED: _ClassVar[InsuranceType]
    INSURANCE_TYPE_EMPLOYEE: _ClassVar[InsuranceType]
    INSURANCE_TYPE_RESIDENT: _ClassVar[InsuranceType]

class EnrolmentStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    ENROLMENT_STATUS_UNSPECIFIED: _ClassVar[EnrolmentStatus]
    ENROLMENT_STATUS_NORMAL: _ClassVar[EnrolmentStatus]
    ENROLMENT_STATUS_LAPSED: _ClassVar[EnrolmentStatus]
    ENROLMENT_STATUS_TERMINATED: _ClassVar[EnrolmentStatus]
    ENROLMENT_STATUS_TRANSFERRED_OUT: _ClassVar[EnrolmentStatus]
INSURANCE_TYPE_UNSPECIFIED: InsuranceType
INSURANCE_TYPE_EMPLOYEE: InsuranceType
INSURANCE_TYPE_RESIDENT: InsuranceType
ENROLMENT_STATUS_UNSPECIFIED: EnrolmentStatus
ENROLMENT_STATUS_NORMAL: EnrolmentStatus
ENROLMENT_STATUS_LAPSED: EnrolmentStatus
ENROLMENT_STATUS_TERMINATED: EnrolmentStatus
ENROLMENT_STATUS_TRANSFERRED_OUT: EnrolmentStatus

class Member(_message.Message):
    __slots__ = ("name", "psn_no", "insuring_region", "insurance_type", "enrolment_status", "moved_to_region", "create_time", "update_time")
    NAME_FIELD_NUMBER: _ClassVar[int]
    PSN_NO_FIELD_NUMBER: _ClassVar[int]
    INSURING_REGION_FIELD_NUMBER: _ClassVar[int]
    INSURANCE_TYPE_FIELD_NUMBER: _ClassVar[int]
    ENROLMENT_STATUS_FIELD_NUMBER: _ClassVar[int]
    MOVED_TO_REGION_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    UPDATE_TIME_FIELD_NUMBER: _ClassVar[int]
    name: str
    psn_no: str
    insuring_region: str
    insurance_type: InsuranceType
    enrolment_status: EnrolmentStatus
    moved_to_region: str
    create_time: _timestamp_pb2.Timestamp
    update_time: _timestamp_pb2.Timestamp
    def __init__(self, name: _Optional[str] = ..., psn_no: _Optional[str] = ..., insuring_region: _Optional[str] = ..., insurance_type: _Optional[_Union[InsuranceType, str]] = ..., enrolment_status: _Optional[_Union[EnrolmentStatus, str]] = ..., moved_to_region: _Optional[str] = ..., create_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., update_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class MemberRecord(_message.Message):
    __slots__ = ("psn_no", "id_number", "insuring_region", "insurance_type", "enrolment_status")
    PSN_NO_FIELD_NUMBER: _ClassVar[int]
    ID_NUMBER_FIELD_NUMBER: _ClassVar[int]
    INSURING_REGION_FIELD_NUMBER: _ClassVar[int]
    INSURANCE_TYPE_FIELD_NUMBER: _ClassVar[int]
    ENROLMENT_STATUS_FIELD_NUMBER: _ClassVar[int]
    psn_no: str
    id_number: str
    insuring_region: str
    insurance_type: InsuranceType
    enrolment_status: EnrolmentStatus
    def __init__(self, psn_no: _Optional[str] = ..., id_number: _Optional[str] = ..., insuring_region: _Optional[str] = ..., insurance_type: _Optional[_Union[InsuranceType, str]] = ..., enrolment_status: _Optional[_Union[EnrolmentStatus, str]] = ...) -> None: ...

class BatchUpsertMembersRequest(_message.Message):
    __slots__ = ("parent", "request_id", "members")
    PARENT_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    MEMBERS_FIELD_NUMBER: _ClassVar[int]
    parent: str
    request_id: str
    members: _containers.RepeatedCompositeFieldContainer[MemberRecord]
    def __init__(self, parent: _Optional[str] = ..., request_id: _Optional[str] = ..., members: _Optional[_Iterable[_Union[MemberRecord, _Mapping]]] = ...) -> None: ...

class BatchUpsertMembersResponse(_message.Message):
    __slots__ = ("members",)
    MEMBERS_FIELD_NUMBER: _ClassVar[int]
    members: _containers.RepeatedCompositeFieldContainer[Member]
    def __init__(self, members: _Optional[_Iterable[_Union[Member, _Mapping]]] = ...) -> None: ...

class GetMemberRequest(_message.Message):
    __slots__ = ("name",)
    NAME_FIELD_NUMBER: _ClassVar[int]
    name: str
    def __init__(self, name: _Optional[str] = ...) -> None: ...

class LookupMemberRequest(_message.Message):
    __slots__ = ("parent", "id_number")
    PARENT_FIELD_NUMBER: _ClassVar[int]
    ID_NUMBER_FIELD_NUMBER: _ClassVar[int]
    parent: str
    id_number: str
    def __init__(self, parent: _Optional[str] = ..., id_number: _Optional[str] = ...) -> None: ...

class ListMembersRequest(_message.Message):
    __slots__ = ("parent", "page_size", "page_token")
    PARENT_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    parent: str
    page_size: int
    page_token: str
    def __init__(self, parent: _Optional[str] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListMembersResponse(_message.Message):
    __slots__ = ("members", "next_page_token")
    MEMBERS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    members: _containers.RepeatedCompositeFieldContainer[Member]
    next_page_token: str
    def __init__(self, members: _Optional[_Iterable[_Union[Member, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...
