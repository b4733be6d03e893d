"""Catalog reads for the window: search the items this district may accept, read one, list
departments. Every item is shown as its version in force today."""

import re

from sqlalchemy import func, literal, select, tuple_

from catalog.coverage import acceptable_items
from catalog.districts import DISTRICT_NAMES
from catalog.elements import (
    DELIVERY_MODES,
    EXERCISE_LEVELS,
    HANDLING_MODES,
    ITEM_TYPES,
    MATERIAL_FORMS,
    NECESSITY,
)
from catalog.models import District, Item, ItemVersion
from catalog.repository import agreements_of, versions_in_force
from catalog.routing import BASIS_NAMES_ZH, TERRITORIAL_BASES
from catalog.search import match_all, query_terms
from service.accounts.auth import BEARER_SECURITY, current_principal, requires
from service.catalog_api.schemas import (
    DepartmentSchema,
    DistrictSchema,
    ItemPageSchema,
    ItemQuerySchema,
    ItemSchema,
)
from service.clock import local_today
from service.db import db_session
from service.errors import Problem
from service.openapi import Blueprint
from service.pagination import bad_cursor, decode_cursor, encode_cursor
from service.policy import Permission

_CODE = re.compile(r"^[0-9A-Z]{12}$")

blp = Blueprint("catalog", __name__, url_prefix="/api/v1", description="Catalog")


def coverage_of(session, principal) -> dict[str, dict[str, set[str]]]:
    """The items the principal's district may accept today, with their routes and agreements."""
    return acceptable_items(
        agreements_of(session, principal.district_code), principal.district_code, local_today()
    )


def _material(m: dict) -> dict:
    return {
        **m,
        "required": m["necessity"] == "required",
        "necessity_zh": NECESSITY[m["necessity"]],
        "form_zh": MATERIAL_FORMS[m["form"]],
    }


def present_version(code: str, v: ItemVersion, cover: dict[str, set[str]]) -> dict:
    """An item version with the Chinese labels the window shows beside each key."""
    return {
        **v.content(),
        "basic_code": code,
        "version": v.version_no,
        "effective_from": v.effective_from,
        "item_type_zh": ITEM_TYPES[v.item_type],
        "exercise_level_zh": EXERCISE_LEVELS[v.exercise_level],
        "territorial_basis_zh": BASIS_NAMES_ZH[v.territorial_basis],
        "needs_fact": TERRITORIAL_BASES[v.territorial_basis],
        "delivery_modes_zh": [DELIVERY_MODES[k] for k in v.delivery_modes],
        "handling_modes_zh": [HANDLING_MODES[k] for k in v.handling_modes],
        "materials": [_material(m) for m in v.materials],
        "routes_to": [{"code": c, "name": DISTRICT_NAMES[c]} for c in sorted(cover["routes_to"])],
        "agreements": sorted(cover["agreements"]),
    }


def _search_cursor(cursor: str) -> tuple[int, int, str]:
    key = decode_cursor(cursor)
    # bool is an int to Python but not to PostgreSQL: check the exact types.
    if not (len(key) == 3 and all(type(k) is int for k in key[:2]) and _CODE.match(str(key[2]))):
        raise bad_cursor()
    return key[0], key[1], key[2]


