"""Agreement terms for routing: every item's code, read in a fixed number of queries (intake
asks on every application, so the cost must not grow with an agreement's hundreds of items)."""

from sqlalchemy import text

from catalog.repository import agreements_of
from tests.helpers import statements_sent


def test_terms_name_every_item_and_district_in_three_queries(db, engine):
    with statements_sent(engine) as statements:
        terms = agreements_of(db, "530124")
    assert len(statements) <= 3
    # Codes only: whole item rows (as ORM objects) for every item are what made intake slow.
    assert not any("items.created_at" in s for s in statements)
    with engine.connect() as conn:
        expected = {
            agreement_id: set(codes)
            for agreement_id, codes in conn.execute(
                text(
                    "SELECT ai.agreement_id, array_agg(i.basic_code) FROM agreement_items ai"
                    " JOIN items i ON i.id = ai.item_id JOIN agreement_districts d"
                    " ON d.agreement_id = ai.agreement_id AND d.district_code = '530124'"
                    " GROUP BY ai.agreement_id"
                )
            )
        }
    assert expected and {t.id: set(t.item_codes) for t in terms} == expected
    assert all("530124" in t.districts and len(t.districts) >= 2 for t in terms)


def test_terms_for_one_item_name_only_that_item_where_it_is_covered(db):
    every = agreements_of(db, "530124")
    covered = next(iter(every[0].item_codes))
    narrowed = {t.id: t.item_codes for t in agreements_of(db, "530124", covered)}
    assert narrowed == {
        t.id: frozenset({covered}) if covered in t.item_codes else frozenset() for t in every
    }
    assert not any(t.item_codes for t in agreements_of(db, "530124", "A99999999999"))
