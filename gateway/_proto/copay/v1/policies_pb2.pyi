import datetime

from gateway._proto.copay.v1 import bindings_pb2 as _bindings_pb2
from gateway._proto.copay.v1 import settlements_pb2 as _settlements_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class GrantorOrder(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    GRANTOR_ORDER_UNSPECIFIED: _ClassVar[GrantorOrder]
    GRANTOR_ORDER_FILING: _ClassVar[GrantorOrder]

class Geography(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    GEOGRAPHY_UNSPECIFIED: _ClassVar[Geography]
    GEOGRAPHY_PROVINCE: _ClassVar[Geography]
    GEOGRAPHY_POOLING_REGION: _ClassVar[Geography]
GRANTOR_ORDER_UNSPECIFIED: GrantorOrder
GRANTOR_ORDER_FILING: GrantorOrder
GEOGRAPHY_UNSPECIFIED: Geography
GEOGRAPHY_PROVINCE: Geography
GEOGRAPHY_POOLING_REGION: Geography

class ProvincePolicy(_message.Message):
    __slots__ = ("province", "display_name", "version", "policy", "relationships", "geography", "confirmation_required", "review_required", "allowed_uses", "grantor_order", "sources", "effective_time")
    PROVINCE_FIELD_NUMBER: _ClassVar[int]
    DISPLAY_NAME_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    POLICY_FIELD_NUMBER: _ClassVar[int]
    RELATIONSHIPS_FIELD_NUMBER: _ClassVar[int]
    GEOGRAPHY_FIELD_NUMBER: _ClassVar[int]
    CONFIRMATION_REQUIRED_FIELD_NUMBER: _ClassVar[int]
    REVIEW_REQUIRED_FIELD_NUMBER: _ClassVar[int]
    ALLOWED_USES_FIELD_NUMBER: _ClassVar[int]
    GRANTOR_ORDER_FIELD_NUMBER: _ClassVar[int]
    SOURCES_FIELD_NUMBER: _ClassVar[int]
    EFFECTIVE_TIME_FIELD_NUMBER: _ClassVar[int]
    province: str
    display_name: str
    version: int
    policy: str
    relationships: _containers.RepeatedScalarFieldContainer[_bindings_pb2.Relationship]
    geography: Geography
    confirmation_required: _containers.RepeatedScalarFieldContainer[_bindings_pb2.Relationship]
    review_required: bool
    allowed_uses: _containers.RepeatedScalarFieldContainer[_settlements_pb2.Use]
    grantor_order: GrantorOrder
    sources: _containers.RepeatedScalarFieldContainer[str]
    effective_time: _timestamp_pb2.Timestamp
    def __init__(self, province: _Optional[str] = ..., display_name: _Optional[str] = ..., version: _Optional[int] = ..., policy: _Optional[str] = ..., relationships: _Optional[_Iterable[_Union[_bindings_pb2.Relationship, str]]] = ..., geography: _Optional[_Union[Geography, str]] = ..., confirmation_required: _Optional[_Iterable[_Union[_bindings_pb2.Relationship, str]]] = ..., review_required: _Optional[bool] = ..., allowed_uses: _Optional[_Iterable[_Union[_settlements_pb2.Use, str]]] = ..., grantor_order: _Optional[_Union[GrantorOrder, str]] = ..., sources: _Optional[_Iterable[str]] = ..., effective_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class ListProvincePoliciesRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ListProvincePoliciesResponse(_message.Message):
    __slots__ = ("policies",)
    POLICIES_FIELD_NUMBER: _ClassVar[int]
    policies: _containers.RepeatedCompositeFieldContainer[ProvincePolicy]
    def __init__(self, policies: _Optional[_Iterable[_Union[ProvincePolicy, _Mapping]]] = ...) -> None: ...
