"""Synthetic cases for benchmarks: a year of plausible traffic, generated inside PostgreSQL.

    .venv/bin/python -m bench.synthetic --cases 1000000      # into DATABASE_URL or embedded

Cases are spread over the 12 months before `--until`, between the demo centers of 五华, 富民,
西山 and 安宁, over the sample catalog's items. Each case gets the timeline its fate needs:
received, then accepted (92 %), rejected (5 %) or withdrawn (3 %), a supplement request for
one in ten, completion for accepted ones older than 20 days (one in fifty late), and the
completion deadline. The
figures are deterministic for a given size: every choice is a function of the case id.
Personal fields hold placeholder bytes: nothing here is anyone's data.
"""

import argparse
import time
from datetime import date, timedelta

from sqlalchemy import Engine, text
from sqlalchemy.orm import Session

from bench.database import bench_database
from service.demo import seed_reference_data
from service.migrate import upgrade

CASES_SQL = """
INSERT INTO cases (
    id, case_no, item_id, item_version_id, item_code, item_name, agreement_id,
    accepting_district, accepting_center_id, terminal_id, responsible_district, status,
    applicant_name, applicant_id_enc, applicant_id_hash, phone_enc, phone_hash, facts, materials,
    deferred_materials, result_delivery, version, created_at, updated_at)
SELECT
    g, 'SYN-' || lpad(g::text, 9, '0'), v.item_id, v.id, i.basic_code, v.name, pair.agreement_id,
    pair.accepting, pair.center_id, :terminal_id, pair.responsible,
    CASE WHEN g % 100 < 5 THEN 'rejected' WHEN g % 100 < 8 THEN 'withdrawn'
         WHEN t.at >= :recent THEN 'accepted' ELSE 'completed' END,
    '张三', :id_enc, md5(g::text), :phone_enc, md5(g::text), '{}'::jsonb, '[]'::jsonb,
    '[]'::jsonb, 'window', 1, at, at
FROM generate_series(1, :n) AS g
CROSS JOIN LATERAL (
    SELECT :start + (g::bigint * 31337 % (:span * 86400)) * interval '1 second' AS at
) t
JOIN LATERAL (
    SELECT * FROM pairs WHERE pairs.k = g % (SELECT count(*) FROM pairs)
) pair ON true
JOIN LATERAL (
    SELECT * FROM versions WHERE versions.k = g % (SELECT count(*) FROM versions)
) v ON true
JOIN items i ON i.id = v.item_id
"""

# Every (accepting, responsible) pair of every agreement, with a center of the accepting side.
PAIRS_SQL = """
CREATE TEMP TABLE pairs AS
SELECT row_number() OVER (ORDER BY a.id, acc.district_code, res.district_code) - 1 AS k,
       a.id AS agreement_id, acc.district_code AS accepting, res.district_code AS responsible,
       (SELECT s.id FROM service_centers s WHERE s.district_code = acc.district_code
        ORDER BY s.id LIMIT 1) AS center_id
FROM agreements a
JOIN agreement_districts acc ON acc.agreement_id = a.id
JOIN agreement_districts res ON res.agreement_id = a.id AND res.district_code <> acc.district_code
"""

# Days from intake to completion: within the 16-day due span, except one case in fifty.
COMPLETION_DAYS = "CASE WHEN {id} % 50 = 0 THEN 21 ELSE 4 + {id} % 13 END"

# Each event: (seq, type, from, to, offset from intake, which cases get it)
EVENTS = [
    (1, "submitted", None, "submitted", "interval '0'", "true"),
    (2, "forwarded", "submitted", "forwarded", "interval '1 minute'", "true"),
    (3, "received", "forwarded", "received", "interval '2 minutes'", "true"),
    (4, "request_supplement", "received", "supplement_requested", "interval '1 day'", "g % 10 = 9"),
    (5, "accept", "received", "accepted", "interval '2 days'", "g % 100 >= 8"),
    (5, "reject", "received", "rejected", "interval '2 days'", "g % 100 < 5"),
    (5, "withdraw", "received", "withdrawn", "interval '1 day'", "g % 100 BETWEEN 5 AND 7"),
    (
        6,
        "complete",
        "accepted",
        "completed",
        "(" + COMPLETION_DAYS.format(id="g") + ") * interval '1 day'",
        "c.status = 'completed'",
    ),
]

