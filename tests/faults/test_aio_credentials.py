"""``ctype.async_token_credential``, ``ctype.async_client`` and the async OAuth sign-in against the
stand-in identity platform: single flight, rotation, no blocking of the loop, typed errors."""

from __future__ import annotations

import asyncio
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from app_connections.aio import AsyncInMemoryFlowStore, AsyncTokenCredential, OffloadedCredential, TokenInfo
from app_connections.errors import SettingsError
from app_connections.flow_store import InMemoryFlowStore
from app_connections.policy import HostPolicy
from app_connections.testing import fakes
from azure_appconfig_plugin.aio import warm_up
from azure_appconfig_plugin.aio.credential import AsyncCredential
from azure_appconfig_plugin.auth.credential import ScopeNotAllowed
from azure_appconfig_plugin.connection import build_connection_type
from azure_appconfig_plugin.errors import OAuthStateError
from azure_appconfig_plugin.methods.oauth import OAuthCredentials
from azure_appconfig_plugin.settings import InstanceSettings
from azure_appconfig_plugin.testing import fakes as azure_fakes

from .conftest import client_secret_input
from .loop_probe import least_lag, watched
from .standins import IdentityPlatform, StandIn, json_answer

SCOPE = "https://azconfig.io/.default"


@pytest.fixture(scope="module", autouse=True)
def _warm() -> None:
    """The imports done off the loop first, as a host's start-up does (docs/async.md)."""
    asyncio.run(warm_up())


CTYPE = build_connection_type()


@pytest.fixture
def settings() -> InstanceSettings:
    return InstanceSettings.from_env(azure_fakes.fake_instance_env())


def client_secret() -> Any:
    return CTYPE.parse("client-secret", client_secret_input())


def test_an_async_credential_is_an_azure_core_async_token_credential(identity: IdentityPlatform) -> None:
    from azure.core.credentials import AccessTokenInfo
    from azure.core.credentials_async import AsyncTokenCredential as AzureAsync

    async def run() -> tuple[Any, Any]:
        async with CTYPE.async_token_credential(client_secret()) as cred:
            assert isinstance(cred, AzureAsync) and isinstance(cred, AsyncTokenCredential)
            return await cred.get_token(SCOPE), await cred.get_token_info(SCOPE)

    token, info = asyncio.run(run())
    assert token.token == info.token and isinstance(info, AccessTokenInfo)
    assert len(identity.token_requests) == 1  # the second answer came from MSAL's cache


def test_concurrent_requests_on_a_cold_cache_make_one_token_request(identity: IdentityPlatform) -> None:
    identity.token_delay = 0.2
    cred = CTYPE.async_token_credential(client_secret())

    async def run() -> Any:
        return await watched(asyncio.gather(*(cred.get_token(SCOPE) for _ in range(50))))

    tokens, probe = least_lag(lambda: asyncio.run(run()))
    assert len({t.token for t in tokens}) == 1 and len(identity.token_requests) == 1
    assert probe.ok and probe.max_threads <= 16


def test_one_waiter_cancelled_does_not_cancel_the_others_request(identity: IdentityPlatform) -> None:
    identity.token_delay = 0.2
    cred = CTYPE.async_token_credential(client_secret())

    async def run() -> Any:
        first = asyncio.ensure_future(cred.get_token(SCOPE))
        second = asyncio.ensure_future(cred.get_token(SCOPE))
        await asyncio.sleep(0.05)
        first.cancel()
        return await second

    assert asyncio.run(run()).token and len(identity.token_requests) == 1


def test_a_scope_other_than_the_store_is_refused_typed() -> None:
    with pytest.raises(ScopeNotAllowed):
        asyncio.run(CTYPE.async_token_credential(client_secret()).get_token("https://vault.azure.net/.default"))


def test_rotation_reaches_on_rotate_and_the_async_credential(
    identity: IdentityPlatform, settings: InstanceSettings
) -> None:
    stored = OAuthCredentials(
        tenant_id=fakes.FAKE_TENANT_ID, client_id=fakes.FAKE_INSTANCE_CLIENT_ID, refresh_token="rt-0"
    )
    rotated: list[OAuthCredentials] = []
    cred = CTYPE.async_token_credential(stored, on_rotate=rotated.append, settings=settings)
    assert isinstance(cred, AsyncCredential)
    asyncio.run(cred.get_token(SCOPE))
    assert [c.refresh_token for c in rotated] == ["rotated-refresh-token-1"]
    assert cred.credentials.refresh_token == "rotated-refresh-token-1"


