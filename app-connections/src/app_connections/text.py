"""Untrusted text (callback parameters, server answers, rejected input) made safe to show.

``clean`` bounds the length and drops what could rewrite a terminal or a message: control
characters (ANSI escapes, carriage returns, bells), bidirectional and other format characters
(U+202E ...), and lone surrogates. ``redact_secrets`` hides what may be a secret in a value that
was rejected (user info, ``Key=...;Secret=...`` pairs, signature-like query parameters).
"""

from __future__ import annotations

import re
from collections.abc import Callable

DEFAULT_LIMIT = 300
ELLIPSIS = "..."


class _Lazy:
    """A regular expression compiled on first use, not at import: registration imports this module
    (through ``records``) and never needs a pattern; compiling them all took about 1.4 ms of start-up."""

    __slots__ = ("_compiled", "_flags", "_pattern")

    def __init__(self, pattern: str, flags: int = 0) -> None:
        self._pattern, self._flags = pattern, flags
        self._compiled: re.Pattern[str] | None = None

    def _get(self) -> re.Pattern[str]:
        compiled = self._compiled
        if compiled is None:  # two threads may both compile: the same pattern, harmless
            compiled = self._compiled = re.compile(self._pattern, self._flags)
        return compiled

    def search(self, text: str) -> re.Match[str] | None:
        """``re.Pattern.search``."""
        return self._get().search(text)

    def sub(self, repl: str | Callable[[re.Match[str]], str], text: str) -> str:
        """``re.Pattern.sub``."""
        return self._get().sub(repl, text)


_ANSI = _Lazy(r"\x1b(?:\[[0-9;?]*[ -/]*[@-~]|\][^\x07\x1b]*(?:\x07|\x1b\\)?|[@-Z\\-_])")
_DROP_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"})


def clean(value: object, limit: int = DEFAULT_LIMIT) -> str:
    """``value`` as printable one-line text of at most ``limit`` characters."""
    import unicodedata  # a shared library: loaded when text is first cleaned, not at registration

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
_USERINFO = _Lazy(r"(?P<scheme>[a-zA-Z][a-zA-Z0-9+.-]*://)(?P<info>[^/?#\s@]*)@")
_PAIR = _Lazy(r"(?P<key>(?:^|[;?&\s])[A-Za-z][A-Za-z0-9_.-]*)=(?P<value>[^;&\s#]*)")
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


# --- values that must not be repeated -----------------------------------------------------------------

WITHHELD = "(not repeated: it looks like a secret)"
"""What is shown instead of a rejected name, path or URL that looks like a secret."""
_PEM_BLOCK = _Lazy(r"-----\s*BEGIN [A-Z0-9 ]*-----")
_PRIVATE_KEY_BLOCK = _Lazy(r"-----\s*BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY\s*-----", re.IGNORECASE)
_JWT = _Lazy(r"eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*")
_BARE_USERINFO = _Lazy(r"(?:^|[\s/])[^\s/@:]*:[^\s/@]+@")  # user:password@host without a scheme
_SECRET_PAIR = _Lazy(r"(?:^|[;?&\s])(?:secret|password|accountkey|sharedaccesskey|sig|token)=", re.IGNORECASE)


def holds_private_key(value: object) -> bool:
    """True when ``value`` is text holding a PEM private key block (``-----BEGIN ... PRIVATE KEY-----``)."""
    return isinstance(value, str) and _PRIVATE_KEY_BLOCK.search(value) is not None


def looks_secret(value: object) -> bool:
    """True when ``value`` may be a secret pasted in the wrong place: a JWT, a PEM block, a URL or
    ``host`` with user info (``user:password@``, with or without a scheme), a ``Secret=``/``sig=`` pair."""
    text = value if isinstance(value, str) else str(value)
    text = text[:65536]
    return bool(
        _JWT.search(text)
        or _PEM_BLOCK.search(text)
        or _USERINFO.search(text)
        or _BARE_USERINFO.search(text)
        or _SECRET_PAIR.search(text)
    )


def shown_value(value: object, limit: int = 120) -> str:
    """A rejected name, path or URL as it may be repeated in a message: ``clean`` (no control
    characters, bounded), or :data:`WITHHELD` when it looks like a secret."""
    return WITHHELD if looks_secret(value) else clean(value, limit)


def redact_url_text(url: str, limit: int = DEFAULT_LIMIT) -> str:
    """A URL (or what was meant as one) safe to show: ``redact_secrets``, and user info before an
    ``@`` hidden even without ``scheme://`` (``user:password@host:6379``)."""
    text = url[: limit * 4]
    if "://" not in text and "@" in text:
        text = REDACTED + "@" + text.rsplit("@", 1)[1]
    return redact_secrets(text, limit)


def quoted_value(value: object, limit: int = 120) -> str:
    """``shown_value`` in quotes (``'value'``), for messages that name what was given."""
    shown = shown_value(value, limit)
    return shown if shown == WITHHELD else repr(shown)
