"""The store probes (``store.probe_*``) on an async client: the same requests, the same results."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from ..store import (
    CLEANUP_ATTEMPTS,
    SENTINEL_KEY,
    ProbeResult,
    _not_matching_setting,
    failed_probe,
    probe_failures,
)

if TYPE_CHECKING:
    from azure.appconfiguration.aio import AzureAppConfigurationClient


async def _result(call: Callable[[], Awaitable[object]]) -> ProbeResult:
    try:
        await call()
        return ProbeResult(200)
    except probe_failures() as exc:
        return failed_probe(exc)


async def probe_read(client: AzureAppConfigurationClient) -> ProbeResult:
    """``store.probe_read``: a filtered read of the sentinel key."""

    async def read() -> None:
        pages = client.list_configuration_settings(key_filter=SENTINEL_KEY, label_filter="\0", fields=["key"])
        async for _ in pages:
            pass

    return await _result(read)


async def probe_write_precondition(client: AzureAppConfigurationClient) -> ProbeResult:
    """``store.probe_write_precondition``: a write that cannot match (412 when allowed)."""
    from azure.core import MatchConditions

    setting = _not_matching_setting(None)
    return await _result(
        lambda: client.set_configuration_setting(setting, match_condition=MatchConditions.IfNotModified)
    )


async def probe_delete_precondition(client: AzureAppConfigurationClient) -> ProbeResult:
    """``store.probe_delete_precondition``: a delete that cannot match (412 when allowed)."""
    from azure.core import MatchConditions

    from ..store import IMPOSSIBLE_ETAG

    return await _result(
        lambda: client.delete_configuration_setting(
            SENTINEL_KEY, etag=IMPOSSIBLE_ETAG, match_condition=MatchConditions.IfNotModified
        )
    )


async def probe_write_real(client: AzureAppConfigurationClient, label: str) -> ProbeResult:
    """``store.probe_write_real``: really write the sentinel under ``label``."""
    from azure.appconfiguration import ConfigurationSetting

    setting = ConfigurationSetting(key=SENTINEL_KEY, label=label, value="connection probe; safe to delete")
    return await _result(lambda: client.add_configuration_setting(setting))


async def probe_delete_real(client: AzureAppConfigurationClient, label: str) -> tuple[ProbeResult, int]:
    """``store.probe_delete_real``: delete the sentinel, retried so nothing is left behind."""
    result = ProbeResult(None)
    for attempt in range(1, CLEANUP_ATTEMPTS + 1):
        result = await _result(lambda: client.delete_configuration_setting(SENTINEL_KEY, label=label))
        if result.status in (200, 204) or result.status in (401, 403):
            return result, attempt
    return result, CLEANUP_ATTEMPTS
