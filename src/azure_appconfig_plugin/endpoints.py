"""Store endpoint rules: a token is never sent to a host that fails them.

Accepted: ``https://<store>.<cloud suffix>`` with an optional trailing slash (suffixes in
``clouds.py``). Custom domains and private endpoints only when the host appears, exactly, in
``INF_APP_CONNECTION_AZURE_APP_CONFIGURATION_ALLOWED_HOSTS`` (comma-separated entries). An entry
is a host name or IP address (``config.contoso.com``, ``10.0.0.5``, ``[fd00::5]``), which allows that
host on the default https port, or ``host:port`` (``127.0.0.1:8443``, ``[::1]:8443``), which allows
that host on that port only: a local stand-in store with an ephemeral port needs no root. Allow-listed
endpoints still follow every other rule (https only, no user name, path, query or fragment).
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Mapping
from urllib.parse import urlsplit

import attrs

from .clouds import Cloud, cloud_for_host, get_cloud
from .errors import EndpointRejected, FieldError
from .settings import ENDPOINT_ALLOWLIST_ENV

STORE_LABEL = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")
FIELD = "endpoint"
ALLOW_HOST_NAME = re.compile(r"[a-z0-9_](?:[a-z0-9_.-]{0,251}[a-z0-9_])?")
"""A host name an allow-list entry may give: letters, digits, ``-``, ``_`` and dots."""


@attrs.frozen
class StoreEndpoint:
    """A store endpoint that passed the rules: where a token may be sent."""

    url: str
    """Normalized: ``https://host`` (no trailing slash)."""
    host: str
    """Lower-case host name or IP address, without brackets."""
    cloud: Cloud
    allow_listed: bool = False
    port: int | None = None
    """A non-default port (only ever set for an allow-listed ``host:port`` entry)."""


DEFAULT_PORT = 443


def _netloc(host: str, port: int | None) -> str:
    shown = f"[{host}]" if ":" in host else host
    return shown if port in (None, DEFAULT_PORT) else f"{shown}:{port}"


def _canonical_host(host: str) -> str:
    """Lower case; an IP address in its compressed form, so ``fd00:0::5`` matches ``fd00::5``."""
    try:
        return str(ipaddress.ip_address(host))
    except ValueError:
        return host.lower()


def _allow_entry(entry: str) -> tuple[str, int] | None:
    """``host`` / ``host:port`` / ``[v6]`` / ``[v6]:port`` / bare IPv6 as (host, port); None when malformed."""
    try:
        return _canonical_host(str(ipaddress.IPv6Address(entry))), DEFAULT_PORT
    except ValueError:
        pass
    try:
        parts = urlsplit(f"https://{entry}")
        port = parts.port
    except ValueError:
        return None
    host = _canonical_host(parts.hostname or "")
    if not host or parts.path or parts.query or parts.fragment or "@" in parts.netloc:
        return None
    if not (_is_ip(host) or ALLOW_HOST_NAME.fullmatch(host)):  # e.g. "a b": no host has that name
        return None
    return host, port if port is not None else DEFAULT_PORT


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def allowed_hosts(env: Mapping[str, str] | None = None) -> frozenset[tuple[str, int]]:
    """The allow-list as (host, port) pairs; a bare host means the default https port. A malformed
    entry is a ``SettingsError`` naming the variable and each such entry (never silently ignored)."""
    from app_connections.text import clean

    from .errors import SettingsError

    if env is None:  # the host policy's environment, never os.environ unasked
        from app_connections import policy as policies

        env = policies.current().env
    raw = [e.strip() for e in env.get(ENDPOINT_ALLOWLIST_ENV, "").split(",") if e.strip()]
    entries = {e: _allow_entry(e) for e in raw}
    bad = [e for e, parsed in entries.items() if parsed is None]
    if bad:
        raise SettingsError(
            errors=[
                FieldError(
                    ENDPOINT_ALLOWLIST_ENV,
                    f"entry {clean(e, 80)!r} is not a host, IP address or host:port "
                    "(e.g. config.contoso.com, 10.0.0.5, [fd00::5], 127.0.0.1:8443)",
                )
                for e in bad
            ]
        )
    return frozenset(parsed for parsed in entries.values() if parsed is not None)


