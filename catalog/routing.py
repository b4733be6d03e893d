"""Routing: which district is responsible for an application, and which agreement allows it.

Plain Python on plain data, so the rules can be tested without a database.
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date

from catalog.refusals import DomainError

# Territorial basis (属地依据) -> the applicant fact that names the responsible district.
TERRITORIAL_BASES: dict[str, str] = {
    "household": "household_district",  # 户籍地
    "residence": "residence_district",  # 居住地
    "property": "property_district",  # 不动产所在地
    "enterprise": "enterprise_district",  # 企业登记地
    "insured": "insured_district",  # 参保地
}

BASIS_NAMES_ZH: dict[str, str] = {
    "household": "户籍地",
    "residence": "居住地",
    "property": "不动产所在地",
    "enterprise": "企业登记地",
    "insured": "参保地",
}


class RoutingError(DomainError):
    """The application cannot be routed; `code` is stable, messages are for people."""

    title = "Application cannot be taken"

    def __init__(
        self,
        code: str,
        detail: str,
        detail_zh: str,
        field: str | None = None,
        extensions: dict[str, object] | None = None,
    ):
        super().__init__(detail, detail_zh, field, code=code, extensions=extensions)
        self.detail, self.detail_zh = detail, detail_zh


@dataclass(frozen=True)
class AgreementTerms:
    """What routing needs to know of one agreement."""

    id: int
    code: str
    name: str
    districts: frozenset[str]
    item_codes: frozenset[str]
    effective_from: date
    effective_to: date | None
    status: str

    def in_force_on(self, day: date) -> bool:
        return (
            self.status == "active"
            and self.effective_from <= day
            and (self.effective_to is None or day <= self.effective_to)
        )


def responsible_district(basis: str, facts: Mapping[str, str], known: Iterable[str]) -> str:
    """The district that decides the case, from the item's territorial basis and the facts given."""
    fact = TERRITORIAL_BASES[basis]
    code = facts.get(fact)
    if not code:
        raise RoutingError(
            "missing_fact",
            f"This item is decided where the applicant's {basis} is; give facts.{fact}.",
            f"该事项按{BASIS_NAMES_ZH[basis]}办理，请填写{BASIS_NAMES_ZH[basis]}所在行政区。",
            field=f"facts.{fact}",
        )
    if code not in set(known):
        raise RoutingError(
            "unknown_district",
            f"District {code} is not one Tongban serves.",
            f"行政区 {code} 不在通办服务范围内。",
            field=f"facts.{fact}",
        )
    return code


def covering_agreement(
    agreements: Iterable[AgreementTerms],
    accepting: str,
    responsible: str,
    item_code: str,
    day: date,
) -> AgreementTerms:
    """The agreement in force that lets `accepting` take `item_code` for `responsible`.

    Raises RoutingError naming the most specific reason when none does.
    """
    parties = {accepting, responsible}
    between = [a for a in agreements if parties <= a.districts]
    if not between:
        raise RoutingError(
            "no_agreement",
            f"No agreement between districts {accepting} and {responsible}.",
            "收件地与办理地之间没有签订通办协议。",
        )
    with_item = [a for a in between if item_code in a.item_codes]
    if not with_item:
        raise RoutingError(
            "item_not_covered",
            f"Item {item_code} is not in any agreement between {accepting} and {responsible}.",
            "该事项不在两地通办协议的事项清单内。",
        )
    for terms in with_item:
        if terms.in_force_on(day):
            return terms
    raise RoutingError(
        "agreement_not_in_force",
        f"The agreement covering item {item_code} is not in force on {day.isoformat()}.",
        "覆盖该事项的通办协议当前不在有效期内或已暂停。",
    )
