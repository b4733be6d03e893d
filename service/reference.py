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
_REVISION = text("SELECT revision FROM reference_revisions WHERE name = :kind")
_READ = "tongban.revisions"

T = TypeVar("T")


def revision(session: Session, kind: str) -> UUID:
    """The revision of `kind` as this transaction first saw it."""
    known = transaction_cache(session, _READ)
    if not known:
        known.update(session.execute(_REVISIONS).all())
    return known[kind]


def still_current(session: Session, kind: str) -> bool:
    """Whether `kind` still has the revision this transaction first saw. Ask after reading
    what is to be kept under that revision: under READ COMMITTED a change committed in between
    would otherwise be kept under the revision before it."""
    return session.scalar(_REVISION, {"kind": kind}) == revision(session, kind)


def changed_here(session: Session) -> None:
    """Call after this transaction changed reference data: its next read sees the new revision."""
    transaction_cache(session, _READ).clear()


class LatestBuilt(Generic[T]):
    """The last thing a process built from one kind of reference data, with what it was built
    for: the kind's revision and a key of the caller's (such as the day)."""

    def __init__(self, kind: str):
        self.kind = kind
        # One attribute, read once: threads sharing the object never pair one entry's key
        # with another's value.
        self._entry: tuple[tuple, T] | None = None

    def get(self, session: Session, build: Callable[[], T], key: Hashable = None) -> T:
        """The value built for the current revision and `key`, building it if there is none."""
        wanted = (revision(session, self.kind), key)
        entry = self._entry
        if entry is not None and entry[0] == wanted:
            return entry[1]
        value = build()
        if still_current(session, self.kind):
            self._entry = (wanted, value)
        return value
