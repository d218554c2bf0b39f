"""Exactly-once mutations (AIP-155).

The caller's ``(principal, request_id)`` is stored with a fingerprint of the
request and its answer, in the same transaction as the change, so a retry
after a lost answer, or after a restart, gets the first answer back, and a
reused id with different content is refused (REQUEST_ID_REUSED).

A refusal is an answer too, and it is stored like one: the work's changes are
rolled back, and the refusal is kept under the request id in a transaction of
its own. A retry of a refused request gets the same refusal, even if what
caused it has changed since; to try again, send a new request_id. Why: the
caller may already have acted on the refusal (told the patient to pay cash);
if a retry could be paid, the same bill would be paid twice.

Copies of one request that race (a province's retries, on one gateway process
or several) all get the one answer that was stored first: a copy that finds
an answer replays it; a copy whose own answer meets one stored meanwhile (a
unique key on ``(caller, request_id)``) is rolled back and retried, and then
finds and replays it. So a copy can never answer INSUFFICIENT_BALANCE because
another copy of the same request spent the balance.

Not stored, because nothing ran: malformed input (INVALID_ARGUMENT, checked
before the database is asked), a refusal of the caller's identity, and
UNAVAILABLE (the database kept nothing; retry as it is).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Callable, TypeVar

from gateway.domain.errors import Category, FieldViolation, Refusal
from gateway.service.ports import Ahead, Conflict, PriorAnswer, UnitOfWork, UnitOfWorkFactory

T = TypeVar("T")
RETRIES = 5


@dataclass(frozen=True)
class RequestKey:
    caller: str
    request_id: str
    fingerprint: str
    unkeyed: str = ""  # the fingerprint as versions before keyed digests stored it; matched on replay only


def run_once(uow_factory: UnitOfWorkFactory, key: RequestKey, work: Callable[[UnitOfWork], T],
             render: Callable[[T], bytes],
             on_refusal: Callable[[UnitOfWork, Refusal], None] | None = None, ahead: Ahead = Ahead()) -> bytes:
    """Runs ``work`` once per request key and returns the rendered answer, or raises the
    refusal. ``on_refusal`` records what a refusal must leave behind (R8), once per request.
    ``ahead``: what ``work`` will read, asked for with the request log's answer."""
    for attempt in range(RETRIES):
        try:
            with uow_factory() as uow:
                uow.read_ahead(replace(ahead, request=(key.caller, key.request_id)))
                prior = uow.requests.find(key.caller, key.request_id)
                if prior is not None:
                    return _replay(prior, key)
                try:
                    answer = render(work(uow))
                except Refusal as refusal:
                    refused = refusal  # leaving the block rolls the work back
                else:
                    uow.requests.add(key.caller, key.request_id, PriorAnswer(key.fingerprint, answer))
                    uow.commit()
                    return answer
            with uow_factory() as uow:
                uow.requests.add(key.caller, key.request_id,
                                 PriorAnswer(key.fingerprint, refused.to_json(), refused=True))
                if on_refusal is not None:
                    on_refusal(uow, refused)
                uow.commit()
            raise refused
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
    if prior.fingerprint not in (key.fingerprint, key.unkeyed or key.fingerprint):
        raise Refusal(Category.INVALID_ARGUMENT, "REQUEST_ID_REUSED",
                      f"request_id {key.request_id} was already used for a different request",
                      metadata={"request_id": key.request_id},
                      violations=(FieldViolation("request_id", "already used with different content; "
                                                 "use a new request_id for a new request"),))
    if prior.refused:
        raise Refusal.from_json(prior.response)
    return prior.response
