"""What the sync owns in a store: one label, one key prefix/template; never feature flags.

Keys, labels and filters follow App Configuration's rules: a key is not ``.`` or ``..`` and has
no ``%``; a label the sync writes has no ``*``, ``,`` or ``\\``; in a key or label *filter* the
reserved characters ``*``, ``,`` and ``\\`` are escaped with a backslash; the null label is
listed with the filter ``\\0`` (never ``*``, which means every label).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from urllib.parse import quote

import attrs

FEATURE_FLAG_PREFIX = ".appconfig.featureflag/"
FEATURE_FLAG_CONTENT_TYPE = "application/vnd.microsoft.appconfig.ff+json"
KEY_VAULT_REF_CONTENT_TYPE = "application/vnd.microsoft.appconfig.keyvaultref+json;charset=utf-8"
KEY_VAULT_REF_MARK = ("azure-appconfig-plugin.sync", "keyvault-reference")
"""The tag the sync puts on Key Vault references it writes: only those it ever changes or deletes."""
NULL_LABEL_FILTER = "\0"
UNADDRESSABLE = "unaddressable_key"
NOT_A_SECRET = "not_a_secret_name"
RESERVED = ("\\", "*", ",")
MAX_ENTRY_BYTES = 10 * 1024
"""App Configuration's limit on key + label + value + content type + tags."""
SECRET_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.\-]{0,255}$")
KEY_VAULT_SECRET_URI = re.compile(
    r"^https://[A-Za-z0-9](?:[A-Za-z0-9-]{1,22}[A-Za-z0-9])\."
    r"vault\.(?:azure\.net|usgovcloudapi\.net|azure\.cn|microsoftazure\.de)(?::443)?"
    r"/secrets/[A-Za-z0-9-]{1,127}(?:/[0-9A-Fa-f]{32})?/?$"
)


def encode_query(params: Mapping[str, str]) -> str:
    """A query string with every value percent-encoded exactly once (UTF-8, nothing left raw but
    unreserved characters): azure-core's ``HttpRequest(params=...)`` expects values already encoded."""
    return "&".join(f"{name}={quote(value, safe='')}" for name, value in params.items())


def escape_filter(text: str) -> str:
    """Backslash-escape ``\\``, ``*`` and ``,`` so a filter matches them literally."""
    for ch in RESERVED:
        text = text.replace(ch, "\\" + ch)
    return text


def media_type(content_type: str | None) -> str:
    """The media type of a content type, lower-case, without parameters (``''`` for none)."""
    return (content_type or "").split(";", 1)[0].strip().lower()


def is_feature_flag(key: str, content_type: str | None) -> bool:
    """A feature flag, by its key prefix or its content type: never the sync's."""
    return key.startswith(FEATURE_FLAG_PREFIX) or media_type(content_type) == FEATURE_FLAG_CONTENT_TYPE


def is_key_vault_ref(content_type: str | None) -> bool:
    """A Key Vault reference as the SDK and the provider recognise it: the exact content type (a prefix
    match, case-sensitive, charset included), nothing looser."""
    return (content_type or "").startswith(KEY_VAULT_REF_CONTENT_TYPE)


def is_inexact_key_vault_ref(content_type: str | None) -> bool:
    """The Key Vault reference media type without the exact content type (e.g. no charset): clients
    load it as a plain JSON value, not as a reference."""
    return media_type(content_type) == media_type(KEY_VAULT_REF_CONTENT_TYPE) and not is_key_vault_ref(content_type)


def is_key_vault_uri(value: str) -> bool:
    """A Key Vault secret URI (of a known cloud's vault domain)."""
    return bool(KEY_VAULT_SECRET_URI.match(value))


def key_vault_ref_value(uri: str) -> str:
    """The value of a Key Vault reference to ``uri``: ``{"uri": ...}``."""
    return json.dumps({"uri": uri})


def key_vault_ref_uri(value: str | None) -> str | None:
    """The secret URI a Key Vault reference points to, or None when the value is not one."""
    try:
        data = json.loads(value or "")
    except (ValueError, RecursionError):
        return None
    uri = data.get("uri") if isinstance(data, dict) else None
    return uri if isinstance(uri, str) else None


def key_vault_ref_problem(value: str) -> str | None:
    """Why a Key Vault reference value is not one the provider can resolve, or None when it is
    ``{"uri": "https://<vault>/secrets/<name>[/<version>]"}``."""
    uri = key_vault_ref_uri(value)
    if uri is None:
        return 'must be JSON {"uri": "https://<vault>.vault.azure.net/secrets/<name>[/<version>]"}'
    if not is_key_vault_uri(uri):
        return (
            "has a uri that is not a Key Vault secret URI (https://<vault>.vault.azure.net/secrets/<name>[/<version>])"
        )
    return None


def wrote_key_vault_ref(tags: Mapping[str, object] | None) -> bool:
    """True when ``tags`` carry the mark the sync puts on the Key Vault references it writes."""
    return (tags or {}).get(KEY_VAULT_REF_MARK[0]) == KEY_VAULT_REF_MARK[1]


