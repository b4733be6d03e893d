"""One test, one transaction: rule tests run on a connection whose outer transaction is rolled
back at the end, so they leave nothing behind and need no worker.

The code under test commits as usual; each of its sessions joins the connection's outer
transaction through a SAVEPOINT (SQLAlchemy 2's `join_transaction_mode="create_savepoint"`), so
constraints, triggers, row locks and the rollback of a failed step behave as in production,
while the test's rollback undoes everything. pypi/warehouse's `db_session` fixture is the model.

Everything such a test does must go through that one connection: the app's sessions (the
`tongban.db` extension is replaced), deliveries applied in-process (`deliver_inline`) and the
helpers that read with `engine.connect()` (`RolledBack` answers it). Another connection would
not see the test's rows. Tests of locking between sessions, of the worker or the broker need
real transactions and stay in the `slow` suite.
"""

from collections.abc import Iterable
from contextlib import nullcontext

from sqlalchemy import Connection
from sqlalchemy.orm import sessionmaker


class RolledBack:
    """Stands in for `service.db.Database` (and for an engine, in the helpers): every session
    and every read goes through one connection, inside a transaction the test rolls back."""

    def __init__(self, connection: Connection):
        self.connection = connection
        self.sessionmaker = sessionmaker(
            bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False
        )

    @property
    def engine(self) -> "RolledBack":
        return self

    def connect(self):
        """The test's connection, left open when the `with` block ends."""
        return nullcontext(self.connection)


class RecordingPublisher:
    """Stands in for `service.outbox.publisher.Publisher`: keeps what would have been sent.

    Rows of a rolled-back test must not reach the broker, where a worker of another module
    would take their ids for rows that never existed; the outbox rows themselves are what a
    rule test checks, and `deliver_inline` applies them."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, str]] = []

    def publish(self, messages: Iterable, *, one_by_one: bool = False) -> int:
        batch = [(m.task, str(m.id)) for m in messages]
        self.sent += batch
        return len(batch)

    def drain(self, queue: str) -> bool:
        return True

    def drain_started(self, queue: str) -> None:
        pass
