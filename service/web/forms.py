"""Forms checked by the API's own marshmallow schemas, with the errors in Chinese per field."""

from typing import Any

from marshmallow import Schema, ValidationError

from service.errors import flatten_messages
from service.web.messages import label_of, message_zh

FormErrors = dict[str, list[str]]


def load_form(schema: Schema, data: dict[str, Any]) -> tuple[dict[str, Any] | None, FormErrors]:
    """Validate `data` with `schema`: (loaded, {}) or (None, {field path: [Chinese messages]})."""
    try:
        return schema.load(data), {}
    except ValidationError as err:
        return None, errors_zh(err.messages)


def errors_zh(messages: Any) -> FormErrors:
    """marshmallow's nested messages as {dotted field: [Chinese]}."""
    out: FormErrors = {}
    for entry in flatten_messages(messages):
        out.setdefault(entry["field"], []).extend(message_zh(m) for m in entry["messages"])
    return out


def summary_zh(errors: FormErrors) -> list[str]:
    """One line per field at fault, labelled, for the box at the top of a form."""
    lines = []
    for field, messages in errors.items():
        label = label_of(field)
        lines.append(f"{label}：{''.join(messages)}" if label else "".join(messages))
    return lines


def cleaned(form, *names: str) -> dict[str, str]:
    """The named form fields that were filled in, stripped; empty ones are left out so that the
    schema's defaults and required-field checks apply."""
    out = {}
    for name in names:
        value = form.get(name, "")
        if isinstance(value, str) and value.strip():
            out[name] = value.strip()
    return out


def by_material(errors: FormErrors, body: dict) -> FormErrors:
    """Schema errors name list positions (materials.0.copies); the forms name material codes
    (materials.M01), so each message shows beside its material."""
    out: FormErrors = {}
    for field, messages in errors.items():
        parts = field.split(".")
        if (
            len(parts) >= 2
            and parts[0] in ("materials", "deferred_materials")
            and parts[1].isdigit()
        ):
            entries = body.get(parts[0]) or []
            index = int(parts[1])
            if index < len(entries):
                field = f"materials.{entries[index]['code']}"
        out.setdefault(field, []).extend(messages)
    return out