def _printable(text: str) -> bool:
    return not any(ord(c) < 32 or 0x7F <= ord(c) < 0xA0 or 0xD800 <= ord(c) <= 0xDFFF for c in text)


BIDI_CONTROLS = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def _bidi(text: str) -> bool:
    return any(c in BIDI_CONTROLS for c in text)


Check = tuple[Callable[[str], bool], str]
"""``(test, problem)``: ``test(text)`` is True when the text is fine, else ``problem`` says why."""

KEY_CHECKS: tuple[Check, ...] = (
    (bool, "is empty"),
    (lambda key: key not in (".", ".."), "must not be '.' or '..'"),
    (lambda key: "%" not in key, "must not contain '%'"),
    (
        lambda key: not key.startswith(FEATURE_FLAG_PREFIX),
        f"must not start with {FEATURE_FLAG_PREFIX!r} (reserved for feature flags)",
    ),
    (_printable, "must not contain control characters or lone surrogates"),
    (lambda key: not _bidi(key), "must not contain bidirectional control characters"),
)
"""App Configuration's rules for a key the sync writes, as data: ``key_problem`` and the destination
fields' ``Rule``s (``config.py``) derive from them."""


def _without(ch: str) -> Callable[[str], bool]:
    return lambda text: ch not in text


LABEL_CHECKS: tuple[Check, ...] = tuple(
    (_without(ch), f"must not contain {ch!r} (reserved in label filters; the sync never lists 'all labels')")
    for ch in sorted(RESERVED)
) + ((_printable, "must not contain control characters or lone surrogates"),)
"""The rules for the label the sync owns, as data (the destination's ``label`` field derives from them)."""


def first_problem(checks: tuple[Check, ...], text: str) -> str | None:
    """The problem of the first check ``text`` fails, or None."""
    return next((problem for test, problem in checks if not test(text)), None)


def key_problem(key: str) -> str | None:
    """Why ``key`` is not a key the sync may write (``KEY_CHECKS``), or None."""
    return first_problem(KEY_CHECKS, key)


def secret_name_problem(name: object) -> str | None:
    """Why ``name`` cannot be a secret name, or None when it can."""
    if not isinstance(name, str) or not SECRET_NAME.match(name):
        return "is not a secret name (1-256 letters, digits, '_', '.', '-'; not starting with '.' or '-')"
    return None


def entry_bytes(key: str, label: str | None, value: str, content_type: str | None, tags: Mapping[str, str]) -> int:
    """An entry's size as App Configuration counts it (UTF-8 bytes of every part)."""
    parts = [key, label or "", value, content_type or ""] + [p for kv in tags.items() for p in kv]
    return sum(len(p.encode("utf-8", "surrogatepass")) for p in parts)


@attrs.frozen
class Scope:
    """The sync's part of a store: keys ``prefix + <secret name> + suffix`` under one label."""

    label: str | None
    """None is the null label (listed as ``\\0``)."""
    prefix: str = ""
    suffix: str = ""

    @property
    def key_filter(self) -> str | None:
        """Server-side key filter: the literal prefix, escaped, then ``*``; None lists every key of the label."""
        return escape_filter(self.prefix) + "*" if self.prefix else None

    @property
    def label_filter(self) -> str:
        """Server-side label filter: the label, escaped, or ``\\0`` for the null label."""
        return NULL_LABEL_FILTER if self.label is None else escape_filter(self.label)

    def key_for(self, name: str) -> str:
        """The key a secret name maps to."""
        return f"{self.prefix}{name}{self.suffix}"

    def name_for(self, key: str) -> str | None:
        """The secret name a key maps back to, or None when the key is outside the scope."""
        if not (key.startswith(self.prefix) and key.endswith(self.suffix)) or len(key) <= len(self.prefix) + len(
            self.suffix
        ):
            return None
        return key[len(self.prefix) : len(key) - len(self.suffix)]

    def fits(self, key: str, label: str | None) -> bool:
        """This label (exactly) and the prefix/template, never a feature flag key: what the listing keeps."""
        return (
            (label or None) == self.label and self.name_for(key) is not None and not key.startswith(FEATURE_FLAG_PREFIX)
        )

    def refusal(self, key: str) -> tuple[str, str] | None:
        """The one scope rule, shared by push, plan, remove and import: a key that fits is owned only
        when it maps to a secret name and can be addressed. Else ``(code, why)``: ``unaddressable_key``
        (``.``, ``..``, ``%``, control or bidi characters, lone surrogates: no request can name it) or
        ``not_a_secret_name`` (nested or ``:`` keys); such keys are reported, never written or deleted."""
        problem = key_problem(key)
        if problem is not None:
            return UNADDRESSABLE, f"key {problem}: it cannot be addressed safely, so it is never changed"
        name = self.name_for(key) or ""
        problem = secret_name_problem(name)
        if problem is not None:
            return NOT_A_SECRET, f"key maps to {name!r}, which {problem}: outside the sync's scope, never changed"
        return None

    def owns(self, key: str, label: str | None) -> bool:
        """In scope: it fits (``fits``) and the scope rule (``refusal``) finds nothing against it."""
        return self.fits(key, label) and self.refusal(key) is None
