"""The destination's fields (one declaration) and the parsed ``DestinationConfig``."""

from __future__ import annotations

import json
from typing import Any, Mapping

import attrs

from ..errors import AppConnectionError, FieldError
from .fields import INITIAL_SYNC_MODES, KEY_VAULT_MODES, PLACEHOLDER, FieldSpec, object_schema, parse_fields, raise_if
from .scope import Scope, key_problem, label_problem


def _template_rule(value: str) -> str | None:
    if value.count(PLACEHOLDER) != 1:
        return f"must contain {PLACEHOLDER} exactly once, e.g. app/{PLACEHOLDER}"
    rest = value.replace(PLACEHOLDER, "")
    if "{" in rest or "}" in rest:
        return f"must not contain braces other than {PLACEHOLDER}"
    problem = key_problem(value.replace(PLACEHOLDER, "x"))
    return f"gives keys that are not valid App Configuration keys: a key {problem}" if problem else None


def _prefix_rule(value: str) -> str | None:
    problem = key_problem(value + "x")
    return f"gives keys that are not valid App Configuration keys: a key {problem}" if problem else None


FIELDS: tuple[FieldSpec, ...] = (
    FieldSpec("endpoint", {
        "type": "string", "title": "Store endpoint", "format": "uri", "maxLength": 2048,
        "description": "The store's endpoint, e.g. https://mystore.azconfig.io (same rules and allow-list as validation).",
    }, required=True),
    FieldSpec("label", {
        "type": "string", "title": "Label", "default": "", "maxLength": 2048,
        "description": "The label the sync owns; empty means the null label (never all labels). No '*', ',' or '\\'.",
    }, rule=label_problem),
    FieldSpec("keyPrefix", {
        "type": "string", "title": "Key prefix", "default": "", "maxLength": 2048,
        "description": "Prefix of every key the sync writes, e.g. myapp/; it owns only keys under it.",
    }, rule=_prefix_rule),
    FieldSpec("keyTemplate", {
        "type": "string", "title": "Key template", "maxLength": 2048, "examples": [f"app/{PLACEHOLDER}"],
        "description": f"Key for each secret, with one {PLACEHOLDER} placeholder, e.g. app/{PLACEHOLDER}.",
    }, rule=_template_rule),
    FieldSpec("deleteMissing", {
        "type": "boolean", "title": "Delete missing", "default": False,
        "description": "Delete entries inside the scope whose secret no longer exists.",
    }),
    FieldSpec("initialSync", {
        "type": "string", "title": "Initial sync", "enum": list(INITIAL_SYNC_MODES), "default": INITIAL_SYNC_MODES[0],
        "description": "First push: make the store match the platform, or also import the store's entries "
                       "(preferring the platform's or the store's value where both exist).",
    }),
    FieldSpec("keyVaultReferences", {
        "type": "string", "title": "Key Vault references", "enum": list(KEY_VAULT_MODES), "default": "auto",
        "description": "auto: a value that is a Key Vault secret URI is written as a Key Vault reference; off: as text.",
    }),
)


def destination_schema() -> dict[str, Any]:
    return object_schema(FIELDS, "Azure App Configuration sync destination",
                         "Where and how a platform's secrets are synced into an App Configuration store.")


def fields_table() -> str:
    """The README's table of destination fields, derived from ``FIELDS``."""
    rows = ["| field | type | default | meaning |", "| --- | --- | --- | --- |"]
    for f in FIELDS:
        kind = " / ".join(f"`{v}`" for v in f.schema["enum"]) if "enum" in f.schema else f.schema["type"]
        default = "required" if f.required else (f"`{json.dumps(f.schema['default'])}`" if "default" in f.schema else "-")
        rows.append(f"| `{f.name}` | {kind} | {default} | {f.schema['description'].replace('|', '/')} |")
    return "\n".join(rows)


@attrs.frozen
class DestinationConfig:
    endpoint: str
    label: str | None = None
    """None is the null label."""
    key_prefix: str = ""
    key_template: str | None = None
    delete_missing: bool = False
    initial_sync: str = INITIAL_SYNC_MODES[0]
    key_vault_references: str = "auto"

    @property
    def scope(self) -> Scope:
        template = self.key_template or PLACEHOLDER
        before, after = template.split(PLACEHOLDER, 1)
        return Scope(self.label, self.key_prefix + before, after)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"endpoint": self.endpoint, "label": self.label or "", "keyPrefix": self.key_prefix,
                               "deleteMissing": self.delete_missing, "initialSync": self.initial_sync,
                               "keyVaultReferences": self.key_vault_references}
        if self.key_template:
            out["keyTemplate"] = self.key_template
        return out


def parse_destination(data: Mapping[str, Any] | DestinationConfig, *, env: Mapping[str, str] | None = None) -> DestinationConfig:
    """Check every field (and the endpoint rules, offline); raise ``InvalidInput`` naming each bad one."""
    if isinstance(data, DestinationConfig):
        return data
    values, errors = parse_fields(FIELDS, data)
    if values.get("endpoint") is not None:
        from ..clouds import cloud_for_host
        from ..endpoints import parse_endpoint

        try:
            from urllib.parse import urlsplit

            host = urlsplit(values["endpoint"].strip()).hostname or ""
            parsed = parse_endpoint(values["endpoint"], cloud=cloud_for_host(host), env=env)
            values["endpoint"] = parsed.url
        except (AppConnectionError, ValueError) as exc:
            errors.extend(getattr(exc, "errors", ()) or [FieldError("endpoint", str(exc))])
    raise_if(errors)
    return DestinationConfig(
        endpoint=values["endpoint"], label=values["label"] or None, key_prefix=values["keyPrefix"] or "",
        key_template=values.get("keyTemplate") or None, delete_missing=bool(values["deleteMissing"]),
        initial_sync=values["initialSync"], key_vault_references=values["keyVaultReferences"],
    )
