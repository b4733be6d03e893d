"""Case-page forms as the API's step bodies, checked by the same schemas (STEP_SCHEMAS)."""

from typing import Any

from marshmallow import fields
from werkzeug.datastructures import MultiDict

from service.cases.lifecycle import Action
from service.cases.schemas import STEP_SCHEMAS
from service.web.forms import cleaned


def step_body(action: Action, form: MultiDict, material_codes: list[str]) -> dict[str, Any]:
    """The JSON body the API's step would receive, from the case page's form for `action`."""
    # Every plain field of the step's schema, as the API takes it: a field added to a step
    # reaches the schema from its form without being listed again here.
    schema = STEP_SCHEMAS[action]()
    plain = [name for name, field in schema.fields.items() if not isinstance(field, fields.List)]
    body: dict[str, Any] = cleaned(form, *plain)
    if action == Action.REQUEST_SUPPLEMENT:
        body["materials"] = [
            {"code": code, "problem": (form.get(f"problem_{code}") or "").strip()}
            for code in material_codes
            if form.get(f"need_{code}")
        ]
    elif action == Action.SUPPLEMENT:
        body["materials"] = [{"code": code} for code in material_codes if form.get(f"got_{code}")]
    return body
