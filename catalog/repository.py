"""Catalog reads shaped for routing and for the window."""

from collections import defaultdict
from datetime import date

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import distinct_on
from sqlalchemy.orm import Session, aliased, contains_eager, selectinload

from catalog.models import (
    Agreement,
    District,
    Item,
    ItemVersion,
    agreement_districts,
    agreement_items,
)
from catalog.routing import AgreementTerms


def agreements_of(
    session: Session, district_code: str | None, item_code: str | None = None
) -> list[AgreementTerms]:
    """Every agreement the district is party to (all if None), in force or not, as terms.

    With `item_code`, each agreement's item codes are only that one (when it covers it): all
    that routing one application needs, without reading every agreement's item list.
    """
    query = select(Agreement).options(selectinload(Agreement.districts))
    if district_code is not None:
        query = query.join(agreement_districts).where(
            agreement_districts.c.district_code == district_code
        )
    agreements = session.scalars(query).all()
    # Only the items' codes: intake asks this on every application, and loading each of an
    # agreement's hundreds of items as a whole row cost more than the rest of routing.
    codes: dict[int, set[str]] = defaultdict(set)
    if agreements:
        query = (
            select(agreement_items.c.agreement_id, Item.basic_code)
            .join(Item, Item.id == agreement_items.c.item_id)
            .where(agreement_items.c.agreement_id.in_([a.id for a in agreements]))
        )
        if item_code is not None:
            query = query.where(Item.basic_code == item_code)
        for agreement_id, basic_code in session.execute(query):
            codes[agreement_id].add(basic_code)
    return [
        AgreementTerms(
            id=a.id,
            code=a.code,
            name=a.name,
            districts=frozenset(d.code for d in a.districts),
            item_codes=frozenset(codes[a.id]),
            effective_from=a.effective_from,
            effective_to=a.effective_to,
            status=a.status,
        )
        for a in agreements
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


def item_names(session: Session, basic_codes: list[str], on: date) -> dict[str, str]:
    """Each item's name as its version in force `on` gives it."""
    version = versions_in_force(on)
    rows = session.execute(
        select(Item.basic_code, version.name)
        .join(version, version.item_id == Item.id)
        .where(Item.basic_code.in_(basic_codes))
    )
    return dict(rows.all())


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
