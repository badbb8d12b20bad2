"""Small syntax checks shared by the input schema and the instance settings."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

GUID_PATTERN = r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"
# A verified domain: at least two labels, letters/digits/hyphens, a letter TLD.
DOMAIN_PATTERN = r"^(?=.{4,253}$)([a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?\.)+[a-zA-Z]{2,63}$"
TENANT_PATTERN = f"(?:{GUID_PATTERN[1:-1]})|(?:{DOMAIN_PATTERN[1:-1]})"

_GUID = re.compile(GUID_PATTERN)
_DOMAIN = re.compile(DOMAIN_PATTERN)

SECRET_MAX_LENGTH = 1024
LOOPBACK_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})


def is_guid(value: str) -> bool:
    """True when ``value`` is a GUID (a tenant or client ID)."""
    return bool(_GUID.match(value))


def is_tenant(value: str) -> bool:
    """True when ``value`` is a tenant ID (a GUID) or a tenant domain name."""
    return bool(_GUID.match(value) or _DOMAIN.match(value))


def secret_problem(value: object) -> str | None:
    """Why ``value`` is not a usable client secret, or None."""
    if not isinstance(value, str) or value == "":
        return "must be a non-empty string"
    if len(value) > SECRET_MAX_LENGTH:
        return f"is longer than {SECRET_MAX_LENGTH} characters; paste the secret's Value, not a file"
    if value != value.strip():
        return "has leading or trailing whitespace; copy the secret's Value exactly"
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in value):
        return "contains control characters; copy the secret's Value exactly"
    return None


def site_url_problem(value: str) -> str | None:
    """Why ``value`` is not an acceptable SITE_URL, or None."""
    try:
        parts = urlsplit(value)
        host = parts.hostname
        _ = parts.port  # raises ValueError on a bad port
    except ValueError as exc:
        return f"is not a valid URL ({exc})"
    if parts.scheme not in ("https", "http") or not host:
        return "must be an absolute https:// URL such as https://secrets.example.com"
    if parts.scheme == "http" and host not in LOOPBACK_HOSTS:
        return "must use https (http is allowed only for localhost and 127.0.0.1)"
    if parts.username or parts.password:
        return "must not contain a user name or password"
    if parts.query or parts.fragment or value.endswith(("?", "#")):
        return "must not contain a query (?...) or fragment (#...)"
    return None


def normalize_site_url(value: str) -> str:
    """``value`` without surrounding whitespace or trailing slashes."""
    return value.strip().rstrip("/")
