"""The working-day calendar is loaded once per transaction and built once per process: a second
count in the same transaction reads nothing, a new transaction only checks the stored
calendar's revision, an import committed elsewhere is seen by the next transaction, and an
import in the transaction is seen at once by the recount it triggers."""

from datetime import date

from sqlalchemy import delete

from catalog.tabular import RawTable
from service.clocks.models import CalendarDay, CalendarYear
from service.clocks.store import import_year, load_calendar
from tests.helpers import statements_sent

NEW_YEARS_DAY_2029 = date(2029, 1, 1)  # a Monday; no test imports 2029
NEW_YEARS_DAY_2030 = date(2030, 1, 7)  # a Monday, made a holiday here and removed after


def _new_years_day(year: int) -> RawTable:
    day = (NEW_YEARS_DAY_2030 if year == 2030 else NEW_YEARS_DAY_2029).isoformat()
    return RawTable(
        headers=["日期", "类型", "名称"], rows=[(2, {"日期": day, "类型": "放假", "名称": "元旦"})]
    )


def test_one_load_per_transaction(db):
    try:
        with statements_sent(db.get_bind()) as seen:
            first = load_calendar(db)
            loaded = len(seen)
            assert load_calendar(db) is first and len(seen) == loaded
            db.rollback()
            assert load_calendar(db) is first and len(seen) == loaded + 1  # the revisions only
            assert "reference_revisions" in seen[-1]
    finally:
        db.rollback()


def test_an_import_committed_elsewhere_is_seen_by_the_next_transaction(db, migrated):
    before = load_calendar(db)
    assert before.is_workday(NEW_YEARS_DAY_2030)
    db.rollback()
    with migrated.sessionmaker() as other:
        import_year(other, 2030, _new_years_day(2030), by="test", source="test.csv")
        other.commit()
    try:
        after = load_calendar(db)
        assert after is not before and not after.is_workday(NEW_YEARS_DAY_2030)
    finally:
        db.rollback()
        with migrated.sessionmaker() as other:
            other.execute(delete(CalendarDay).where(CalendarDay.year == 2030))
            other.execute(delete(CalendarYear).where(CalendarYear.year == 2030))
            other.commit()
    assert load_calendar(db).is_workday(NEW_YEARS_DAY_2030)  # and its removal, too
    db.rollback()


def test_an_import_is_counted_with_in_the_same_transaction(db):
    assert load_calendar(db).is_workday(NEW_YEARS_DAY_2029)
    try:
        import_year(db, 2029, _new_years_day(2029), by="test", source="test.csv")
        calendar = load_calendar(db)
        assert calendar.knows(NEW_YEARS_DAY_2029)
        assert not calendar.is_workday(NEW_YEARS_DAY_2029)
    finally:
        db.rollback()  # 2029 stays unknown for every other test
