"""Benchmark: importing the 320-item sample catalog from XLSX, against a plain INSERT.

    .venv/bin/python -m bench.catalog_import [--rounds 5]

Uses DATABASE_URL's server when set, else an embedded PostgreSQL under var/bench-pgdata. Each round
starts from an empty catalog. The import is measured whole: reading the workbook, checking
every row, computing pinyin search keys, planning versions and writing them in one
transaction. The baseline writes the same item and version rows, already prepared, with one
executemany each: the floor any importer pays for the database work alone.
Target (issue 4): the import under 5 s.
"""

import argparse
import statistics
import time
from datetime import date

from sqlalchemy import insert, text
from sqlalchemy.orm import Session

from bench.database import bench_database
from catalog.importer import import_catalog
from catalog.layout import SHEETS
from catalog.loaders import SAMPLE_CATALOG, load_districts
from catalog.models import Item, ItemVersion
from catalog.rows import parse_catalog
from catalog.search import search_keys
from catalog.tabular import read_catalog, write_xlsx
from service.migrate import upgrade

TARGET_SECONDS = 5.0
DAY = date(2026, 1, 1)
EMPTY_CATALOG = (
    "TRUNCATE agreement_items, agreement_districts, agreements, item_versions, items CASCADE"
)


def _sample_workbook() -> bytes:
    tables = read_catalog(SAMPLE_CATALOG)
    rows = {}
    for sheet in SHEETS:
        rows[sheet.key] = [
            {name: cells.get(header) for name, header in sheet.columns}
            for _, cells in tables[sheet.key].rows
        ]
    return write_xlsx(rows)


def _prepared_rows() -> list[dict]:
    parsed = parse_catalog(read_catalog(SAMPLE_CATALOG))
    rows = []
    for code, item in parsed.items.items():
        keys = search_keys(item.content["name"], item.content["aliases"])
        rows.append(
            {
                "code": code,
                "version": {
                    **item.content,
                    "version_no": 1,
                    "effective_from": DAY,
                    "source": "baseline",
                    "search_names": keys.names,
                    "search_pinyin": keys.pinyin,
                    "search_initials": keys.initials,
                },
            }
        )
    return rows


def _timed(engine, work) -> float:
    with Session(engine) as session:
        session.execute(text(EMPTY_CATALOG))
        session.commit()
    with Session(engine) as session:
        started = time.perf_counter()
        work(session)
        session.commit()
        return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()

    with bench_database("tongban_bench") as (engine, url):
        upgrade(url)
        with Session(engine) as session:
            load_districts(session)
            session.commit()
        workbook = _sample_workbook()
        prepared = _prepared_rows()

        def full_import(session):
            report = import_catalog(session, read_catalog(workbook), effective_from=DAY)
            assert len(report.items_created) == 320, report.items_created[:3]

        def plain_insert(session):
            ids = session.execute(
                insert(Item).returning(Item.id, sort_by_parameter_order=True),
                [{"basic_code": r["code"]} for r in prepared],
            ).scalars()
            session.execute(
                insert(ItemVersion),
                [{**r["version"], "item_id": i} for i, r in zip(ids, prepared, strict=True)],
            )

        def unchanged_reimport(session):
            report = import_catalog(session, read_catalog(workbook), effective_from=DAY)
            assert report.changes == 0

        full = [_timed(engine, full_import) for _ in range(args.rounds)]
        base = [_timed(engine, plain_insert) for _ in range(args.rounds)]
        with Session(engine) as session:
            import_catalog(session, read_catalog(workbook), effective_from=DAY)
            session.commit()
        again = []
        for _ in range(args.rounds):
            with Session(engine) as session:
                started = time.perf_counter()
                unchanged_reimport(session)
                session.rollback()
                again.append(time.perf_counter() - started)

    f, b, a = statistics.median(full), statistics.median(base), statistics.median(again)
    print(f"catalog import, 320 items, {len(workbook) // 1024} KB XLSX, median of {args.rounds}")
    print(f"{'':32}{'seconds':>10}{'× baseline':>12}")
    print(f"{'baseline: prepared rows INSERT':32}{b:>10.3f}{1:>12.1f}")
    print(f"{'import from XLSX (empty catalog)':32}{f:>10.3f}{f / b:>12.1f}")
    print(f"{'re-import, nothing changed':32}{a:>10.3f}{a / b:>12.1f}")
    verdict = "meets" if f < TARGET_SECONDS else "MISSES"
    print(f"target: import under {TARGET_SECONDS:.0f} s -> {verdict} ({f:.2f} s)")


if __name__ == "__main__":
    main()
