import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class ClearingWindowState(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    CLEARING_WINDOW_STATE_UNSPECIFIED: _ClassVar[ClearingWindowState]
    CLEARING_WINDOW_STATE_OPEN: _ClassVar[ClearingWindowState]
    CLEARING_WINDOW_STATE_CLOSED: _ClassVar[ClearingWindowState]

class ClearingVerdict(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    CLEARING_VERDICT_UNSPECIFIED: _ClassVar[ClearingVerdict]
    CLEARING_VERDICT_CONFIRMED: _ClassVar[ClearingVerdict]
    CLEARING_VERDICT_DISPUTED: _ClassVar[ClearingVerdict]

class ClearingLineKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    CLEARING_LINE_KIND_UNSPECIFIED: _ClassVar[ClearingLineKind]
    CLEARING_LINE_KIND_PAYMENT: _ClassVar[ClearingLineKind]
    CLEARING_LINE_KIND_REFUND: _ClassVar[ClearingLineKind]

class ReconciliationResult(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    RECONCILIATION_RESULT_UNSPECIFIED: _ClassVar[ReconciliationResult]
    RECONCILIATION_RESULT_MATCH: _ClassVar[ReconciliationResult]
    RECONCILIATION_RESULT_MISMATCH: _ClassVar[ReconciliationResult]
CLEARING_WINDOW_STATE_UNSPECIFIED: ClearingWindowState
CLEARING_WINDOW_STATE_OPEN: ClearingWindowState
CLEARING_WINDOW_STATE_CLOSED: ClearingWindowState
CLEARING_VERDICT_UNSPECIFIED: ClearingVerdict
CLEARING_VERDICT_CONFIRMED: ClearingVerdict
CLEARING_VERDICT_DISPUTED: ClearingVerdict
CLEARING_LINE_KIND_UNSPECIFIED: ClearingLineKind
CLEARING_LINE_KIND_PAYMENT: ClearingLineKind
CLEARING_LINE_KIND_REFUND: ClearingLineKind
RECONCILIATION_RESULT_UNSPECIFIED: ReconciliationResult
RECONCILIATION_RESULT_MATCH: ReconciliationResult
RECONCILIATION_RESULT_MISMATCH: ReconciliationResult

class ClearingWindow(_message.Message):
    __slots__ = ("name", "state", "close_time", "closed_by", "line_count", "net_paid_fen")
    NAME_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    CLOSE_TIME_FIELD_NUMBER: _ClassVar[int]
    CLOSED_BY_FIELD_NUMBER: _ClassVar[int]
    LINE_COUNT_FIELD_NUMBER: _ClassVar[int]
    NET_PAID_FEN_FIELD_NUMBER: _ClassVar[int]
    name: str
    state: ClearingWindowState
    close_time: _timestamp_pb2.Timestamp
    closed_by: str
    line_count: int
    net_paid_fen: int
    def __init__(self, name: _Optional[str] = ..., state: _Optional[_Union[ClearingWindowState, str]] = ..., close_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., closed_by: _Optional[str] = ..., line_count: _Optional[int] = ..., net_paid_fen: _Optional[int] = ...) -> None: ...

class ListClearingWindowsRequest(_message.Message):
    __slots__ = ("page_size", "page_token")
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    page_size: int
    page_token: str
    def __init__(self, page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListClearingWindowsResponse(_message.Message):
    __slots__ = ("clearing_windows", "next_page_token")
    CLEARING_WINDOWS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    clearing_windows: _containers.RepeatedCompositeFieldContainer[ClearingWindow]
    next_page_token: str
    def __init__(self, clearing_windows: _Optional[_Iterable[_Union[ClearingWindow, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class CloseClearingWindowRequest(_message.Message):
    __slots__ = ("name", "request_id", "reason")
    NAME_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    name: str
    request_id: str
    reason: str
    def __init__(self, name: _Optional[str] = ..., request_id: _Optional[str] = ..., reason: _Optional[str] = ...) -> None: ...

class ClearingFigures(_message.Message):
    __slots__ = ("payable_count", "payable_fen", "payable_refund_count", "payable_refund_fen", "receivable_count", "receivable_fen", "receivable_refund_count", "receivable_refund_fen", "net_fen")
    PAYABLE_COUNT_FIELD_NUMBER: _ClassVar[int]
    PAYABLE_FEN_FIELD_NUMBER: _ClassVar[int]
    PAYABLE_REFUND_COUNT_FIELD_NUMBER: _ClassVar[int]
    PAYABLE_REFUND_FEN_FIELD_NUMBER: _ClassVar[int]
    RECEIVABLE_COUNT_FIELD_NUMBER: _ClassVar[int]
    RECEIVABLE_FEN_FIELD_NUMBER: _ClassVar[int]
    RECEIVABLE_REFUND_COUNT_FIELD_NUMBER: _ClassVar[int]
    RECEIVABLE_REFUND_FEN_FIELD_NUMBER: _ClassVar[int]
    NET_FEN_FIELD_NUMBER: _ClassVar[int]
    payable_count: int
    payable_fen: int
    payable_refund_count: int
    payable_refund_fen: int
    receivable_count: int
    receivable_fen: int
    receivable_refund_count: int
    receivable_refund_fen: int
    net_fen: int
    def __init__(self, payable_count: _Optional[int] = ..., payable_fen: _Optional[int] = ..., payable_refund_count: _Optional[int] = ..., payable_refund_fen: _Optional[int] = ..., receivable_count: _Optional[int] = ..., receivable_fen: _Optional[int] = ..., receivable_refund_count: _Optional[int] = ..., receivable_refund_fen: _Optional[int] = ..., net_fen: _Optional[int] = ...) -> None: ...

class ClearingCounterparty(_message.Message):
    __slots__ = ("region", "figures")
    REGION_FIELD_NUMBER: _ClassVar[int]
    FIGURES_FIELD_NUMBER: _ClassVar[int]
    region: str
    figures: ClearingFigures
    def __init__(self, region: _Optional[str] = ..., figures: _Optional[_Union[ClearingFigures, _Mapping]] = ...) -> None: ...

class ClearingConfirmation(_message.Message):
    __slots__ = ("verdict", "reason", "actor", "time")
    VERDICT_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    ACTOR_FIELD_NUMBER: _ClassVar[int]
    TIME_FIELD_NUMBER: _ClassVar[int]
    verdict: ClearingVerdict
    reason: str
    actor: str
    time: _timestamp_pb2.Timestamp
    def __init__(self, verdict: _Optional[_Union[ClearingVerdict, str]] = ..., reason: _Optional[str] = ..., actor: _Optional[str] = ..., time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class ClearingStatement(_message.Message):
    __slots__ = ("name", "clearing_window", "counterparties", "totals", "confirmations")
    NAME_FIELD_NUMBER: _ClassVar[int]
    CLEARING_WINDOW_FIELD_NUMBER: _ClassVar[int]
    COUNTERPARTIES_FIELD_NUMBER: _ClassVar[int]
    TOTALS_FIELD_NUMBER: _ClassVar[int]
    CONFIRMATIONS_FIELD_NUMBER: _ClassVar[int]
    name: str
    clearing_window: str
    counterparties: _containers.RepeatedCompositeFieldContainer[ClearingCounterparty]
    totals: ClearingFigures
    confirmations: _containers.RepeatedCompositeFieldContainer[ClearingConfirmation]
    def __init__(self, name: _Optional[str] = ..., clearing_window: _Optional[str] = ..., counterparties: _Optional[_Iterable[_Union[ClearingCounterparty, _Mapping]]] = ..., totals: _Optional[_Union[ClearingFigures, _Mapping]] = ..., confirmations: _Optional[_Iterable[_Union[ClearingConfirmation, _Mapping]]] = ...) -> None: ...

class GetClearingStatementRequest(_message.Message):
    __slots__ = ("name",)
    NAME_FIELD_NUMBER: _ClassVar[int]
    name: str
    def __init__(self, name: _Optional[str] = ...) -> None: ...

class ClearingLine(_message.Message):
    __slots__ = ("name", "kind", "payer_region", "payee_region", "amount_fen", "time")
    NAME_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    PAYER_REGION_FIELD_NUMBER: _ClassVar[int]
    PAYEE_REGION_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_FEN_FIELD_NUMBER: _ClassVar[int]
    TIME_FIELD_NUMBER: _ClassVar[int]
    name: str
    kind: ClearingLineKind
    payer_region: str
    payee_region: str
    amount_fen: int
    time: _timestamp_pb2.Timestamp
    def __init__(self, name: _Optional[str] = ..., kind: _Optional[_Union[ClearingLineKind, str]] = ..., payer_region: _Optional[str] = ..., payee_region: _Optional[str] = ..., amount_fen: _Optional[int] = ..., time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class ListClearingLinesRequest(_message.Message):
    __slots__ = ("parent", "page_size", "page_token")
    PARENT_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    parent: str
    page_size: int
    page_token: str
    def __init__(self, parent: _Optional[str] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListClearingLinesResponse(_message.Message):
    __slots__ = ("clearing_lines", "next_page_token")
    CLEARING_LINES_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    clearing_lines: _containers.RepeatedCompositeFieldContainer[ClearingLine]
    next_page_token: str
    def __init__(self, clearing_lines: _Optional[_Iterable[_Union[ClearingLine, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class ConfirmClearingStatementRequest(_message.Message):
    __slots__ = ("name", "request_id", "verdict", "reason")
    NAME_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    VERDICT_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    name: str
    request_id: str
    verdict: ClearingVerdict
    reason: str
    def __init__(self, name: _Optional[str] = ..., request_id: _Optional[str] = ..., verdict: _Optional[_Union[ClearingVerdict, str]] = ..., reason: _Optional[str] = ...) -> None: ...

class ReconcileClearingTotalsRequest(_message.Message):
    __slots__ = ("name", "totals")
    NAME_FIELD_NUMBER: _ClassVar[int]
    TOTALS_FIELD_NUMBER: _ClassVar[int]
    name: str
    totals: ClearingFigures
    def __init__(self, name: _Optional[str] = ..., totals: _Optional[_Union[ClearingFigures, _Mapping]] = ...) -> None: ...

class FigureDifference(_message.Message):
    __slots__ = ("figure", "gateway_value", "region_value")
    FIGURE_FIELD_NUMBER: _ClassVar[int]
    GATEWAY_VALUE_FIELD_NUMBER: _ClassVar[int]
    REGION_VALUE_FIELD_NUMBER: _ClassVar[int]
    figure: str
    gateway_value: int
    region_value: int
    def __init__(self, figure: _Optional[str] = ..., gateway_value: _Optional[int] = ..., region_value: _Optional[int] = ...) -> None: ...

class ReconcileClearingTotalsResponse(_message.Message):
    __slots__ = ("result", "gateway_totals", "differences")
    RESULT_FIELD_NUMBER: _ClassVar[int]
    GATEWAY_TOTALS_FIELD_NUMBER: _ClassVar[int]
    DIFFERENCES_FIELD_NUMBER: _ClassVar[int]
    result: ReconciliationResult
    gateway_totals: ClearingFigures
    differences: _containers.RepeatedCompositeFieldContainer[FigureDifference]
    def __init__(self, result: _Optional[_Union[ReconciliationResult, str]] = ..., gateway_totals: _Optional[_Union[ClearingFigures, _Mapping]] = ..., differences: _Optional[_Iterable[_Union[FigureDifference, _Mapping]]] = ...) -> None: ...

class ReconciledLine(_message.Message):
    __slots__ = ("name", "amount_fen")
    NAME_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_FEN_FIELD_NUMBER: _ClassVar[int]
    name: str
    amount_fen: int
    def __init__(self, name: _Optional[str] = ..., amount_fen: _Optional[int] = ...) -> None: ...

class ReconcileClearingLinesRequest(_message.Message):
    __slots__ = ("name", "lines")
    NAME_FIELD_NUMBER: _ClassVar[int]
    LINES_FIELD_NUMBER: _ClassVar[int]
    name: str
    lines: _containers.RepeatedCompositeFieldContainer[ReconciledLine]
    def __init__(self, name: _Optional[str] = ..., lines: _Optional[_Iterable[_Union[ReconciledLine, _Mapping]]] = ...) -> None: ...

class ReconcileClearingLinesPageRequest(_message.Message):
    __slots__ = ("name", "after", "lines", "last_page")
    NAME_FIELD_NUMBER: _ClassVar[int]
    AFTER_FIELD_NUMBER: _ClassVar[int]
    LINES_FIELD_NUMBER: _ClassVar[int]
    LAST_PAGE_FIELD_NUMBER: _ClassVar[int]
    name: str
    after: str
    lines: _containers.RepeatedCompositeFieldContainer[ReconciledLine]
    last_page: bool
    def __init__(self, name: _Optional[str] = ..., after: _Optional[str] = ..., lines: _Optional[_Iterable[_Union[ReconciledLine, _Mapping]]] = ..., last_page: _Optional[bool] = ...) -> None: ...

class AmountDifference(_message.Message):
    __slots__ = ("name", "gateway_amount_fen", "region_amount_fen")
    NAME_FIELD_NUMBER: _ClassVar[int]
    GATEWAY_AMOUNT_FEN_FIELD_NUMBER: _ClassVar[int]
    REGION_AMOUNT_FEN_FIELD_NUMBER: _ClassVar[int]
    name: str
    gateway_amount_fen: int
    region_amount_fen: int
    def __init__(self, name: _Optional[str] = ..., gateway_amount_fen: _Optional[int] = ..., region_amount_fen: _Optional[int] = ...) -> None: ...

class ReconcileClearingLinesResponse(_message.Message):
    __slots__ = ("result", "only_at_gateway", "only_at_region", "amounts_differ", "only_at_gateway_count", "only_at_region_count", "amounts_differ_count", "matched_count")
    RESULT_FIELD_NUMBER: _ClassVar[int]
    ONLY_AT_GATEWAY_FIELD_NUMBER: _ClassVar[int]
    ONLY_AT_REGION_FIELD_NUMBER: _ClassVar[int]
    AMOUNTS_DIFFER_FIELD_NUMBER: _ClassVar[int]
    ONLY_AT_GATEWAY_COUNT_FIELD_NUMBER: _ClassVar[int]
    ONLY_AT_REGION_COUNT_FIELD_NUMBER: _ClassVar[int]
    AMOUNTS_DIFFER_COUNT_FIELD_NUMBER: _ClassVar[int]
    MATCHED_COUNT_FIELD_NUMBER: _ClassVar[int]
    result: ReconciliationResult
    only_at_gateway: _containers.RepeatedCompositeFieldContainer[ReconciledLine]
    only_at_region: _containers.RepeatedCompositeFieldContainer[ReconciledLine]
    amounts_differ: _containers.RepeatedCompositeFieldContainer[AmountDifference]
    only_at_gateway_count: int
    only_at_region_count: int
    amounts_differ_count: int
    matched_count: int
    def __init__(self, result: _Optional[_Union[ReconciliationResult, str]] = ..., only_at_gateway: _Optional[_Iterable[_Union[ReconciledLine, _Mapping]]] = ..., only_at_region: _Optional[_Iterable[_Union[ReconciledLine, _Mapping]]] = ..., amounts_differ: _Optional[_Iterable[_Union[AmountDifference, _Mapping]]] = ..., only_at_gateway_count: _Optional[int] = ..., only_at_region_count: _Optional[int] = ..., amounts_differ_count: _Optional[int] = ..., matched_count: _Optional[int] = ...) -> None: ...
