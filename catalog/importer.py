"""Importing a catalog file: all of it or none of it, with a report of what changes.

An item that is new gets its first version; an item whose data elements differ from its newest
version gets a new version effective from the given date; an identical item is left alone, so
importing the same file twice changes nothing. Agreements in the file are created or updated and
their item lists become exactly the file's. Items and agreements not in the file are untouched.
"""

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from catalog.layout import AGREEMENT_ITEMS, AGREEMENTS, ITEMS, MATERIALS
from catalog.models import Agreement, District, Item, ItemVersion
from catalog.repository import latest_versions
from catalog.rows import ParsedAgreement, ParsedCatalog, RowError, parse_catalog
from catalog.search import SearchKeys, search_keys
from catalog.tabular import RawTable

# Two imports at once would race on version numbers; they take turns on this advisory lock.
IMPORT_LOCK = 0x7B_0C_A7_A1

MATERIALS_LABEL = "材料"
AGREEMENT_LABELS = {
    "name": AGREEMENTS.header_of("name"),
    "districts": AGREEMENTS.header_of("districts"),
    "effective_from": AGREEMENTS.header_of("effective_from"),
    "effective_to": AGREEMENTS.header_of("effective_to"),
    "status": AGREEMENTS.header_of("status"),
    "forward_limit_days": AGREEMENTS.header_of("forward_limit_days"),
    "note": AGREEMENTS.header_of("note"),
}


class CatalogImportError(Exception):
    """The file has errors; nothing was changed."""

    def __init__(self, errors: list[RowError]):
        super().__init__(f"{len(errors)} errors in the catalog file")
        self.errors = errors


@dataclass
class ImportReport:
    """What an import changed, or would change in a dry run."""

    dry_run: bool
    effective_from: date
    items_created: list[dict[str, str]] = field(default_factory=list)
    items_changed: list[dict[str, Any]] = field(default_factory=list)
    items_unchanged: int = 0
    agreements_created: list[str] = field(default_factory=list)
    agreements_changed: list[dict[str, Any]] = field(default_factory=list)
    agreements_unchanged: int = 0

    @property
    def changes(self) -> int:
        return (
            len(self.items_created)
            + len(self.items_changed)
            + len(self.agreements_created)
            + len(self.agreements_changed)
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "dry_run": self.dry_run,
            "effective_from": self.effective_from,
            "items": {
                "created": self.items_created,
                "changed": self.items_changed,
                "unchanged": self.items_unchanged,
            },
            "agreements": {
                "created": self.agreements_created,
                "changed": self.agreements_changed,
                "unchanged": self.agreements_unchanged,
            },
        }


def _changed_columns(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    return [
        MATERIALS_LABEL if name == "materials" else ITEMS.header_of(name)
        for name in new
        if old.get(name) != new[name]
    ]


@dataclass
class _Plan:
    report: ImportReport
    new_items: dict[str, dict[str, Any]] = field(default_factory=dict)  # code -> content
    new_versions: list[tuple[int, int, dict[str, Any]]] = field(default_factory=list)
    # Versions whose data are unchanged but whose search keys were made by older rules.
    stale_keys: list[ItemVersion] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)


def _plan_items(session: Session, parsed: ParsedCatalog, plan: _Plan) -> None:
    items = {
        i.basic_code: i
        for i in session.scalars(select(Item).where(Item.basic_code.in_(parsed.items)))
    }
    starts = plan.report.effective_from
    ids = [i.id for i in items.values()]
    latest = latest_versions(session, ids)
    at_start = latest_versions(session, ids, on=starts)
    for code, row in parsed.items.items():
        item = items.get(code)
        if item is None:
            plan.new_items[code] = row.content
            plan.report.items_created.append({"basic_code": code, "name": row.content["name"]})
            continue
        current = latest[item.id]
        same = [v for v in (current, at_start.get(item.id)) if v and v.content() == row.content]
        if same:
            plan.report.items_unchanged += 1
            plan.stale_keys += [v for v in same if _keys_of(v) != _keys_for(row.content)]
        elif current.effective_from > starts:
            plan.errors.append(
                RowError(
                    ITEMS.title,
                    row.row,
                    ITEMS.header_of("basic_code"),
                    f"该事项已有自{current.effective_from.isoformat()}起生效的第"
                    f"{current.version_no}版，新版本的生效日期不能早于该日期。",
                )
            )
        else:
            plan.new_versions.append((item.id, current.version_no + 1, row.content))
            plan.report.items_changed.append(
                {
                    "basic_code": code,
                    "name": row.content["name"],
                    "version": current.version_no + 1,
                    "columns": _changed_columns(current.content(), row.content),
                }
            )


def _keys_for(content: dict[str, Any]) -> SearchKeys:
    return search_keys(content["name"], content["aliases"])


def _keys_of(version: ItemVersion) -> SearchKeys:
    return SearchKeys(version.search_names, version.search_pinyin, version.search_initials)


def _agreement_state(agreement: Agreement) -> dict[str, Any]:
    return {
        "name": agreement.name,
        "districts": sorted(d.code for d in agreement.districts),
        "effective_from": agreement.effective_from,
        "effective_to": agreement.effective_to,
        "status": agreement.status,
        "forward_limit_days": agreement.forward_limit_days,
        "note": agreement.note,
    }