def _reject(endpoint: str, why: str) -> EndpointRejected:
    # The rejected value may hold a secret (user info, a pasted connection string, a SAS query):
    # it is shown redacted, bounded and stripped of control characters (text.redact_secrets).
    from app_connections.text import redact_secrets

    looks_like_url = re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*://", endpoint) is not None
    shown = (
        repr(redact_secrets(endpoint, 120))
        if looks_like_url
        else f"(a value of {len(endpoint)} characters that is not a URL, not shown)"
    )
    return EndpointRejected(
        f"store endpoint {shown} rejected: {why}. Use the store's endpoint from the Azure portal "
        "(App Configuration > Overview > Endpoint), e.g. https://mystore.azconfig.io",
        errors=[FieldError(FIELD, why)],
    )


def parse_endpoint(
    endpoint: str, *, cloud: str | Cloud | None = None, env: Mapping[str, str] | None = None
) -> StoreEndpoint:
    """Check ``endpoint`` against the rules and the connection's cloud; no network access."""
    connection_cloud = cloud if isinstance(cloud, Cloud) else get_cloud(cloud)
    raw = endpoint.strip() if isinstance(endpoint, str) else ""
    if not raw:
        raise _reject(str(endpoint), "it is empty")
    if any(ch.isspace() or ord(ch) < 32 for ch in raw) or "\\" in raw:
        raise _reject(raw, "it contains whitespace, control characters or backslashes")
    try:
        parts = urlsplit(raw)
        port = parts.port
    except ValueError:
        raise _reject(raw, "it is not a valid URL (check the host and port)") from None
    if parts.scheme.lower() != "https":
        raise _reject(raw, "it must use https://")
    if "@" in parts.netloc:
        raise _reject(raw, "it must not contain a user name or password")
    if parts.path not in ("", "/"):
        raise _reject(raw, "it must not have a path")
    if parts.query or "?" in raw:
        raise _reject(raw, "it must not have a query")
    if parts.fragment or "#" in raw:
        raise _reject(raw, "it must not have a fragment")
    host = _canonical_host(parts.hostname or "")
    if not host:
        raise _reject(raw, "it has no host name")
    if (host, port if port is not None else DEFAULT_PORT) in allowed_hosts(env):
        port = None if port == DEFAULT_PORT else port
        return StoreEndpoint(f"https://{_netloc(host, port)}", host, connection_cloud, allow_listed=True, port=port)
    if port not in (None, DEFAULT_PORT):
        raise _reject(
            raw, f"it must use the default https port (or allow-list {_netloc(host, port)} in {ENDPOINT_ALLOWLIST_ENV})"
        )
    try:
        ipaddress.ip_address(host)
    except ValueError:
        pass
    else:
        raise _reject(raw, "it is an IP address; use the store's host name (or allow-list a private endpoint host)")
    if host.endswith("."):
        raise _reject(raw, "the host name must not end with a dot")
    host_cloud = cloud_for_host(host)
    if host_cloud is None:
        raise _reject(
            raw,
            f"{host} is not an App Configuration host (*.{connection_cloud.store_suffix}); "
            "for a custom domain or private "
            f"endpoint, add the host to {ENDPOINT_ALLOWLIST_ENV}",
        )
    name = host[: -len(host_cloud.store_suffix) - 1]
    if not STORE_LABEL.match(name):
        raise _reject(raw, f"{name!r} is not a store name (one label of letters, digits and hyphens)")
    if host_cloud != connection_cloud:
        raise _reject(
            raw,
            f"the store is in {host_cloud.title} but the connection's cloud is {connection_cloud.title}; "
            f"set the connection's cloud to {host_cloud.slug!r}",
        )
    return StoreEndpoint(f"https://{host}", host, host_cloud)