def search_items(
    session, principal, q: str | None, department: str | None, cursor: str | None, limit: int
) -> dict:
    """The items `principal`'s district may accept today that match `q`, best match first,
    as a page: {"items": [...], "next_cursor": ...}. The API and the window pages both use it."""
    coverage = coverage_of(session, principal)
    v = versions_in_force(local_today())
    terms = query_terms(q or "")
    matches, score = match_all(
        terms,
        code=Item.basic_code,
        names=v.search_names,
        pinyin=v.search_pinyin,
        initials=v.search_initials,
    )
    # Among equal matches the shorter name is the more general item; no query: code order.
    name_length = func.char_length(v.name) if terms else literal(0)
    stmt = (
        select(Item.basic_code, v, score, name_length)
        .join(v, v.item_id == Item.id)
        .where(Item.basic_code.in_(coverage), matches)
    )
    if department:
        stmt = stmt.where(v.department == department)
    if cursor:
        after = _search_cursor(cursor)
        stmt = stmt.where(
            tuple_(-score, name_length, Item.basic_code) > tuple_(-after[0], after[1], after[2])
        )
    stmt = stmt.order_by(score.desc(), name_length, Item.basic_code).limit(limit + 1)
    rows = session.execute(stmt).all()
    page, more = rows[:limit], len(rows) > limit
    last = page[-1] if page else None
    return {
        "items": [present_version(code, version, coverage[code]) for code, version, *_ in page],
        "next_cursor": encode_cursor([last[2], last[3], last[0]]) if more and last else None,
    }


@blp.route("/catalog/items", methods=["GET"])
@blp.arguments(ItemQuerySchema, location="query")
@blp.response(200, ItemPageSchema)
@blp.doc(security=BEARER_SECURITY)
@requires(Permission.ANY)
def list_items(query):
    """Search the items this district may accept under agreements in force, best match first.

    `q` matches words of the name or an alias, the 基本编码, pinyin initials ("sbk") and full
    pinyin ("shebaoka"); every word must match. Without `q`, items come in 基本编码 order.
    """
    return search_items(
        db_session(),
        current_principal(),
        query["q"],
        query["department"],
        query["cursor"],
        query["limit"],
    )


def item_in_force(session, principal, basic_code: str) -> dict | None:
    """One item as in force today with its versions, if `principal`'s district may accept it."""
    coverage = coverage_of(session, principal)
    item = None
    if _CODE.match(basic_code):
        item = session.scalar(select(Item).where(Item.basic_code == basic_code))
    today = local_today()
    current = None
    if item is not None and basic_code in coverage:
        current = max(
            (v for v in item.versions if v.effective_from <= today),
            key=lambda v: (v.effective_from, v.version_no),
            default=None,
        )
    if current is None:
        return None
    shown = present_version(basic_code, current, coverage[basic_code])
    shown["versions"] = [
        {
            "version": v.version_no,
            "effective_from": v.effective_from,
            "in_force": v is current,
            "upcoming": v.effective_from > today,
        }
        for v in item.versions
    ]
    return shown


@blp.route("/catalog/items/<string:basic_code>", methods=["GET"])
@blp.response(200, ItemSchema)
@blp.doc(security=BEARER_SECURITY)
@requires(Permission.ANY)
def read_item(basic_code):
    """One item as in force today, with its versions (including any that start later)."""
    shown = item_in_force(db_session(), current_principal(), basic_code)
    if shown is None:
        raise Problem(404, "not-found", "Not found", f"No item {basic_code} for this district.")
    return shown


@blp.route("/catalog/departments", methods=["GET"])
@blp.response(200, DepartmentSchema(many=True))
@blp.doc(security=BEARER_SECURITY)
@requires(Permission.ANY)
def list_departments():
    """The departments of the items this district may accept, with how many items each has."""
    coverage = coverage_of(db_session(), current_principal())
    v = versions_in_force(local_today())
    stmt = (
        select(v.department, func.count())
        .join(Item, v.item_id == Item.id)
        .where(Item.basic_code.in_(coverage))
        .group_by(v.department)
        .order_by(func.count().desc(), v.department)
    )
    return [{"name": name, "items": n} for name, n in db_session().execute(stmt)]


@blp.route("/districts", methods=["GET"])
@blp.response(200, DistrictSchema(many=True))
@blp.doc(security=BEARER_SECURITY)
@requires(Permission.ANY)
def list_districts():
    """The districts Tongban serves, with their GB/T 2260 codes."""
    return db_session().scalars(select(District).order_by(District.code))
