"""What a district may accept under the agreements in force. Pure Python."""

from collections import defaultdict
from collections.abc import Iterable
from datetime import date

from catalog.routing import AgreementTerms


def acceptable_items(
    agreements: Iterable[AgreementTerms], district: str | None, day: date
) -> dict[str, dict[str, set[str]]]:
    """item code -> {"routes_to": districts it may be sent to, "agreements": codes}.

    `district` None means city-wide: every item of every agreement in force.
    """
    out: dict[str, dict[str, set[str]]] = defaultdict(
        lambda: {"routes_to": set(), "agreements": set()}
    )
    for terms in agreements:
        if not terms.in_force_on(day) or (district and district not in terms.districts):
            continue
        for code in terms.item_codes:
            out[code]["routes_to"] |= terms.districts
            out[code]["agreements"].add(terms.code)
    return dict(out)
