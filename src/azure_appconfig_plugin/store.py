"""Data-plane probes against an App Configuration store (azure-appconfiguration).

Each probe returns a ``ProbeResult``: what Azure answered, never an exception. The default
probes change no data: a filtered read of a sentinel key, then a write and a delete of that
key under an ``If-Match`` precondition that cannot match, so the service answers 412 when the
caller is allowed and 403 when it is not. ``write_probe=True`` really writes and deletes a
sentinel key under a unique label, and always cleans it up.
"""

from __future__ import annotations

import uuid
from typing import Any, Callable

import attrs

from .clouds import Cloud
from .endpoints import StoreEndpoint

API_VERSION = "2023-11-01"
"""Pinned so recorded traffic does not change when the SDK's default changes."""
SENTINEL_KEY = "azure-appconfig-plugin/connection-probe"
IMPOSSIBLE_ETAG = "azure-appconfig-plugin-never-matches"
CLEANUP_ATTEMPTS = 3
RETRY_TOTAL = 3


@attrs.frozen
class ProbeResult:
    status: int | None
    """HTTP status, or None when no answer came (DNS, connection failure)."""
    error: str | None = None
    """Azure's error text / problem title, or the transport failure."""
    www_authenticate: str | None = None
    retry_after: str | None = None
    unreachable: bool = False


def make_client(endpoint: StoreEndpoint, credential: Any, *, retry_backoff_factor: float = 0.8, **kwargs: Any) -> Any:
    from azure.appconfiguration import AzureAppConfigurationClient

    cloud: Cloud = endpoint.cloud
    hmac = getattr(credential, "hmac_credential", None)
    if callable(hmac):  # access keys: the SDK signs every request (HMAC-SHA256); no token is sent
        credential, kwargs["id_credential"] = hmac()
    return AzureAppConfigurationClient(
        endpoint.url,
        credential,
        api_version=API_VERSION,
        audience=cloud.audience + "/",
        retry_total=RETRY_TOTAL,
        retry_backoff_factor=retry_backoff_factor,
        retry_backoff_max=30,
        connection_timeout=10,
        read_timeout=30,
        **kwargs,
    )


def _result(call: Callable[[], Any]) -> ProbeResult:
    from azure.core.exceptions import HttpResponseError, ServiceRequestError, ServiceResponseError

    try:
        call()
        return ProbeResult(200)
    except HttpResponseError as exc:
        response = exc.response
        status = getattr(response, "status_code", None) or getattr(exc, "status_code", None)
        headers = getattr(response, "headers", {}) or {}
        text = _error_text(exc)
        return ProbeResult(
            int(status) if status else None,
            text,
            headers.get("WWW-Authenticate"),
            headers.get("retry-after-ms") or headers.get("x-ms-retry-after-ms") or headers.get("Retry-After"),
        )
    except (ServiceRequestError, ServiceResponseError) as exc:
        return ProbeResult(None, f"{type(exc).__name__}: {_first_line(str(exc))}", unreachable=True)


def _first_line(text: str) -> str:
    return text.strip().splitlines()[0][:300] if text.strip() else ""


def _error_text(exc: Any) -> str | None:
    response = exc.response
    try:
        body = response.json() if response is not None and response.text() else None
    except ValueError:
        body = None
    if isinstance(body, dict):
        for key in ("title", "detail", "message"):
            if body.get(key):
                return str(body[key])
    reason = getattr(response, "reason", None)
    return str(reason) if reason else None


def probe_read(client: Any) -> ProbeResult:
    return _result(lambda: list(client.list_configuration_settings(key_filter=SENTINEL_KEY, label_filter="\0", fields=["key"])))


def _not_matching_setting(label: str | None) -> Any:
    from azure.appconfiguration import ConfigurationSetting

    return ConfigurationSetting(key=SENTINEL_KEY, label=label, value="", etag=IMPOSSIBLE_ETAG)


def probe_write_precondition(client: Any) -> ProbeResult:
    from azure.core import MatchConditions

    return _result(lambda: client.set_configuration_setting(_not_matching_setting(None), match_condition=MatchConditions.IfNotModified))


def probe_delete_precondition(client: Any) -> ProbeResult:
    from azure.core import MatchConditions

    return _result(
        lambda: client.delete_configuration_setting(
            SENTINEL_KEY, etag=IMPOSSIBLE_ETAG, match_condition=MatchConditions.IfNotModified
        )
    )


def new_probe_label() -> str:
    return f"probe-{uuid.uuid4().hex}"


def probe_write_real(client: Any, label: str) -> ProbeResult:
    from azure.appconfiguration import ConfigurationSetting

    setting = ConfigurationSetting(key=SENTINEL_KEY, label=label, value="connection probe; safe to delete")
    return _result(lambda: client.add_configuration_setting(setting))


def probe_delete_real(client: Any, label: str) -> tuple[ProbeResult, int]:
    """Delete the sentinel; retried so a transient failure leaves nothing behind.
    Returns the last result and how many attempts it took."""
    result = ProbeResult(None)
    for attempt in range(1, CLEANUP_ATTEMPTS + 1):
        result = _result(lambda: client.delete_configuration_setting(SENTINEL_KEY, label=label))
        if result.status in (200, 204) or result.status in (401, 403):
            return result, attempt
    return result, CLEANUP_ATTEMPTS
