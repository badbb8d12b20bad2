"""The destination's fields, declared once with the contract's ``fields.Field`` (and ``Rule``s for
what JSON Schema cannot say), and the parsed ``DestinationConfig``. The JSON Schema
(``fields.object_schema``), the parser (``fields.parse_fields``) and the docs/sync.md table derive from
``FIELDS``; key and label rules are the data in ``scope.py``."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import TypeAlias

import attrs

from app_connections.fields import MISSING, Field, Rule, object_schema, parse_fields
from app_connections.jsontypes import JSONInput, JSONObject

from ..errors import AppConnectionError, FieldError, InvalidInput
from .scope import KEY_CHECKS, LABEL_CHECKS, Check, Scope, key_problem

PLACEHOLDER = "{secretKey}"
INITIAL_SYNC_MODES = ("overwrite-destination", "import-prefer-source", "import-prefer-destination")
KEY_VAULT_MODES = ("auto", "off")
MAX_TEXT = 2048


def _rule(check: Check, key_of: Callable[[str], str] | None = None) -> Rule:
    """A field ``Rule`` from a scope check; with ``key_of``, the check applies to the keys the value gives."""
    test, problem = check
    if key_of is None:
        return Rule(test, problem)
    return Rule(
        lambda value: test(key_of(value)), f"gives keys that are not valid App Configuration keys: a key {problem}"
    )


def _one_placeholder(value: str) -> bool:
    return value.count(PLACEHOLDER) == 1


def _no_other_braces(value: str) -> bool:
    rest = value.replace(PLACEHOLDER, "")
    return "{" not in rest and "}" not in rest


def _template_key(value: str) -> str:
    return value.replace(PLACEHOLDER, "x")


def _prefix_key(value: str) -> str:
    return value + "x"


FIELDS: tuple[Field, ...] = (
    Field(
        "endpoint",
        title="Store endpoint",
        format="uri",
        max_length=MAX_TEXT,
        required=True,
        description="The store's endpoint, e.g. https://mystore.azconfig.io (same rules and allow-list as validation).",
    ),
    Field(
        "label",
        title="Label",
        default="",
        max_length=MAX_TEXT,
        rules=[_rule(c) for c in LABEL_CHECKS],
        description="The label the sync owns; empty means the null label (never all labels). No '*', ',' or '\\'.",
    ),
    Field(
        "keyPrefix",
        title="Key prefix",
        default="",
        max_length=MAX_TEXT,
        rules=[_rule(c, _prefix_key) for c in KEY_CHECKS],
        description="Prefix of every key the sync writes, e.g. myapp/; it owns only keys under it.",
    ),
    Field(
        "keyTemplate",
        title="Key template",
        max_length=MAX_TEXT,
        examples=[f"app/{PLACEHOLDER}"],
        rules=[
            Rule(_one_placeholder, f"must contain {PLACEHOLDER} exactly once, e.g. app/{PLACEHOLDER}"),
            Rule(_no_other_braces, f"must not contain braces other than {PLACEHOLDER}"),
            *(_rule(c, _template_key) for c in KEY_CHECKS),
        ],
        description=f"Key for each secret, with one {PLACEHOLDER} placeholder, e.g. app/{PLACEHOLDER}.",
    ),
    Field(
        "deleteMissing",
        type="boolean",
        title="Delete missing",
        default=False,
        description="Delete entries inside the scope whose secret no longer exists.",
    ),
    Field(
        "initialSync",
        title="Initial sync",
        enum=INITIAL_SYNC_MODES,
        default=INITIAL_SYNC_MODES[0],
        description="First push: make the store match the platform, or also import the store's entries "
        "(preferring the platform's or the store's value where both exist).",
    ),
    Field(
        "keyVaultReferences",
        title="Key Vault references",
        enum=KEY_VAULT_MODES,
        default="auto",
        description="auto: a value that is a Key Vault secret URI is written as a Key Vault reference; off: as text.",
    ),
)


def destination_schema() -> JSONObject:
    """JSON Schema (draft 2020-12) of the destination's fields (``FIELDS``)."""
    return object_schema(
        FIELDS,
        title="Azure App Configuration sync destination",
        description="Where and how a platform's secrets are synced into an App Configuration store.",
    )


