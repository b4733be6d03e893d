"""Reference data kept per process: what is built from the catalog or the official calendar is
reused while their revision in the database is unchanged.

Triggers give a kind a new revision with every change to its tables (migration 0010), a random
UUID, so a revision is never given to two different contents. A transaction reads all the
revisions once, in one short query.
"""

from collections.abc import Callable, Hashable
from typing import Generic, TypeVar
from uuid import UUID

from sqlalchemy import text
from sqlalchemy.orm import Session

from service.db import transaction_cache

CATALOG = "catalog"
CALENDAR = "calendar"

_REVISIONS = text("SELECT name, revision FROM reference_revisions")
_READ = "tongban.revisions"

T = TypeVar("T")


def revision(session: Session, kind: str) -> UUID:
    """The revision of `kind` as this transaction first saw it."""
    known = transaction_cache(session, _READ)
    if not known:
        known.update(session.execute(_REVISIONS).all())
    return known[kind]


def changed_here(session: Session) -> None:
    """Call after this transaction changed reference data: its next read sees the new revision."""
    transaction_cache(session, _READ).clear()


class LatestBuilt(Generic[T]):
    """The last thing a process built from one kind of reference data, and what it was built
    for: the kind's revision and a key of the caller's (such as the day)."""

    def __init__(self, kind: str):
        self.kind = kind
        self._built_for: tuple | None = None
        self._value: T | None = None

    def get(self, session: Session, build: Callable[[], T], key: Hashable = None) -> T:
        """The value built for the current revision and `key`, building it if there is none."""
        wanted = (revision(session, self.kind), key)
        if self._built_for != wanted:
            value = build()
            # Recorded only once built, so a failed build leaves the earlier pair in place.
            self._built_for, self._value = wanted, value
        return self._value  # type: ignore[return-value]
