"""Secret rules derived from the providers' own declarations: every field a loaded provider's
method declares secret (``Field(secret=True)``, or ``writeOnly``/``format: password`` in its
schema) is sanitized out of recordings and flagged by the secret scan, under its field name and,
when it travels in an HTTP header (``Field(header=...)``), under that header too."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from ..declared import DeclaredAuthMethod
from ..fields import HEADER_KEYWORD
from ..records import AuthMethod, ConnectionType
from ..trust.hooks import secret_fields
from .rules import SecretRules


def _schemas(method: AuthMethod) -> list[Mapping[str, object]]:
    """The method's input schema and, when it declares them, its stored fields' schema (a refresh
    or broker token is stored, never typed in). A method whose schema raises contributes nothing:
    loading and conformance report it."""
    try:
        schemas: list[Mapping[str, object]] = [method.input_schema()]
        if isinstance(method, DeclaredAuthMethod):
            schemas.append(method.stored_schema())
    except Exception:
        return []
    return schemas


def declared_secret_rules(types: Iterable[ConnectionType]) -> SecretRules:
    """``SecretRules`` naming every secret field (and its header) the methods of ``types`` declare."""
    fields: list[str] = []
    headers: list[str] = []
    for ctype in types:
        for method in ctype.methods.values():
            for schema in _schemas(method):
                props = schema.get("properties")
                if not isinstance(props, Mapping):
                    continue
                for name in sorted(secret_fields(schema)):
                    fields.append(name)
                    prop = props.get(name)
                    header = prop.get(HEADER_KEYWORD) if isinstance(prop, Mapping) else None
                    if isinstance(header, str) and header:
                        headers.append(header)
    return SecretRules(headers=tuple(dict.fromkeys(headers)), fields=tuple(dict.fromkeys(fields)))


def installed_secret_rules(env: Mapping[str, str] | None = None) -> SecretRules:
    """``declared_secret_rules`` of every provider the loader admits here (entry points, the
    environment's allow-list); a provider that fails to load contributes nothing."""
    from ..loader import load_plugins
    from ..trust import AllowListError

    try:
        registry = load_plugins(env=env)
    except AllowListError:  # a malformed allow-list: the tests that load plugins report it
        return SecretRules()
    return declared_secret_rules(registry.types.values())
