"""Exactly-once mutations (AIP-155).

The caller's ``(principal, request_id)`` is stored with a fingerprint of the
request and the rendered answer in the same transaction as the change, so a
retry after a lost answer, or after a restart, gets the first answer back, and
a reused id with different content is refused. Refusals are not stored: a
refused request changed nothing and may be retried as it is.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, TypeVar

from gateway.domain.errors import Category, FieldViolation, Refusal
from gateway.service.ports import Conflict, PriorAnswer, UnitOfWork, UnitOfWorkFactory

T = TypeVar("T")
RETRIES = 5


@dataclass(frozen=True)
class RequestKey:
    caller: str
    request_id: str
    fingerprint: str


def run_once(uow_factory: UnitOfWorkFactory, key: RequestKey, work: Callable[[UnitOfWork], T],
             render: Callable[[T], bytes]) -> bytes:
    """Runs ``work`` once per request key and returns the rendered answer."""
    for attempt in range(RETRIES):
        try:
            with uow_factory() as uow:
                prior = uow.requests.find(key.caller, key.request_id)
                if prior is not None:
                    return _replay(prior, key)
                answer = render(work(uow))
                uow.requests.add(key.caller, key.request_id, PriorAnswer(key.fingerprint, answer))
                uow.commit()
                return answer
        except Conflict:
            if attempt == RETRIES - 1:
                raise
    raise AssertionError("unreachable")


def in_transaction(uow_factory: UnitOfWorkFactory, work: Callable[[UnitOfWork], T], readonly: bool = False) -> T:
    """Runs ``work`` in one transaction, retrying when a concurrent one won a race."""
    for attempt in range(RETRIES):
        try:
            with uow_factory(readonly=readonly) as uow:
                result = work(uow)
                uow.commit()
                return result
        except Conflict:
            if attempt == RETRIES - 1:
                raise
    raise AssertionError("unreachable")


def _replay(prior: PriorAnswer, key: RequestKey) -> bytes:
    if prior.fingerprint != key.fingerprint:
        raise Refusal(Category.INVALID_ARGUMENT, "REQUEST_ID_REUSED",
                      f"request_id {key.request_id} was already used for a different request",
                      metadata={"request_id": key.request_id},
                      violations=(FieldViolation("request_id", "already used with different content; "
                                                 "use a new request_id for a new request"),))
    return prior.response
