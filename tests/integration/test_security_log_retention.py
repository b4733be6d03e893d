"""The security log's retention: old entries go by the purge path only, and nothing younger
than 180 days can go, whatever the setting or the statement."""

import pytest
from sqlalchemy import text

from tests.integration.test_security_log import entries


def _old_entry(session, days: int) -> int:
    return session.scalar(
        text(
            "INSERT INTO security_events (occurred_at, action, target_type, target, outcome)"
            " VALUES (now() - make_interval(days => :d), 'login', 'staff', 'retention-test',"
            " 'ok') RETURNING id"
        ),
        {"d": days},
    )


def test_old_entries_go_and_recent_ones_cannot(migrated, engine):
    from service.audit.retention import RetentionTooShort, purge, retention_days

    with migrated.sessionmaker() as session:
        very_old, old, recent = (_old_entry(session, d) for d in (400, 200, 170))
        session.commit()
        assert purge(session, 365) >= 1

        def left() -> set[int]:
            ids = session.scalars(
                text("SELECT id FROM security_events WHERE id IN (:a, :b, :c)"),
                {"a": very_old, "b": old, "c": recent},
            )
            return set(ids)

        assert left() == {old, recent}
        assert purge(session, 180) >= 1
        assert left() == {recent}
        logged = entries(engine, "security_log.purge")[-1]
        assert logged["details"]["retention_days"] == 180
        assert logged["actor_kind"] == "system" and logged["details"]["deleted"] >= 1
        with pytest.raises(RetentionTooShort):
            purge(session, 179)

    # Even the purge path refuses a cut-off closer than 180 days: the floor is in the database.
    for cut_off in ("now()", "now() - interval '169 days'"):  # the row is 170 days old
        with engine.connect() as conn, pytest.raises(Exception, match="append-only"):
            conn.execute(
                text(
                    "SELECT set_config('tongban.security_log_purge_before',"
                    f" ({cut_off})::text, true)"
                )
            )
            conn.execute(text("DELETE FROM security_events WHERE id = :id"), {"id": recent})
    with engine.connect() as conn, pytest.raises(Exception, match="append-only"):
        conn.execute(
            text(
                "SELECT set_config('tongban.security_log_purge_before',"
                " (now() - interval '1000 days')::text, true)"
            )
        )
        conn.execute(
            text("UPDATE security_events SET outcome = 'failed' WHERE id = :id"), {"id": recent}
        )
    with engine.connect() as conn:
        kept = text("SELECT count(*) FROM security_events WHERE id = :id")
        assert conn.scalar(kept, {"id": recent}) == 1

    assert retention_days({}) == 180
    assert retention_days({"TONGBAN_SECURITY_LOG_RETENTION_DAYS": "400"}) == 400
    for bad in ("90", "179", "half a year"):
        with pytest.raises(RetentionTooShort):
            retention_days({"TONGBAN_SECURITY_LOG_RETENTION_DAYS": bad})
