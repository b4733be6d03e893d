"""Intake keeps what it reads of the catalog per process, for the catalog's revision, and
answers a new case from what it wrote: a second application reads no catalog table and nothing
back, its answer is what reading the case gives, an admin's committed change is seen by the
next application, and a revision given to a change that was rolled back is never given again."""

import re
from datetime import timedelta

from sqlalchemy import delete, insert, select, update

from catalog.models import Agreement, District, Item, agreement_items
from service.clock import local_today
from service.reference import CATALOG, changed_here, revision
from tests.helpers import SOCIAL_SECURITY_CARD, application, read_case, statements_sent, submit

CATALOG_TABLES = re.compile(
    r"\b(FROM|JOIN) (items|item_versions|agreements|agreement_items|agreement_districts"
    r"|districts)\b"
)


def test_a_second_application_reads_no_catalog_table_and_nothing_back(app, client, terminal):
    fm = terminal("FM-01")
    assert submit(client, fm, application()).status_code == 201
    with statements_sent(app.extensions["tongban.db"].engine) as seen:
        response = submit(client, fm, application())
    assert response.status_code == 201, response.get_json()
    assert [s for s in seen if CATALOG_TABLES.search(s)] == []
    assert any("reference_revisions" in s for s in seen)
    reads = [s for s in seen if s.lstrip().startswith("SELECT")]
    # The credential, the Idempotency-Key, the revisions and the district's connector: no
    # timeline, deadline, rating, mailing or center is read back for the answer.
    assert len(reads) == 4, reads


def test_the_answer_to_a_new_case_is_what_reading_it_gives(client, terminal):
    fm = terminal("FM-01")
    promised = (local_today() + timedelta(days=5)).isoformat()
    body = application(
        materials=[{"code": "M01"}, {"code": "M03"}],
        deferred_materials=[{"code": "M04", "promised_by": promised}],
        result_delivery="mail",
    )
    response = submit(client, fm, body)
    assert response.status_code == 201, response.get_json()
    answered = response.get_json()
    assert answered["deadlines"] and answered["timeline"]
    # The one difference: the citizen's query code, given to the accepting window only here.
    assert answered.pop("query_code")
    assert answered == read_case(client, fm, answered["case_no"])


def _covering(db) -> tuple[int, int]:
    """(agreement id, item id) of 五华–富民's cover of the social security card."""
    return db.execute(
        select(agreement_items.c.agreement_id, agreement_items.c.item_id)
        .join(Item, Item.id == agreement_items.c.item_id)
        .join(Agreement, Agreement.id == agreement_items.c.agreement_id)
        .where(Item.basic_code == SOCIAL_SECURITY_CARD, Agreement.code == "KM-WH-FM-2022")
    ).one()


def test_a_catalog_change_committed_elsewhere_is_seen_by_the_next_application(client, terminal, db):
    fm = terminal("FM-01")
    assert submit(client, fm, application()).status_code == 201
    agreement_id, item_id = _covering(db)
    db.execute(
        delete(agreement_items).where(
            agreement_items.c.agreement_id == agreement_id, agreement_items.c.item_id == item_id
        )
    )
    db.commit()
    try:
        refused = submit(client, fm, application())
        assert refused.status_code == 422
        assert refused.get_json()["type"].endswith("/item-not-covered")
    finally:
        db.execute(insert(agreement_items).values(agreement_id=agreement_id, item_id=item_id))
        db.commit()
    assert submit(client, fm, application()).status_code == 201  # and its return, too


def test_a_revision_is_never_given_to_two_contents(db, migrated):
    touch = update(District).where(District.code == "530102").values(name=District.name)
    before = revision(db, CATALOG)
    db.execute(touch)
    changed_here(db)
    rolled_back = revision(db, CATALOG)
    db.rollback()
    assert rolled_back != before
    assert revision(db, CATALOG) == before  # the change is gone, and its revision with it
    db.rollback()
    with migrated.sessionmaker() as other:
        other.execute(touch)
        other.commit()
    committed = revision(db, CATALOG)
    db.rollback()
    assert committed not in (before, rolled_back)