def _plan_agreements(session: Session, parsed: ParsedCatalog, plan: _Plan) -> None:
    wanted = {code for a in parsed.agreements.values() for _, code in a.items}
    # An item whose own row has errors is still in the file: no second error for it here.
    known = parsed.mentioned | set(
        session.scalars(select(Item.basic_code).where(Item.basic_code.in_(wanted)))
    )
    for agreement in parsed.agreements.values():
        for row, code in agreement.items:
            if code not in known:
                plan.errors.append(
                    RowError(
                        AGREEMENT_ITEMS.title,
                        row,
                        AGREEMENT_ITEMS.header_of("basic_code"),
                        "该事项既不在本文件的“事项”工作表中，也不在现有目录中。",
                    )
                )
    districts = set(session.scalars(select(District.code)))
    for agreement in parsed.agreements.values():
        unknown = sorted(set(agreement.fields["districts"]) - districts)
        if unknown:
            plan.errors.append(
                RowError(
                    AGREEMENTS.title,
                    agreement.row,
                    AGREEMENTS.header_of("districts"),
                    f"行政区 {'、'.join(unknown)} 尚未载入系统，请先载入行政区划。",
                )
            )
    existing = {
        a.code: a
        for a in session.scalars(select(Agreement).where(Agreement.code.in_(parsed.agreements)))
    }
    for code, parsed_agreement in parsed.agreements.items():
        agreement = existing.get(code)
        if agreement is None:
            plan.report.agreements_created.append(code)
            continue
        old = _agreement_state(agreement)
        new = {k: parsed_agreement.fields[k] for k in old}
        if new["forward_limit_days"] is None:
            new["forward_limit_days"] = old["forward_limit_days"]
        before = {i.basic_code for i in agreement.items}
        after = {c for _, c in parsed_agreement.items}
        columns = [AGREEMENT_LABELS[k] for k in old if old[k] != new[k]]
        if not columns and before == after:
            plan.report.agreements_unchanged += 1
            continue
        plan.report.agreements_changed.append(
            {
                "code": code,
                "columns": columns,
                "items_added": sorted(after - before),
                "items_removed": sorted(before - after),
            }
        )


def _version_row(item_id: int, version_no: int, content: dict, starts: date, source: str) -> dict:
    keys = _keys_for(content)
    return {
        **content,
        "item_id": item_id,
        "version_no": version_no,
        "effective_from": starts,
        "source": source,
        "search_names": keys.names,
        "search_pinyin": keys.pinyin,
        "search_initials": keys.initials,
    }


def _covered_since(parsed: ParsedCatalog) -> dict[str, date]:
    """A new item is covered since the earliest agreement in the file that lists it; its first
    version may start then (no case can have used an item that did not exist)."""
    since: dict[str, date] = {}
    for agreement in parsed.agreements.values():
        start = agreement.fields["effective_from"]
        for _, code in agreement.items:
            since[code] = min(since.get(code, start), start)
    return since


def _apply(session: Session, parsed: ParsedCatalog, plan: _Plan, source: str) -> None:
    starts = plan.report.effective_from
    rows = []
    if plan.new_items:
        since = _covered_since(parsed)
        made = session.execute(
            insert(Item).returning(Item.id, Item.basic_code, sort_by_parameter_order=True),
            [{"basic_code": code} for code in plan.new_items],
        )
        rows += [
            _version_row(
                item_id, 1, plan.new_items[code], min(starts, since.get(code, starts)), source
            )
            for item_id, code in made
        ]
    rows += [_version_row(i, n, content, starts, source) for i, n, content in plan.new_versions]
    if rows:
        session.execute(insert(ItemVersion), rows)
    for version in plan.stale_keys:
        # Derived data only: the version's data elements stay as they were.
        keys = _keys_for(version.content())
        version.search_names, version.search_pinyin = keys.names, keys.pinyin
        version.search_initials = keys.initials
    if parsed.agreements:
        _apply_agreements(session, parsed.agreements)
    session.flush()


def _apply_agreements(session: Session, parsed: dict[str, ParsedAgreement]) -> None:
    codes = {c for a in parsed.values() for _, c in a.items}
    items = {
        i.basic_code: i for i in session.scalars(select(Item).where(Item.basic_code.in_(codes)))
    }
    districts = {d.code: d for d in session.scalars(select(District))}
    existing = {
        a.code: a for a in session.scalars(select(Agreement).where(Agreement.code.in_(parsed)))
    }
    for code, row in parsed.items():
        agreement = existing.get(code) or Agreement(code=code)
        kept = agreement.forward_limit_days if code in existing else 1
        for name in AGREEMENT_LABELS:
            if name != "districts":
                setattr(agreement, name, row.fields[name])
        if row.fields["forward_limit_days"] is None:
            agreement.forward_limit_days = kept
        agreement.districts = [districts[c] for c in row.fields["districts"]]
        agreement.items = [items[c] for _, c in row.items]
        session.add(agreement)


def import_catalog(
    session: Session,
    tables: dict[str, RawTable],
    *,
    effective_from: date,
    dry_run: bool = False,
    source: str = "import",
) -> ImportReport:
    """Check the whole file, then apply it in the caller's transaction unless `dry_run`.

    Raises CatalogImportError listing every error; the caller rolls back (nothing was written).
    """
    parsed = parse_catalog(tables)
    session.execute(select(func.pg_advisory_xact_lock(IMPORT_LOCK)))
    plan = _Plan(ImportReport(dry_run=dry_run, effective_from=effective_from))
    # The rows that read well are checked against the database too, so one attempt reports
    # every error in the file, not the row errors first and the rest after they are fixed.
    _plan_items(session, parsed, plan)
    _plan_agreements(session, parsed, plan)
    if parsed.errors or plan.errors:
        order = [sheet.title for sheet in (ITEMS, MATERIALS, AGREEMENTS, AGREEMENT_ITEMS)]
        errors = parsed.errors + plan.errors
        raise CatalogImportError(sorted(errors, key=lambda e: (order.index(e.sheet), e.row)))
    if not dry_run:
        _apply(session, parsed, plan, source)
    return plan.report
