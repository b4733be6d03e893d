"""Catalog reads shaped for routing and for the window."""

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from catalog.models import Agreement, District, Item, agreement_districts
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


def item_by_code(session: Session, basic_code: str) -> Item | None:
    return session.scalar(select(Item).where(Item.basic_code == basic_code))


def items_by_code(session: Session, codes: set[str]) -> dict[str, Item]:
    return {
        i.basic_code: i for i in session.scalars(select(Item).where(Item.basic_code.in_(codes)))
    }


def district_codes(session: Session) -> set[str]:
    return set(session.scalars(select(District.code)))
