"""What intake reads from the catalog, kept per process for one catalog revision and one day.

Each application needs its item's version in force, the districts, the agreements that may
cover it and the one that does: six queries whose answers stay the same until an admin changes
the catalog. They are read once per (revision, day), in a session of their own on the
request's connection (so they are what the request's transaction sees), and the ORM rows are
handed to the request's session with merge(load=False), which copies them without a query.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import TypeVar

from sqlalchemy.orm import Session

from catalog.models import Agreement, ItemVersion
from catalog.repository import agreements_of, district_codes, version_in_force
from catalog.routing import AgreementTerms
from service.reference import CATALOG, LatestBuilt, still_current


@dataclass
class _Snapshot:
    districts: frozenset[str]
    versions: dict[str, ItemVersion] = field(default_factory=dict)
    terms: dict[tuple[str, str], list[AgreementTerms]] = field(default_factory=dict)
    agreements: dict[int, Agreement] = field(default_factory=dict)


_latest: LatestBuilt[_Snapshot] = LatestBuilt(CATALOG)

T = TypeVar("T")


class _Reader:
    """A session of its own on `session`'s connection: what it loads is detached, not expired,
    when it closes, and the request's rollback cannot touch the cached rows."""

    def __init__(self, session: Session):
        self._session = Session(bind=session.connection())

    def __enter__(self) -> Session:
        return self._session

    def __exit__(self, *_exc) -> None:
        self._session.close()


def _read_through(session: Session, kept: dict, key, read: Callable[[Session], T]) -> T | None:
    """`kept[key]`, or what `read` finds in a session of its own, kept unless it is None (codes
    sent at random must not grow the process) or the catalog changed meanwhile."""
    value = kept.get(key)
    if value is None:
        with _Reader(session) as reader:
            value = read(reader)
        if value is not None and still_current(session, CATALOG):
            kept[key] = value
    return value


def _snapshot(session: Session, day: date) -> _Snapshot:
    def build() -> _Snapshot:
        with _Reader(session) as reader:
            return _Snapshot(frozenset(district_codes(reader)))

    return _latest.get(session, build, key=day)


def known_districts(session: Session, day: date) -> frozenset[str]:
    """Every district code in the catalog."""
    return _snapshot(session, day).districts


def item_in_force(session: Session, basic_code: str, day: date) -> ItemVersion | None:
    """The item's version in force on `day`, in `session`; None if there is none."""
    version = _read_through(
        session,
        _snapshot(session, day).versions,
        basic_code,
        lambda reader: version_in_force(reader, basic_code, day),
    )
    return version and session.merge(version, load=False)


def terms_for(session: Session, district: str, basic_code: str, day: date) -> list[AgreementTerms]:
    """The district's agreements, each with the item's code among its items if it covers it."""
    return _read_through(
        session,
        _snapshot(session, day).terms,
        (district, basic_code),
        lambda reader: agreements_of(reader, district, basic_code),
    )


def agreement(session: Session, agreement_id: int, day: date) -> Agreement:
    """The agreement row, in `session`."""
    row = _read_through(
        session,
        _snapshot(session, day).agreements,
        agreement_id,
        lambda reader: reader.get(Agreement, agreement_id),
    )
    return session.merge(row, load=False)
