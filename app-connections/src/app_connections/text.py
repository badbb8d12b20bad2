"""Untrusted text (callback parameters, server answers, rejected input) made safe to show.

``clean`` bounds the length and drops what could rewrite a terminal or a message: control
characters (ANSI escapes, carriage returns, bells), bidirectional and other format characters
(U+202E ...), and lone surrogates. ``redact_secrets`` hides what may be a secret in a value that
was rejected (user info, ``Key=...;Secret=...`` pairs, signature-like query parameters).
"""

from __future__ import annotations

import re
import unicodedata

DEFAULT_LIMIT = 300
ELLIPSIS = "..."
_ANSI = re.compile(r"\x1b(?:\[[0-9;?]*[ -/]*[@-~]|\][^\x07\x1b]*(?:\x07|\x1b\\)?|[@-Z\\-_])")
_DROP_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"})


def clean(value: object, limit: int = DEFAULT_LIMIT) -> str:
    """``value`` as printable one-line text of at most ``limit`` characters."""
    text = value if isinstance(value, str) else str(value)
    text = _ANSI.sub("", text[: limit * 4])  # bound the work before scanning
    out = []
    for ch in text:
        if ch in "\t\r\n":
            out.append(" ")
        elif unicodedata.category(ch) not in _DROP_CATEGORIES:
            out.append(ch)
    shown = re.sub(r" {2,}", " ", "".join(out)).strip()
    if len(shown) > limit:
        shown = shown[: max(limit - len(ELLIPSIS), 0)].rstrip() + ELLIPSIS
    return shown


REDACTED = "***"
_USERINFO = re.compile(r"(?P<scheme>[a-zA-Z][a-zA-Z0-9+.-]*://)(?P<info>[^/?#\s@]*)@")
_PAIR = re.compile(r"(?P<key>(?:^|[;?&\s])[A-Za-z][A-Za-z0-9_.-]*)=(?P<value>[^;&\s#]*)")
_KEEP_KEYS = frozenset({"endpoint", "id", "api-version", "label", "key"})


def redact_secrets(value: object, limit: int = DEFAULT_LIMIT) -> str:
    """``clean(value)`` with every possible secret replaced by ``***``: URL user info and the value of
    every ``name=value`` pair (query parameters, connection-string parts) except harmless names
    (``Endpoint``, ``Id``, ``api-version``, ``label``, ``key``)."""
    text = value if isinstance(value, str) else str(value)
    text = _USERINFO.sub(lambda m: f"{m['scheme']}{REDACTED}@", text[: limit * 4])

    def pair(m: re.Match[str]) -> str:
        name = m["key"].lstrip(";?& \t\r\n").lower()
        return m.group(0) if name in _KEEP_KEYS and not _USERINFO.search(m["value"]) else f"{m['key']}={REDACTED}"

    return clean(_PAIR.sub(pair, text), limit)
