"""The two snapshots a plan compares: desired entries (from the platform's secrets) and listed ones.

``desired_entries`` turns ``{name: value}`` (or ``{name: Secret(...)}``) into entries, rejecting
bad input before any request and naming each bad item.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, TypeAlias, cast

import attrs

from ..errors import FieldError, InvalidInput
from .config import DestinationConfig
from .scope import (
    FEATURE_FLAG_CONTENT_TYPE,
    KEY_VAULT_REF_CONTENT_TYPE,
    KEY_VAULT_REF_MARK,
    MAX_ENTRY_BYTES,
    entry_bytes,
    is_key_vault_uri,
    key_problem,
    key_vault_ref_problem,
    key_vault_ref_value,
    media_type,
    secret_name_problem,
)

if TYPE_CHECKING:
    from app_connections.jsontypes import JSONInput

TAGS_SHAPE = "must map strings to strings"
SECRETS_SHAPE = "must map secret names to values (a mapping, or (name, value) pairs)"


def _tags(value: object) -> dict[str, str]:
    """Tags as a plain dict; ``InvalidInput`` unless a mapping (or None). Whether they map strings
    to strings is checked where secrets are read, naming the secret."""
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise InvalidInput(errors=[FieldError("tags", TAGS_SHAPE)])
    try:
        tags = dict(value)
    except Exception:  # a hostile Mapping whose iteration raises
        raise InvalidInput(errors=[FieldError("tags", TAGS_SHAPE)]) from None
    return tags


def _pairs(secrets: object) -> list[tuple[object, object]]:
    """``secrets`` as (name, value) pairs; ``InvalidInput`` for any other shape."""
    try:
        if isinstance(secrets, Mapping):
            return list(secrets.items())
        if isinstance(secrets, (str, bytes, bytearray)) or secrets is None:
            raise TypeError
        pairs = [_pair(item) for item in cast("Iterable[object]", secrets)]  # not iterable: TypeError, below
    except Exception:  # not iterable, a hostile mapping, items that are not pairs
        raise InvalidInput(errors=[FieldError("secrets", SECRETS_SHAPE)]) from None
    return pairs


def _pair(item: object) -> tuple[object, object]:
    if isinstance(item, (str, bytes, bytearray)):
        raise TypeError("a string is not a (name, value) pair")
    name, value = cast("Iterable[object]", item)  # not two items: an error, as for any non-pair
    return name, value


@attrs.frozen
class Secret:
    """A secret's value with an optional content type and tags."""

    value: str = attrs.field(repr=False)
    content_type: str | None = None
    tags: Mapping[str, str] = attrs.field(factory=dict, converter=_tags)


@attrs.frozen
class Entry:
    """One (key, label) entry: desired (no etag) or as listed from the store."""

    key: str
    label: str | None
    value: str | None = attrs.field(repr=False)
    content_type: str | None = None
    tags: Mapping[str, str] = attrs.field(factory=dict, converter=_tags)
    etag: str | None = None
    locked: bool = False
    name: str | None = None
    """The secret name this entry maps to (desired entries; listed ones inside the scope)."""

    @property
    def id(self) -> tuple[str, str | None]:
        """The entry's identity in the store: (key, label)."""
        return self.key, self.label

    def same_content(self, other: Entry) -> bool:
        """Same value, content type (empty is none) and tags: a write would change nothing."""
        return (self.value, self.content_type or None, dict(self.tags)) == (
            other.value,
            other.content_type or None,
            dict(other.tags),
        )


