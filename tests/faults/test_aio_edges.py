"""Edges of the async API: the transport's TLS and proxy settings, redirects on the store's own host,
retries without a wait, the extra missing, and validation, sign-in and sync paths the main tests
do not take (a malformed limit, an async token credential given, a replayed flow, a refused list)."""

from __future__ import annotations

import asyncio
import ssl
import sys
import time
from typing import Any

import pytest
import trustme

from app_connections.errors import FlowStateError
from azure_appconfig_plugin import aio as provider_aio
from azure_appconfig_plugin.aio.credential import AsyncCredential
from azure_appconfig_plugin.aio.sync import cancelled_report
from azure_appconfig_plugin.connection import build_connection_type
from azure_appconfig_plugin.errors import InvalidInput, OAuthStateError
from azure_appconfig_plugin.http import transport_aio
from azure_appconfig_plugin.http.deadlines import operation_deadline
from azure_appconfig_plugin.http.errors import DeadlineExceeded, ForeignHostRefused
from azure_appconfig_plugin.sansio import run_now
from azure_appconfig_plugin.sync.destination import AppConfigurationDestination

from .conftest import StaticCredential, client_secret_input
from .standins import Answer, IdentityPlatform, Seen, StandIn, json_answer
from .test_aio_transport import KV_LIST, AsyncStatic, client_for, list_keys

CTYPE = build_connection_type()
D = AppConfigurationDestination()
KVSET = "application/vnd.microsoft.appconfig.kvset+json; charset=utf-8"


def ok_store(seen: Seen) -> Answer:
    if seen.method == "GET":
        return json_answer(KV_LIST, **{"Content-Type": KVSET})
    if seen.method == "PUT" and "label=probe-" in seen.path:
        return json_answer({"key": "k", "value": "v", "etag": "e"}, 201)
    if seen.method == "DELETE" and "label=probe-" in seen.path:
        return json_answer({"key": "k", "value": "v", "etag": "e"}, 200)
    return json_answer({"type": "precondition", "title": "Precondition Failed"}, 412)


# --- the transport ------------------------------------------------------------------------------------


def test_a_redirect_on_the_stores_own_host_is_followed(store: StandIn) -> None:
    answers = iter([Answer(307, {"Location": f"{store.url}/kv?page=2"}), json_answer(KV_LIST)])
    store.route = lambda seen: next(answers)
    assert asyncio.run(list_keys(client_for(store))) == ["azure-appconfig-plugin/connection-probe"]
    assert [s.path.split("?")[0] for s in store.seen] == ["/kv", "/kv"]


def test_a_retry_without_a_requested_wait_goes_at_once(store: StandIn) -> None:
    answers = iter([json_answer({"title": "busy"}, 503), json_answer(KV_LIST)])
    store.route = lambda seen: next(answers)
    assert asyncio.run(list_keys(client_for(store))) and len(store.seen) == 2


def test_a_request_to_another_host_is_refused_before_it_is_sent(store: StandIn, other_host: StandIn) -> None:
    from azure.core.rest import HttpRequest

    async def run() -> None:
        async with client_for(store) as client:
            await client.send_request(HttpRequest("GET", f"{other_host.url}/kv"))

    with pytest.raises(ForeignHostRefused):
        asyncio.run(run())
    assert other_host.seen == []


def test_a_deadline_already_passed_sends_nothing(store: StandIn) -> None:
    async def run() -> None:
        with operation_deadline(-1):
            await list_keys(client_for(store, retry_total=0))

    with pytest.raises(DeadlineExceeded):
        asyncio.run(run())
    assert store.seen == []


def test_the_environments_proxy_is_read_once_and_no_proxy_bypasses_it(
    store: StandIn, monkeypatch: pytest.MonkeyPatch
) -> None:
    from azure.core.exceptions import ServiceRequestError

    monkeypatch.setenv("HTTPS_PROXY", "http://127.0.0.1:1")
    monkeypatch.setenv("NO_PROXY", "bypassed.example")
    assert transport_aio._environment_proxy("127.0.0.1", 443) == "http://127.0.0.1:1"
    assert transport_aio._environment_proxy("bypassed.example", 443) is None
    with pytest.raises(ServiceRequestError):  # sent to the (closed) proxy, never straight to the store
        asyncio.run(list_keys(client_for(store, retry_total=0)))
    assert store.seen == []


def test_tls_settings_build_one_context(tmp_path: Any) -> None:
    given = ssl.create_default_context()
    assert transport_aio._ssl_context(given, None) is given
    assert transport_aio._ssl_context(False, None) is False
    ca = trustme.CA()
    pem = tmp_path / "client.pem"
    ca.issue_cert("client.example").private_key_and_cert_chain_pem.write_to_path(str(pem))
    made = transport_aio._ssl_context(True, (str(pem),))
    assert isinstance(made, ssl.SSLContext) and made.verify_mode == ssl.CERT_REQUIRED


