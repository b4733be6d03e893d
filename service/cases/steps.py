"""The step runner: the one way a case changes.

A unit of work is one transaction. Inside it a step locks its case, checks the version the
client read, asks the pure lifecycle (or its own `*_refused` rule), and records a typed event
with `record()`. Recording hands the event to the handlers other packages registered: clocks
move, news is written or queued, deliveries are queued, each in the same transaction. The
unit of work then commits, and only after the commit publishes the outbox rows the handlers
wrote: a publish that is lost is found again by the relay, a publish never announces a row that
was rolled back.

Service functions take the unit of work and flush, never commit. Handlers are registered by
`service.wiring.install()` (cosmicpython's message bus, indico's signals), so this package
imports none of its subscribers: clocks, materials, districts and ratings import `cases`, never
the other way round. A unit of work refuses to record before the handlers are installed: a
step whose clocks or news silently did not happen is worse than a step refused.
"""

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from types import TracebackType
from typing import Any, Protocol

from sqlalchemy.orm import Session

from service.cases.events import EventType
from service.cases.models import Case, CaseEvent
from service.cases.timeline import CURRENT, Actor, append_event
from service.outbox.models import OutboxMessage
from service.outbox.policy import DeliveryPolicy


class Publishes(Protocol):
    def publish(self, messages: Iterable[OutboxMessage]) -> object: ...


# Before the event is written: may refuse the step (raise a DomainError) or add to what the
# event records (returns the keys to add). After it is written: moves whatever the event moves.
Prepare = Callable[["UnitOfWork", Case, datetime, dict[str, Any]], dict[str, Any] | None]
React = Callable[["UnitOfWork", Case, CaseEvent], None]


@dataclass
class Handlers:
    """Who reacts to which event, in the order they were registered."""

    prepare: dict[EventType, list[Prepare]] = field(default_factory=lambda: defaultdict(list))
    react: list[tuple[frozenset[EventType] | None, React]] = field(default_factory=list)
    installed: bool = False

    def before(self, *types: EventType) -> Callable[[Prepare], Prepare]:
        """Register a check or enrichment that runs before an event of these types is written."""

        def register(prepare: Prepare) -> Prepare:
            for type_ in types:
                self.prepare[type_].append(prepare)
            return prepare

        return register

    def after(self, *types: EventType) -> Callable[[React], React]:
        """Register a reaction to events of these types (to every event when none is named)."""

        def register(react: React) -> React:
            self.react.append((frozenset(types) or None, react))
            return react

        return register


HANDLERS = Handlers()


class HandlersMissing(RuntimeError):
    """A case was about to change with nobody listening: `service.wiring.install()` not run."""


class UnitOfWork:
    """One transaction of changes to cases; commits, then publishes what its steps queued.

    Use it as a context manager (commits when the block ends without an exception, rolls back
    otherwise), or, inside a worker's own transaction, without one: the worker commits and
    publishes `outbox` itself (`service.outbox.processing.process`).
    """

    def __init__(
        self,
        session: Session,
        policy: DeliveryPolicy,
        publisher: Publishes | None = None,
        handlers: Handlers = HANDLERS,
    ):
        self.session = session
        self.policy = policy
        self.publisher = publisher
        self.handlers = handlers
        self.outbox: list[OutboxMessage] = []

    def __enter__(self) -> "UnitOfWork":
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc_type is None:
            self.commit()
        else:
            self.session.rollback()

    def queue(self, messages: Iterable[OutboxMessage]) -> None:
        """Outbox rows written in this transaction, to publish once it has committed."""
        self.outbox.extend(messages)

    def commit(self) -> None:
        """Commit, then publish the rows queued meanwhile (in that order, always)."""
        self.session.commit()
        messages, self.outbox = self.outbox, []
        if self.publisher is not None and messages:
            self.publisher.publish(messages)

    def record(
        self,
        case: Case,
        type: EventType,
        *,
        actor: Actor,
        at: datetime,
        status_to: str | None = None,
        status_from: str | object | None = CURRENT,
        reason: str | None = None,
        data: dict[str, Any] | None = None,
    ) -> CaseEvent:
        """Append a typed event to the locked case and hand it to every handler registered
        for its type. With `status_to` the case moves (its status, its `updated_at`, so its
        version); without, the event only records work on it (a download must not make a
        colleague's open form stale)."""
        if not self.handlers.installed:
            raise HandlersMissing("service.wiring.install() has not run in this process")
        type = EventType(type)
        recorded = dict(data or {})
        for prepare in self.handlers.prepare.get(type, ()):
            recorded |= prepare(self, case, at, recorded) or {}
        event = append_event(
            self.session,
            case,
            type=type,
            status_to=case.status if status_to is None else status_to,
            status_from=status_from,
            actor=actor,
            at=at,
            reason=reason,
            data=recorded,
        )
        if status_to is not None:
            case.status, case.updated_at = status_to, at
        for types, react in self.handlers.react:
            if types is None or type in types:
                react(self, case, event)
        return event