def _as_secret(name: str, raw: object, errors: list[FieldError]) -> Secret | None:
    try:
        if isinstance(raw, Secret):
            secret = raw
        elif isinstance(raw, str):
            secret = Secret(raw)
        elif isinstance(raw, Mapping) and isinstance(raw.get("value"), str):
            secret = Secret(raw["value"], raw.get("contentType"), raw.get("tags"))
        else:
            secret = None
    except InvalidInput:  # tags of another shape
        errors.append(FieldError(f"secrets[{name!r}].tags", TAGS_SHAPE))
        return None
    except Exception:  # a hostile Mapping
        secret = None
    if secret is None:
        errors.append(FieldError(f"secrets[{name!r}]", "must be a string, a Secret or {value, contentType, tags}"))
        return None
    value: object = secret.value  # typed str, but a host may build a Secret with anything
    if not isinstance(value, str):
        errors.append(FieldError(f"secrets[{name!r}]", "must be a string, a Secret or {value, contentType, tags}"))
        return None
    if any(0xD800 <= ord(c) <= 0xDFFF for c in secret.value):
        errors.append(FieldError(f"secrets[{name!r}]", "the value is not valid Unicode (lone surrogate)"))
        return None
    content_type: object = secret.content_type  # typed str | None, but a host may hand anything
    if content_type is not None and not isinstance(content_type, str):
        errors.append(FieldError(f"secrets[{name!r}].contentType", "must be a string"))
        return None
    if not all(isinstance(k, str) and isinstance(v, str) for k, v in secret.tags.items()):
        errors.append(FieldError(f"secrets[{name!r}].tags", TAGS_SHAPE))
        return None
    problem = content_type_problem(secret.value, content_type)
    if problem is not None:
        errors.append(FieldError(f"secrets[{name!r}].contentType", problem))
        return None
    return secret


SecretInput: TypeAlias = "str | Secret | JSONInput"
"""One secret as given: its value, a ``Secret``, or ``{value, contentType, tags}``."""
Secrets: TypeAlias = "Mapping[str, SecretInput] | Iterable[tuple[str, SecretInput]]"
"""The secrets of a push: name -> secret, or (name, secret) pairs."""


def content_type_problem(value: str, content_type: str | None) -> str | None:
    """Why an entry with this content type is one real clients cannot load, or None: a feature flag
    belongs to the feature-flag destination; a Key Vault reference needs the SDK's exact content type
    and a ``{"uri": ...}`` value the provider can resolve."""
    kind = media_type(content_type)
    if kind == FEATURE_FLAG_CONTENT_TYPE:
        return "is the feature-flag content type: feature flags are not secrets (use the feature-flag destination)"
    if kind != media_type(KEY_VAULT_REF_CONTENT_TYPE):
        return None
    if content_type != KEY_VAULT_REF_CONTENT_TYPE:
        return (
            f"must be exactly {KEY_VAULT_REF_CONTENT_TYPE!r} for a Key Vault reference "
            "(clients load any other spelling as plain JSON)"
        )
    problem = key_vault_ref_problem(value)
    return None if problem is None else f"is a Key Vault reference, so its value {problem}"


def desired_entries(secrets: Secrets, config: DestinationConfig) -> list[Entry]:
    """Entries to write, in the secrets' order; ``InvalidInput`` lists every bad secret."""
    pairs = _pairs(secrets)
    scope = config.scope
    errors: list[FieldError] = []
    out: list[Entry] = []
    seen: dict[str, str] = {}
    for name, raw in pairs:
        where = f"secrets[{name!r}]" if isinstance(name, str) else f"secrets[<a {type(name).__name__}>]"
        problem = secret_name_problem(name)
        if problem:
            errors.append(FieldError(where, f"name {problem}"))
            continue
        assert isinstance(name, str)  # secret_name_problem refuses anything else
        secret = _as_secret(name, raw, errors)
        if secret is None:
            continue
        key = scope.key_for(name)
        problem = key_problem(key)
        if problem:
            errors.append(FieldError(where, f"key {key!r} {problem}"))
            continue
        if key in seen:
            errors.append(
                FieldError(where, f"maps to key {key!r}, like secret {seen[key]!r}: target keys must be unique")
            )
            continue
        seen[key] = name
        value, content_type, tags = secret.value, secret.content_type, dict(secret.tags)
        if config.key_vault_references == "auto" and secret.content_type is None and is_key_vault_uri(value):
            value, content_type = key_vault_ref_value(value), KEY_VAULT_REF_CONTENT_TYPE
            tags[KEY_VAULT_REF_MARK[0]] = KEY_VAULT_REF_MARK[1]
        size = entry_bytes(key, scope.label, value, content_type, tags)
        if size > MAX_ENTRY_BYTES:
            errors.append(
                FieldError(
                    where,
                    f"entry is {size} bytes; App Configuration allows {MAX_ENTRY_BYTES} "
                    "(key + label + value + content type + tags)",
                )
            )
            continue
        out.append(Entry(key, scope.label, value, content_type, tags, name=name))
    if errors:
        raise InvalidInput(errors=errors)
    return out