def test_without_aiohttp_the_async_api_says_how_to_install_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "aiohttp", None)
    with pytest.raises(transport_aio.AioUnavailable, match=r"\[aio\]"):
        transport_aio.require_aiohttp()


def test_warm_up_skips_what_is_not_installed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(provider_aio, "WARM_MODULES", ("no_such_module_for_the_test",))
    monkeypatch.setattr(provider_aio, "_warm", False)
    asyncio.run(provider_aio.warm_up())
    assert provider_aio._warm is True


def test_run_now_refuses_a_coroutine_that_suspends() -> None:
    async def suspends() -> None:
        await asyncio.sleep(0)

    with pytest.raises(RuntimeError, match="suspended"):
        run_now(suspends())


# --- validation and credentials -------------------------------------------------------------------------


def test_a_malformed_limit_override_still_validates(store: StandIn) -> None:
    import os

    name = "INF_APP_CONNECTION_AZURE_APP_CONFIGURATION_VALIDATION_SECONDS"
    os.environ[name] = "not-a-number"  # set and removed here: the fixtures' teardown reads the limits
    try:
        report = asyncio.run(CTYPE.avalidate({}, method="managed-identity", endpoint=store.url))
    finally:
        del os.environ[name]
    assert report.checks[0].name == "input" and not report.ok  # each request reports the bad override


def test_an_async_token_credential_given_is_used_and_the_write_probe_cleans_up(
    store: StandIn, azure_operator_policy: object
) -> None:
    store.route = ok_store
    report = asyncio.run(
        CTYPE.avalidate(
            {}, method="managed-identity", endpoint=store.url, token_credential=AsyncStatic(), write_probe=True
        )
    )
    assert report.ok, report.to_dict()
    assert [c.name for c in report.checks][-1] == "cleanup"
    assert [s.method for s in store.seen] == ["GET", "PUT", "DELETE"]


def test_the_sync_credential_is_built_on_first_use_and_reprs_name_no_secret(identity: IdentityPlatform) -> None:
    creds = CTYPE.parse("client-secret", client_secret_input())
    cred = CTYPE.async_token_credential(creds)
    assert isinstance(cred, AsyncCredential)
    assert repr(cred) == "AsyncCredential(not built yet)" and cred.credentials is creds
    asyncio.run(cred.close())  # nothing built: nothing to close
    asyncio.run(cred.get_token("https://azconfig.io/.default"))
    assert repr(cred).startswith("AsyncCredential(ClientSecretTokenCredential(") and "canary" not in repr(cred)
    assert cred.credentials is creds
    asyncio.run(cred.close())


def test_unusable_certificate_material_is_raised_by_the_first_token_request() -> None:
    from azure_appconfig_plugin.methods.certificate import CertificateCredentials

    record = CertificateCredentials(
        "11111111-1111-1111-1111-111111111111",
        "22222222-2222-2222-2222-222222222222",
        private_key="not a key",
        certificate="not a certificate",
    )
    cred = CTYPE.async_token_credential(record)  # built off the loop, on first use
    with pytest.raises(InvalidInput):
        asyncio.run(cred.get_token("https://azconfig.io/.default"))


# --- OAuth --------------------------------------------------------------------------------------------------


def test_the_default_flow_store_is_used_without_one(monkeypatch: pytest.MonkeyPatch) -> None:
    from azure_appconfig_plugin.settings import InstanceSettings
    from azure_appconfig_plugin.stores.shared import default_flow_store
    from azure_appconfig_plugin.testing import fakes as azure_fakes

    settings = InstanceSettings.from_env(azure_fakes.fake_instance_env())
    request = asyncio.run(CTYPE.abegin("oauth", CTYPE.parse("oauth", {}), settings=settings))
    assert default_flow_store().take(request.state) is not None


def test_a_replay_the_store_detects_is_an_oauth_state_error() -> None:
    class Replayed:
        async def put(self, flow: Any) -> None:
            return None

        async def take(self, state: str) -> Any:
            raise FlowStateError("replayed", code="state_replayed")

    with pytest.raises(OAuthStateError) as caught:
        asyncio.run(CTYPE.acomplete("oauth", {"code": "c", "state": "s"}, flow_store=Replayed()))
    assert caught.value.code == "state_replayed"

    class SyncReplayed:
        def put(self, flow: Any) -> None:
            return None

        def take(self, state: str) -> Any:
            raise FlowStateError("replayed", code="state_replayed")

    with pytest.raises(OAuthStateError) as sync_caught:  # the sync complete maps it the same way
        CTYPE.complete("oauth", {"code": "c", "state": "s"}, flow_store=SyncReplayed())
    assert sync_caught.value.code == "state_replayed"


