"""The sync destination's fields, declared once as data; JSON Schema and parser derive from it.

Each ``FieldSpec`` holds its JSON Schema keywords; ``destination_schema()`` emits them as is and
``parse_fields()`` enforces the same keywords (type, enum, maxLength, pattern), then the field's
own rule, collecting every problem before raising ``InvalidInput``.
"""

from __future__ import annotations

import difflib
import re
from typing import Any, Callable, Mapping

import attrs

from ..errors import FieldError, InvalidInput

JSON_SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"
SCHEMA_ID = "https://schemas.azure-appconfig-plugin.dev/azure-app-configuration/sync-destination.json"
PLACEHOLDER = "{secretKey}"
INITIAL_SYNC_MODES = ("overwrite-destination", "import-prefer-source", "import-prefer-destination")
KEY_VAULT_MODES = ("auto", "off")

_JSON_TYPES: dict[str, tuple[type, ...]] = {"string": (str,), "boolean": (bool,)}


@attrs.frozen
class FieldSpec:
    name: str
    """JSON property name (camelCase)."""
    schema: Mapping[str, Any]
    """JSON Schema keywords of the property (type, title, description, default, enum, ...)."""
    required: bool = False
    rule: Callable[[Any], str | None] | None = attrs.field(default=None, eq=False)
    """An extra rule the keywords cannot say; returns the problem or None."""


def _type_problem(spec: FieldSpec, value: Any) -> str | None:
    kind = spec.schema["type"]
    if not isinstance(value, _JSON_TYPES[kind]) or (kind == "string" and isinstance(value, bool)):
        return f"must be a {kind}"
    if kind != "string":
        return None
    text = str(value)
    if any(0xD800 <= ord(c) <= 0xDFFF for c in text):
        return "must be valid Unicode text (no lone surrogates)"
    enum: list[str] | None = spec.schema.get("enum")
    max_length: int | None = spec.schema.get("maxLength")
    pattern: str | None = spec.schema.get("pattern")
    if enum is not None and text not in enum:
        return f"must be one of: {', '.join(enum)}"
    if max_length is not None and len(text) > max_length:
        return f"must be at most {max_length} characters"
    if pattern is not None and text and not re.search(pattern, text):
        return f"must match {pattern}"
    return None


def object_schema(fields: tuple[FieldSpec, ...], title: str, description: str) -> dict[str, Any]:
    return {
        "$schema": JSON_SCHEMA_DIALECT,
        "$id": SCHEMA_ID,
        "title": title,
        "description": description,
        "type": "object",
        "properties": {f.name: dict(f.schema) for f in fields},
        "required": [f.name for f in fields if f.required],
        "additionalProperties": False,
    }


def parse_fields(fields: tuple[FieldSpec, ...], data: Any) -> tuple[dict[str, Any], list[FieldError]]:
    """Values by field name (defaults filled in) and every problem found."""
    if not isinstance(data, Mapping):
        return {}, [FieldError("(destination)", "must be an object of destination fields")]
    names = [f.name for f in fields]
    errors = []
    for key in data:
        if key not in names:
            guess = difflib.get_close_matches(str(key), names, n=1)
            hint = f"; did you mean {guess[0]!r}?" if guess else f"; allowed: {', '.join(names)}"
            errors.append(FieldError(str(key), "is not a known field" + hint))
    values: dict[str, Any] = {}
    for spec in fields:
        value = data.get(spec.name)
        if value is None:
            if spec.required:
                errors.append(FieldError(spec.name, "is required"))
            values[spec.name] = spec.schema.get("default")
            continue
        problem = _type_problem(spec, value) or (spec.rule(value) if spec.rule else None)
        if problem:
            errors.append(FieldError(spec.name, problem))
        else:
            values[spec.name] = value
    return values, errors


def raise_if(errors: list[FieldError]) -> None:
    if errors:
        raise InvalidInput(errors=errors)
