"""HTML forms derived from a published JSON Schema, and form posts turned back into input.

Only what the schema says is used: ``title``/``description`` (label, help), ``writeOnly`` (a
password input, never filled back), ``pattern`` (the browser's ``pattern=``; the server parses
again), ``enum``, ``type``, ``x-multiline`` (a text area), ``x-order`` and the titled ``oneOf``
alternatives (one fieldset each).
"""

from __future__ import annotations

from typing import Any

PREFIX = "f."
"""Form names of schema fields (``f.clientId``), apart from the host's own fields."""


def widget(prop: dict[str, Any]) -> str:
    """The input kind: a PEM block keeps its line breaks in a text area (a password input drops them)."""
    types = prop["type"] if isinstance(prop.get("type"), list) else [prop.get("type")]
    kinds = {"textarea": prop.get("x-multiline"), "password": prop.get("writeOnly"), "select": "enum" in prop}
    kinds.update(checkbox="boolean" in types, number="integer" in types)
    return next((kind for kind, applies in kinds.items() if applies), "text")


def field(name: str, prop: dict[str, Any], required: set[str], values: dict[str, Any]) -> dict[str, Any]:
    """One input: its form name, widget, schema property and value (a secret's never filled back)."""
    kind = widget(prop)
    value = "" if prop.get("writeOnly") else values.get(name, prop.get("default", ""))
    options = [o for o in prop.get("enum", []) if o is not None]
    return {"name": PREFIX + name, "key": name, "kind": kind, "prop": prop, "required": name in required,
            "value": "" if value is None else value, "options": options}  # fmt: skip


def sections(schema: dict[str, Any], values: dict[str, Any]) -> list[dict[str, Any]]:
    """The form: the fields outside any choice, then one titled section per alternative."""
    props, required = schema["properties"], set(schema.get("required", []))
    order = [n for n in schema.get("x-order", props) if "const" not in props[n]]
    branches = schema.get("oneOf", [])
    chosen = {n for b in branches for n in b.get("required", [])}
    common = [field(n, props[n], required, values) for n in order if n not in chosen]
    out = [{"title": None, "fields": common}]
    for b in branches:
        names = [n for n in order if n in b.get("required", [])]
        out.append({"title": b["title"], "fields": [field(n, props[n], set(names) & required, values) for n in names]})
    return out


def read(schema: dict[str, Any], form: Any) -> dict[str, Any]:
    """The input a form post gives: empty fields absent, checkboxes booleans, numbers ints."""
    data: dict[str, Any] = {}
    for name, prop in schema["properties"].items():
        kind, raw = widget(prop), form.get(PREFIX + name)
        if kind == "checkbox":
            data[name] = raw is not None
        elif raw not in (None, ""):
            data[name] = int(raw) if kind == "number" and raw.lstrip("-").isdigit() else raw
    return data
