"""Catalog reads: the items this district may accept, with the districts each routes to."""

from flask_smorest import Blueprint
from sqlalchemy import select

from catalog.coverage import acceptable_items
from catalog.districts import DISTRICT_NAMES
from catalog.models import District, Item
from catalog.repository import agreements_of
from catalog.routing import BASIS_NAMES_ZH, TERRITORIAL_BASES
from service.accounts.auth import BEARER_SECURITY, current_principal, requires
from service.catalog_api.schemas import DistrictSchema, ItemPageSchema, ItemQuerySchema, ItemSchema
from service.clock import local_today
from service.db import db_session
from service.errors import Problem
from service.pagination import decode_cursor, encode_cursor

blp = Blueprint("catalog", __name__, url_prefix="/api/v1", description="Catalog")


def _coverage():
    principal = current_principal()
    session = db_session()
    return acceptable_items(
        agreements_of(session, principal.district_code), principal.district_code, local_today()
    )


def _present(item: Item, cover: dict[str, set[str]]) -> dict:
    return {
        "basic_code": item.basic_code,
        "implementation_code": item.implementation_code,
        "name": item.name,
        "department": item.department,
        "territorial_basis": item.territorial_basis,
        "territorial_basis_zh": BASIS_NAMES_ZH[item.territorial_basis],
        "needs_fact": TERRITORIAL_BASES[item.territorial_basis],
        "statutory_limit_days": item.statutory_limit_days,
        "promised_limit_days": item.promised_limit_days,
        "materials": item.materials,
        "routes_to": [{"code": c, "name": DISTRICT_NAMES[c]} for c in sorted(cover["routes_to"])],
        "agreements": sorted(cover["agreements"]),
    }


@blp.route("/catalog/items", methods=["GET"])
@blp.arguments(ItemQuerySchema, location="query")
@blp.response(200, ItemPageSchema)
@blp.doc(security=BEARER_SECURITY)
@requires()
def list_items(query):
    """Items this district may accept under agreements in force, by 基本编码."""
    coverage = _coverage()
    stmt = select(Item).where(Item.basic_code.in_(coverage)).order_by(Item.basic_code)
    if query["q"]:
        words = query["q"].strip()
        escaped = words.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        stmt = stmt.where(
            Item.name.ilike(f"%{escaped}%", escape="\\")
            | Item.basic_code.startswith(words, autoescape=True)
        )
    if query["department"]:
        stmt = stmt.where(Item.department == query["department"])
    if query["cursor"]:
        key = decode_cursor(query["cursor"])
        stmt = stmt.where(Item.basic_code > str(key[0]))
    rows = list(db_session().scalars(stmt.limit(query["limit"] + 1)))
    page, more = rows[: query["limit"]], len(rows) > query["limit"]
    return {
        "items": [_present(i, coverage[i.basic_code]) for i in page],
        "next_cursor": encode_cursor([page[-1].basic_code]) if more else None,
    }


@blp.route("/catalog/items/<string:basic_code>", methods=["GET"])
@blp.response(200, ItemSchema)
@blp.doc(security=BEARER_SECURITY)
@requires()
def read_item(basic_code):
    """One item with its materials, if this district may accept it."""
    coverage = _coverage()
    item = db_session().scalar(select(Item).where(Item.basic_code == basic_code))
    if item is None or basic_code not in coverage:
        raise Problem(404, "not-found", "Not found", f"No item {basic_code} for this district.")
    return _present(item, coverage[basic_code])


@blp.route("/districts", methods=["GET"])
@blp.response(200, DistrictSchema(many=True))
@blp.doc(security=BEARER_SECURITY)
@requires()
def list_districts():
    """The districts Tongban serves, with their GB/T 2260 codes."""
    return db_session().scalars(select(District).order_by(District.code))