def fields_table() -> str:
    """The docs/sync.md table of destination fields, derived from ``FIELDS`` (type, default and meaning:
    the contract's ``docs_table`` has no type or default column, which a destination needs)."""
    rows = ["| field | type | default | meaning |", "| --- | --- | --- | --- |"]
    for f in FIELDS:
        kind = " / ".join(f"`{v}`" for v in f.enum) if f.enum is not None else f.type
        default = "required" if f.required else (f"`{json.dumps(f.default)}`" if f.default is not MISSING else "-")
        rows.append(f"| `{f.name}` | {kind} | {default} | {f.description.replace('|', '/')} |")
    return "\n".join(rows)


@attrs.frozen
class DestinationConfig:
    """A parsed destination: the store's endpoint and the scope and rules of the sync there."""

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
        """The part of the store the sync owns: the label and the keys the template gives."""
        template = self.key_template or PLACEHOLDER
        before, after = template.split(PLACEHOLDER, 1)
        return Scope(self.label, self.key_prefix + before, after)

    def to_dict(self) -> JSONObject:
        """The destination's fields as JSON (what ``parse_destination`` reads back)."""
        out: JSONObject = {
            "endpoint": self.endpoint,
            "label": self.label or "",
            "keyPrefix": self.key_prefix,
            "deleteMissing": self.delete_missing,
            "initialSync": self.initial_sync,
            "keyVaultReferences": self.key_vault_references,
        }
        if self.key_template:
            out["keyTemplate"] = self.key_template
        return out


DestinationInput: TypeAlias = "JSONInput | DestinationConfig"
"""A destination as the operations take it: a mapping of its fields, or a parsed ``DestinationConfig``."""


def parse_destination(data: DestinationInput, *, env: Mapping[str, str] | None = None) -> DestinationConfig:
    """Check every field (and the endpoint rules, offline); raise ``InvalidInput`` naming each bad one."""
    if isinstance(data, DestinationConfig):
        return data
    errors: list[FieldError] = []
    try:
        values = parse_fields(FIELDS, data, what="(destination)")
    except InvalidInput as exc:  # keep going: the endpoint's own rules are named in the same error
        errors.extend(exc.errors)
        values = {}
    endpoint = data.get("endpoint") if isinstance(data, Mapping) else None
    if isinstance(endpoint, str) and len(endpoint) <= MAX_TEXT and not any(e.field == "endpoint" for e in errors):
        from urllib.parse import urlsplit

        from ..clouds import cloud_for_host
        from ..endpoints import parse_endpoint

        try:
            host = urlsplit(endpoint.strip()).hostname or ""
            endpoint = parse_endpoint(endpoint, cloud=cloud_for_host(host), env=env).url
        except (AppConnectionError, ValueError) as exc:
            errors.extend((exc.errors if isinstance(exc, InvalidInput) else ()) or [FieldError("endpoint", str(exc))])
    prefix, template = values.get("key_prefix") or "", values.get("key_template") or ""
    if prefix and template:  # each passed its own rules; together they may still give keys that cannot be
        problem = key_problem(prefix + _template_key(template))
        if problem:
            errors.append(
                FieldError(
                    "keyTemplate",
                    f"after keyPrefix {prefix!r} gives keys that are not valid App Configuration keys: a key {problem}",
                )
            )
    if errors:
        raise InvalidInput(errors=errors)
    assert isinstance(endpoint, str)  # parse_fields required it (a string) and no error was found
    return DestinationConfig(
        endpoint=endpoint,
        label=values["label"] or None,
        key_prefix=values["key_prefix"] or "",
        key_template=values.get("key_template") or None,
        delete_missing=bool(values["delete_missing"]),
        initial_sync=values["initial_sync"],
        key_vault_references=values["key_vault_references"],
    )