def test_the_instance_settings_come_from_the_policy_in_effect_when_the_credential_was_made(
    identity: IdentityPlatform,
) -> None:
    # built lazily in the offload pool, after the type's policy block has ended: it still reads that policy's env
    stored = OAuthCredentials(
        tenant_id=fakes.FAKE_TENANT_ID, client_id=fakes.FAKE_INSTANCE_CLIENT_ID, refresh_token="rt-0"
    )
    bound = CTYPE.with_policy(HostPolicy.library(env=azure_fakes.fake_instance_env()))
    cred = bound.async_token_credential(stored)
    assert asyncio.run(cred.get_token(SCOPE)).token
    with pytest.raises(SettingsError):  # the default policy's environment has no app registration
        asyncio.run(CTYPE.async_token_credential(stored).get_token(SCOPE))


def test_a_plugin_method_without_an_async_twin_is_offloaded() -> None:
    class SyncOnly:
        calls = 0

        def get_token(self, *scopes: str, **kwargs: Any) -> Any:
            SyncOnly.calls += 1
            return TokenInfo("plugin-token", 4_000_000_000)

    cred = OffloadedCredential(SyncOnly())

    async def run() -> Any:
        async with cred:
            return await asyncio.gather(cred.get_token_info("s"), cred.get_token("s"))

    info, token = asyncio.run(run())
    assert isinstance(info, TokenInfo) and info.token == token.token == "plugin-token"
    assert "plugin-token" not in repr(info)


def test_the_async_client_is_the_sdks_aio_client_under_the_policy(identity: IdentityPlatform, store: StandIn) -> None:
    from azure.appconfiguration.aio import AzureAppConfigurationClient

    store.route = lambda seen: json_answer({"items": [{"key": "k", "value": "v", "label": None, "etag": "e"}]})

    async def run() -> list[str]:
        client = CTYPE.async_client(client_secret(), store.url)
        assert isinstance(client, AzureAppConfigurationClient)
        async with client:
            return [s.key async for s in client.list_configuration_settings()]

    assert asyncio.run(run()) == ["k"]
    assert store.seen[0].headers["authorization"].startswith("Bearer ")


def test_an_access_key_client_signs_each_request(store: StandIn) -> None:
    store.route = lambda seen: json_answer({"items": []})
    conn = f"Endpoint={store.url};Id=canary-key-id;Secret=" + "c2VjcmV0LXNlY3JldC1zZWNyZXQ="
    creds = CTYPE.parse("access-key", {"connectionString": conn})

    async def run() -> list[str]:
        async with CTYPE.async_client(creds) as client:
            return [s.key async for s in client.list_configuration_settings()]

    assert asyncio.run(run()) == []
    assert store.seen[0].headers["authorization"].startswith("HMAC-SHA256 Credential=canary-key-id")


# --- OAuth ------------------------------------------------------------------------------------------


async def sign_in(identity: IdentityPlatform, settings: InstanceSettings, flow_store: Any) -> Any:
    oauth_input = CTYPE.parse("oauth", {"tenantId": fakes.FAKE_TENANT_ID})
    request = await CTYPE.abegin("oauth", oauth_input, settings=settings, flow_store=flow_store)
    identity.pending_nonce = parse_qs(urlsplit(request.url).query)["nonce"][0]
    params = {"code": "canary-code", "state": request.state}
    return await CTYPE.acomplete("oauth", params, settings=settings, flow_store=flow_store)


@pytest.mark.parametrize("store_kind", ["async", "sync"])
def test_async_sign_in_with_either_flow_store(
    identity: IdentityPlatform, settings: InstanceSettings, store_kind: str
) -> None:
    flows = AsyncInMemoryFlowStore() if store_kind == "async" else InMemoryFlowStore()
    creds = asyncio.run(sign_in(identity, settings, flows))
    assert isinstance(creds, OAuthCredentials) and creds.refresh_token == "rotated-refresh-token-1"
    assert len(flows) == 0  # taken: single use


def test_the_loop_keeps_beating_while_the_code_is_exchanged_slowly(
    identity: IdentityPlatform, settings: InstanceSettings
) -> None:
    identity.token_delay = 0.3
    creds, probe = least_lag(lambda: asyncio.run(watched(sign_in(identity, settings, AsyncInMemoryFlowStore()))))
    assert creds.refresh_token and probe.beats > 30
    assert probe.ok, f"the loop was busy {probe.max_busy * 1000:.0f} ms, late {probe.max_lag * 1000:.0f} ms"


def test_a_replayed_callback_is_refused(identity: IdentityPlatform, settings: InstanceSettings) -> None:
    flows = AsyncInMemoryFlowStore()

    async def run() -> None:
        oauth_input = CTYPE.parse("oauth", {})
        request = await CTYPE.abegin("oauth", oauth_input, settings=settings, flow_store=flows)
        await flows.take(request.state)  # someone else used it
        await CTYPE.acomplete("oauth", {"code": "c", "state": request.state}, settings=settings, flow_store=flows)

    with pytest.raises(OAuthStateError) as caught:
        asyncio.run(run())
    assert caught.value.code == "state_unknown"
    assert identity.token_requests == []
