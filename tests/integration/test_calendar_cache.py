"""The working-day calendar is loaded once per transaction: a second count in the same
transaction reads nothing, a new transaction reads again, and an import in the transaction
is seen at once by the recount it triggers."""

from datetime import date

from sqlalchemy import event

from catalog.tabular import RawTable
from service.clocks.store import import_year, load_calendar

NEW_YEARS_DAY_2029 = date(2029, 1, 1)  # a Monday; no test imports 2029


def _statements(engine):
    seen = []

    def keep(_conn, _cursor, statement, *_args):
        seen.append(statement)

    event.listen(engine, "before_cursor_execute", keep)
    return seen, lambda: event.remove(engine, "before_cursor_execute", keep)


def test_one_load_per_transaction(db):
    seen, stop = _statements(db.get_bind())
    try:
        first = load_calendar(db)
        loaded = len(seen)
        assert load_calendar(db) is first and len(seen) == loaded
        db.rollback()
        assert load_calendar(db) is not first and len(seen) > loaded
    finally:
        stop()
        db.rollback()


def test_an_import_is_counted_with_in_the_same_transaction(db):
    assert load_calendar(db).is_workday(NEW_YEARS_DAY_2029)
    table = RawTable(
        headers=["日期", "类型", "名称"],
        rows=[(2, {"日期": "2029-01-01", "类型": "放假", "名称": "元旦"})],
    )
    try:
        import_year(db, 2029, table, by="test", source="test.csv")
        calendar = load_calendar(db)
        assert calendar.knows(NEW_YEARS_DAY_2029)
        assert not calendar.is_workday(NEW_YEARS_DAY_2029)
    finally:
        db.rollback()  # 2029 stays unknown for every other test