EVENT_SQL = """
INSERT INTO case_events (case_id, seq, type, status_from, status_to, actor_kind, actor_name,
                         district_code, data, occurred_at, prev_hash, hash)
SELECT g, :seq, CAST(:type AS varchar), CAST(:status_from AS varchar),
       CAST(:status_to AS varchar), 'system', '合成数据', c.responsible_district, '{{}}'::jsonb,
       c.created_at + {offset}, md5(g::text || CAST(:type AS text)),
       md5(g::text || CAST(:type AS text) || 'h')
FROM generate_series(1, :n) AS g JOIN cases c ON c.id = g
WHERE {which}
"""

DEADLINE_SQL = f"""
INSERT INTO deadlines (case_id, kind, district_code, starts_on, limit_days, paused_days,
                       due_on, provisional, state, met_at, due_state)
SELECT c.id, 'complete', c.responsible_district, (c.created_at + interval '2 days')::date, 10, 0,
       (c.created_at + interval '16 days')::date, false,
       CASE WHEN c.status = 'completed' THEN 'met' ELSE 'open' END,
       CASE WHEN c.status = 'completed'
            THEN c.created_at + ({COMPLETION_DAYS.format(id="c.id")}) * interval '1 day' END,
       'on_time'
FROM cases c WHERE c.case_no LIKE 'SYN-%' AND c.status IN ('accepted', 'completed')
"""


PLACEHOLDER = b"\x00"


def generate(
    engine: Engine,
    sqlalchemy_url: str,
    cases: int,
    until: date,
    id_enc: bytes = PLACEHOLDER,
    phone_enc: bytes = PLACEHOLDER,
) -> float:
    """Fill an empty database with `cases` synthetic cases; returns the seconds it took.

    `id_enc` and `phone_enc` are stored as every case's encrypted ID number and phone: the
    placeholder byte serves the SQL-only benchmarks, while one placeholder value encrypted
    with the data key lets the API show the cases (the HTTP benchmarks)."""
    started = time.perf_counter()
    upgrade(sqlalchemy_url)
    with Session(engine) as session:
        seed_reference_data(session)
        session.commit()
    with engine.begin() as conn:
        conn.execute(text("ALTER TABLE case_events DISABLE TRIGGER case_events_append_only"))
        conn.execute(
            text(
                "INSERT INTO terminals (center_id, name, key_prefix, key_hash, active)"
                " SELECT id, '合成数据终端', 'synth000', md5('synth'), false FROM service_centers"
                " WHERE code = 'FM-01' ON CONFLICT DO NOTHING"
            )
        )
        terminal_id = conn.execute(
            text("SELECT id FROM terminals WHERE key_prefix = 'synth000'")
        ).scalar_one()
        conn.execute(text(PAIRS_SQL))
        conn.execute(
            text(
                "CREATE TEMP TABLE versions AS SELECT row_number() OVER () - 1 AS k, v.*"
                " FROM item_versions v"
            )
        )
        start = date(until.year - 1, until.month, 1)
        span = (until - start).days
        conn.execute(
            text(CASES_SQL),
            {
                "n": cases,
                "terminal_id": terminal_id,
                "start": start,
                "span": span,
                "recent": until - timedelta(days=20),  # still being worked
                "id_enc": id_enc,
                "phone_enc": phone_enc,
            },
        )
        for seq, type_, status_from, status_to, offset, which in EVENTS:
            conn.execute(
                text(EVENT_SQL.format(offset=offset, which=which)),
                {
                    "n": cases,
                    "seq": seq,
                    "type": type_,
                    "status_from": status_from,
                    "status_to": status_to,
                },
            )
        conn.execute(text(DEADLINE_SQL))
        conn.execute(text("SELECT setval('cases_id_seq', (SELECT max(id) FROM cases))"))
        conn.execute(text("ALTER TABLE case_events ENABLE TRIGGER case_events_append_only"))
    # Committed: statistics are transactional, and a rolled-back ANALYZE leaves the planner
    # guessing (it chose plans hundreds of times slower at 1,000,000 cases).
    with engine.begin() as conn:
        conn.execute(text("ANALYZE"))
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=1_000_000)
    parser.add_argument("--until", type=date.fromisoformat, default=date(2026, 11, 1))
    args = parser.parse_args()
    with bench_database("tongban_synthetic") as (engine, url):
        seconds = generate(engine, url, args.cases, args.until)
    print(f"generated {args.cases} cases in {seconds:.1f} s")


if __name__ == "__main__":
    main()
