"""Routing: responsible district from territorial basis; agreement coverage with reasons."""

from datetime import date

import pytest

from catalog.coverage import acceptable_items
from catalog.routing import AgreementTerms, RoutingError, covering_agreement, responsible_district

pytestmark = pytest.mark.unit

KNOWN = {"530102", "530124", "530112", "530181"}
WH_FM = AgreementTerms(
    id=1,
    code="WH-FM",
    name="五华—富民",
    districts=frozenset({"530102", "530124"}),
    item_codes=frozenset({"A00000000001", "A00000000002"}),
    effective_from=date(2022, 3, 1),
    effective_to=None,
    status="active",
)
XS_AN_ENDED = AgreementTerms(
    id=2,
    code="XS-AN",
    name="西山—安宁",
    districts=frozenset({"530112", "530181"}),
    item_codes=frozenset({"A00000000001"}),
    effective_from=date(2023, 1, 1),
    effective_to=date(2024, 12, 31),
    status="active",
)
TODAY = date(2026, 11, 25)


def test_responsible_district_comes_from_the_fact_the_basis_names():
    facts = {"household_district": "530102", "insured_district": "530124"}
    assert responsible_district("household", facts, KNOWN) == "530102"
    assert responsible_district("insured", facts, KNOWN) == "530124"


def test_missing_fact_names_the_field():
    with pytest.raises(RoutingError) as err:
        responsible_district("property", {"household_district": "530102"}, KNOWN)
    assert err.value.code == "missing_fact"
    assert err.value.field == "facts.property_district"
    assert "不动产所在地" in err.value.detail_zh


def test_unknown_district_is_refused():
    with pytest.raises(RoutingError) as err:
        responsible_district("household", {"household_district": "110105"}, KNOWN)
    assert err.value.code == "unknown_district"


def test_covered_item_finds_its_agreement_either_way():
    agreements = [WH_FM, XS_AN_ENDED]
    assert covering_agreement(agreements, "530124", "530102", "A00000000001", TODAY) is WH_FM
    assert covering_agreement(agreements, "530102", "530124", "A00000000002", TODAY) is WH_FM


def test_same_district_needs_the_item_in_one_of_its_agreements():
    assert covering_agreement([WH_FM], "530102", "530102", "A00000000001", TODAY) is WH_FM


@pytest.mark.parametrize(
    ("accepting", "responsible", "item", "code"),
    [
        ("530124", "530112", "A00000000001", "no_agreement"),
        ("530124", "530102", "A00000000009", "item_not_covered"),
        ("530112", "530181", "A00000000001", "agreement_not_in_force"),
    ],
)
def test_refusals_say_why(accepting, responsible, item, code):
    with pytest.raises(RoutingError) as err:
        covering_agreement([WH_FM, XS_AN_ENDED], accepting, responsible, item, TODAY)
    assert err.value.code == code
    assert err.value.detail_zh


def test_suspended_and_future_agreements_are_not_in_force():
    suspended = AgreementTerms(**{**WH_FM.__dict__, "status": "suspended"})
    future = AgreementTerms(**{**WH_FM.__dict__, "effective_from": date(2027, 1, 1)})
    assert not suspended.in_force_on(TODAY)
    assert not future.in_force_on(TODAY)
    assert WH_FM.in_force_on(TODAY)


def test_acceptable_items_lists_routes_of_agreements_in_force_only():
    cover = acceptable_items([WH_FM, XS_AN_ENDED], "530124", TODAY)
    assert set(cover) == {"A00000000001", "A00000000002"}
    assert cover["A00000000001"]["routes_to"] == {"530102", "530124"}
    assert acceptable_items([WH_FM, XS_AN_ENDED], "530112", TODAY) == {}
    assert set(acceptable_items([WH_FM, XS_AN_ENDED], None, TODAY)) == set(WH_FM.item_codes)
