"""Case-page forms as the API's step bodies, checked by the same schemas (STEPS)."""

from typing import Any

from werkzeug.datastructures import MultiDict

from service.cases.lifecycle import Action
from service.web.forms import cleaned

_TEXT_FIELDS = ("version", "reason", "note", "outcome", "document_no", "method", "carrier")


def step_body(action: Action, form: MultiDict, material_codes: list[str]) -> dict[str, Any]:
    """The JSON body the API's step would receive, from the case page's form for `action`."""
    body: dict[str, Any] = cleaned(form, *_TEXT_FIELDS, "tracking_no")
    if action == Action.REQUEST_SUPPLEMENT:
        body["materials"] = [
            {"code": code, "problem": (form.get(f"problem_{code}") or "").strip()}
            for code in material_codes
            if form.get(f"need_{code}")
        ]
    elif action == Action.SUPPLEMENT:
        body["materials"] = [{"code": code} for code in material_codes if form.get(f"got_{code}")]
    return body