# --- the sync -----------------------------------------------------------------------------------------------


def sync_options(store: StandIn) -> dict[str, Any]:
    return {"token_credential": StaticCredential()}


def test_a_refused_listing_changes_nothing_in_every_operation(store: StandIn) -> None:
    store.route = lambda seen: json_answer({"title": "Forbidden"}, 403)
    dest = {"endpoint": store.url, "keyPrefix": "app/"}
    push = asyncio.run(D.apush(None, dest, {"A": "1"}, **sync_options(store)))
    imported = asyncio.run(D.aimport_secrets(None, dest, **sync_options(store)))
    removed = asyncio.run(D.aremove(None, dest, ["A"], **sync_options(store)))
    for report in (push, imported, removed):
        assert not report.ok and all("listing the scope failed" in c.detail for c in report.changes)
    assert {s.method for s in store.seen} == {"GET"}


def test_a_bad_name_to_remove_is_refused_before_any_request(store: StandIn) -> None:
    with pytest.raises(InvalidInput):
        asyncio.run(D.aremove(None, {"endpoint": store.url}, ["bad name"], **sync_options(store)))
    assert store.seen == []


def test_a_failed_write_holds_the_deletes_and_a_5xx_is_retried(store: StandIn) -> None:
    listed = {"items": [{"key": "app/OLD", "label": None, "value": "x", "etag": "e1"}]}
    answers: dict[str, list[Answer]] = {
        "A": [json_answer({"title": "busy"}, 503), json_answer({"key": "app/A", "etag": "n"}, 201)],
        "B": [json_answer({"title": "Precondition Failed"}, 412)],
    }

    def route(seen: Seen) -> Answer:
        if seen.method == "GET":
            return json_answer(listed, **{"Content-Type": KVSET})
        key = seen.path.split("?")[0].rsplit("%2F", 1)[-1]
        return answers[key].pop(0)

    store.route = route
    dest = {"endpoint": store.url, "keyPrefix": "app/", "deleteMissing": True}
    report = asyncio.run(D.apush(None, dest, {"A": "1", "B": "2"}, max_deletes=1, **sync_options(store)))
    status = {c.key: c.status.value for c in report.changes}
    assert status == {"app/A": "applied", "app/B": "conflict", "app/OLD": "not-run"}
    assert [s.method for s in store.seen].count("DELETE") == 0


def test_one_keys_unexpected_failure_is_reported_on_that_key(store: StandIn, monkeypatch: pytest.MonkeyPatch) -> None:
    from azure_appconfig_plugin.sync import apply

    store.route = lambda seen: json_answer({"items": []}, **{"Content-Type": KVSET})
    real = apply._request

    def broken(step: Any, **kwargs: Any) -> Any:
        if step.change.key == "B":
            raise ValueError("a bug for the test")
        return real(step, **kwargs)

    monkeypatch.setattr(apply, "_request", broken)
    store.route = lambda seen: (
        json_answer({"items": []}, **{"Content-Type": KVSET}) if seen.method == "GET" else json_answer({}, 201)
    )
    report = asyncio.run(D.apush(None, {"endpoint": store.url}, {"A": "1", "B": "2"}, **sync_options(store)))
    failed = next(c for c in report.changes if c.key == "B")
    assert failed.status.value == "failed" and failed.code == "error" and "ValueError" in failed.detail


def test_cancelled_report_is_none_for_any_other_exception() -> None:
    assert cancelled_report(ValueError("x")) is None
    try:
        raise TimeoutError from asyncio.CancelledError()
    except TimeoutError as exc:
        assert cancelled_report(exc) is None


def test_a_slow_start_of_the_run_is_bounded_by_its_timeout(store: StandIn) -> None:
    store.route = lambda seen: (time.sleep(0.3), json_answer({"items": []}, **{"Content-Type": KVSET}))[1]
    report = asyncio.run(D.aplan(None, {"endpoint": store.url}, {"A": "1"}, timeout=0.1, **sync_options(store)))
    assert not report.ok and report.changes[0].code == "deadline_exceeded"


def test_a_sentinel_that_cannot_be_deleted_is_a_failed_cleanup(store: StandIn, azure_operator_policy: object) -> None:
    def route(seen: Seen) -> Answer:
        if seen.method == "DELETE":
            return json_answer({"title": "busy"}, 503)
        return ok_store(seen)

    store.route = route
    report = asyncio.run(
        CTYPE.avalidate(
            {},
            method="managed-identity",
            endpoint=store.url,
            token_credential=AsyncStatic(),
            write_probe=True,
            client_options={"retry_total": 0},
        )
    )
    cleanup = next(c for c in report.checks if c.name == "cleanup")
    assert cleanup.status.value == "failed" and [s.method for s in store.seen].count("DELETE") == 3
