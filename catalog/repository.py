"""Catalog reads shaped for routing and for the window."""

from datetime import date

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import distinct_on
from sqlalchemy.orm import Session, aliased, contains_eager, selectinload

from catalog.models import Agreement, District, Item, ItemVersion, agreement_districts
from catalog.routing import AgreementTerms


def agreements_of(session: Session, district_code: str | None) -> list[AgreementTerms]:
    """Every agreement the district is party to (all if None), in force or not, as terms."""
    query = select(Agreement).options(
        selectinload(Agreement.districts), selectinload(Agreement.items)
    )
    if district_code is not None:
        query = query.join(agreement_districts).where(
            agreement_districts.c.district_code == district_code
        )
    return [
        AgreementTerms(
            id=a.id,
            code=a.code,
            name=a.name,
            districts=frozenset(d.code for d in a.districts),
            item_codes=frozenset(i.basic_code for i in a.items),
            effective_from=a.effective_from,
            effective_to=a.effective_to,
            status=a.status,
        )
        for a in session.scalars(query)
    ]


def _newest_first(query):
    return query.order_by(ItemVersion.effective_from.desc(), ItemVersion.version_no.desc())


def _one_per_item(query):
    # DISTINCT ON keeps the first row per item in this order: the newest version.
    return query.ext(distinct_on(ItemVersion.item_id)).order_by(
        ItemVersion.item_id, ItemVersion.effective_from.desc(), ItemVersion.version_no.desc()
    )


def version_in_force(session: Session, basic_code: str, day: date) -> ItemVersion | None:
    """The item's version in force on `day`; None if the item is unknown or not yet in force."""
    query = (
        select(ItemVersion)
        .join(Item)
        .options(contains_eager(ItemVersion.item))
        .where(Item.basic_code == basic_code, ItemVersion.effective_from <= day)
    )
    return session.scalar(_newest_first(query).limit(1))


def versions_in_force(day: date) -> type[ItemVersion]:
    """ItemVersion aliased over the versions in force on `day`, one row per item, for queries."""
    in_force = _one_per_item(select(ItemVersion).where(ItemVersion.effective_from <= day))
    in_force = in_force.subquery("in_force")
    return aliased(ItemVersion, in_force)


def latest_versions(
    session: Session, item_ids: list[int], on: date | None = None
) -> dict[int, ItemVersion]:
    """Each item's newest version (the one a change must follow), or the one in force `on`."""
    query = select(ItemVersion).where(ItemVersion.item_id.in_(item_ids))
    if on is not None:
        query = query.where(ItemVersion.effective_from <= on)
    query = _one_per_item(query)
    return {v.item_id: v for v in session.scalars(query)}


def district_codes(session: Session) -> set[str]:
    return set(session.scalars(select(District.code)))
