from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Optional as _Optional

DESCRIPTOR: _descriptor.FileDescriptor

class Account(_message.Message):
    __slots__ = ("name", "grantor", "balance_fen", "funded_fen", "released_fen", "spent_fen", "refunded_fen")
    NAME_FIELD_NUMBER: _ClassVar[int]
    GRANTOR_FIELD_NUMBER: _ClassVar[int]
    BALANCE_FEN_FIELD_NUMBER: _ClassVar[int]
    FUNDED_FEN_FIELD_NUMBER: _ClassVar[int]
    RELEASED_FEN_FIELD_NUMBER: _ClassVar[int]
    SPENT_FEN_FIELD_NUMBER: _ClassVar[int]
    REFUNDED_FEN_FIELD_NUMBER: _ClassVar[int]
    name: str
    grantor: str
    balance_fen: int
    funded_fen: int
    released_fen: int
    spent_fen: int
    refunded_fen: int
    def __init__(self, name: _Optional[str] = ..., grantor: _Optional[str] = ..., balance_fen: _Optional[int] = ..., funded_fen: _Optional[int] = ..., released_fen: _Optional[int] = ..., spent_fen: _Optional[int] = ..., refunded_fen: _Optional[int] = ...) -> None: ...

class FundAccountRequest(_message.Message):
    __slots__ = ("grantor", "request_id", "amount_fen")
    GRANTOR_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_FEN_FIELD_NUMBER: _ClassVar[int]
    grantor: str
    request_id: str
    amount_fen: int
    def __init__(self, grantor: _Optional[str] = ..., request_id: _Optional[str] = ..., amount_fen: _Optional[int] = ...) -> None: ...

class ReleaseAccountRequest(_message.Message):
    __slots__ = ("grantor", "request_id", "amount_fen")
    GRANTOR_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_FEN_FIELD_NUMBER: _ClassVar[int]
    grantor: str
    request_id: str
    amount_fen: int
    def __init__(self, grantor: _Optional[str] = ..., request_id: _Optional[str] = ..., amount_fen: _Optional[int] = ...) -> None: ...

class GetAccountRequest(_message.Message):
    __slots__ = ("name",)
    NAME_FIELD_NUMBER: _ClassVar[int]
    name: str
    def __init__(self, name: _Optional[str] = ...) -> None: ...
