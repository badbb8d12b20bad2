"""Store endpoint rules: a token is never sent to a host that fails them.

Accepted: ``https://<store>.<cloud suffix>`` with an optional trailing slash (suffixes in
``clouds.py``). Custom domains and private endpoints only when the host appears, exactly, in
``INF_APP_CONNECTION_AZURE_APP_CONFIGURATION_ALLOWED_HOSTS`` (comma-separated host names).
"""

from __future__ import annotations

import ipaddress
import os
import re
from typing import Mapping
from urllib.parse import urlsplit

import attrs

from .clouds import Cloud, cloud_for_host, get_cloud
from .errors import EndpointRejected, FieldError
from .settings import ENDPOINT_ALLOWLIST_ENV

STORE_LABEL = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")
FIELD = "endpoint"


@attrs.frozen
class StoreEndpoint:
    url: str
    """Normalized: ``https://host`` (no trailing slash)."""
    host: str
    cloud: Cloud
    allow_listed: bool = False


def allowed_hosts(env: Mapping[str, str] | None = None) -> frozenset[str]:
    env = os.environ if env is None else env
    return frozenset(h.strip().lower() for h in env.get(ENDPOINT_ALLOWLIST_ENV, "").split(",") if h.strip())


def _reject(endpoint: str, why: str) -> EndpointRejected:
    return EndpointRejected(
        f"store endpoint {endpoint!r} rejected: {why}. Use the store's endpoint from the Azure portal "
        "(App Configuration > Overview > Endpoint), e.g. https://mystore.azconfig.io",
        errors=[FieldError(FIELD, why)],
    )


def parse_endpoint(endpoint: str, *, cloud: str | Cloud | None = None, env: Mapping[str, str] | None = None) -> StoreEndpoint:
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
    except ValueError as exc:
        raise _reject(raw, f"it is not a valid URL ({exc})") from None
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
    if port not in (None, 443):
        raise _reject(raw, "it must use the default https port")
    host = (parts.hostname or "").lower()
    if not host:
        raise _reject(raw, "it has no host name")
    if host in allowed_hosts(env):
        return StoreEndpoint(f"https://{host}", host, connection_cloud, allow_listed=True)
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
            f"{host} is not an App Configuration host (*.{connection_cloud.store_suffix}); for a custom domain or private "
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
