"""Fixtures of the fault suite: trusted local TLS, a stand-in identity platform and stand-in stores."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from typing import Any

import attrs
import pytest
import trustme

from app_connections import policy as policies
from azure_appconfig_plugin import clouds
from azure_appconfig_plugin.http.limits import configure
from azure_appconfig_plugin.settings import ENDPOINT_ALLOWLIST_ENV

from .standins import IdentityPlatform, StandIn

CANARY_SECRET = "canary-client-secret-7c1f"
TOKEN = "fake-store-token"


@pytest.fixture(scope="session")
def ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture(scope="session")
def server_context(ca: trustme.CA) -> Any:
    import ssl

    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1", "localhost").configure_cert(ctx)
    return ctx


@pytest.fixture(autouse=True)
def _trust_and_reset(
    ca: trustme.CA, tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> Iterator[None]:
    pem = tmp_path_factory.getbasetemp() / "standin-ca.pem"
    if not pem.exists():
        ca.cert_pem.write_to_path(str(pem))
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(pem))
    for var in ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("NO_PROXY", "*")
    configure(None)
    yield
    configure(None)


def new_standin(server_context: Any) -> StandIn:
    return StandIn(server_context)


@pytest.fixture
def store(server_context: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[StandIn]:
    """A stand-in store on 127.0.0.1:<port>, allow-listed as ``host:port`` in the environment, which
    the host policy in effect reads for the test."""
    with StandIn(server_context) as server, policies.use(policies.current().with_env(os.environ)):
        monkeypatch.setenv(ENDPOINT_ALLOWLIST_ENV, server.netloc)
        yield server


@pytest.fixture
def other_host(server_context: Any) -> Iterator[StandIn]:
    """A second server: a foreign host (another port) that must never receive a request."""
    with StandIn(server_context) as server:
        yield server


@pytest.fixture
def identity(server_context: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[IdentityPlatform]:
    """The public cloud's login host pointed at a stand-in identity platform (test-only monkeypatch)."""
    with StandIn(server_context) as server:
        fake_cloud = attrs.evolve(clouds.PUBLIC, login_host=server.netloc)
        monkeypatch.setitem(clouds.CLOUDS, "public", fake_cloud)
        monkeypatch.setattr(clouds, "DEFAULT_CLOUD", fake_cloud)
        yield IdentityPlatform(server)


class StaticCredential:
    """A token credential that always has a token (for store-only faults)."""

    def __init__(self, token: str = TOKEN) -> None:
        self.token = token

    def get_token(self, *scopes: str, **kwargs: Any) -> Any:
        from azure.core.credentials import AccessToken

        return AccessToken(self.token, int(time.time()) + 3600)

    def get_token_info(self, *scopes: str, options: Any = None) -> Any:
        from azure.core.credentials import AccessTokenInfo

        return AccessTokenInfo(self.token, int(time.time()) + 3600)


def client_secret_input(secret: str = CANARY_SECRET) -> dict[str, str]:
    from app_connections.testing import fakes

    return {"tenantId": fakes.FAKE_TENANT_ID, "clientId": fakes.FAKE_CLIENT_ID, "clientSecret": secret}


def run_bounded(func: Any, seconds: float) -> Any:
    """Run ``func`` in a thread, in this context (the host policy in effect included); fail (instead
    of hanging) when it takes longer than ``seconds``."""
    import contextvars
    import threading

    box: dict[str, Any] = {}
    context = contextvars.copy_context()

    def target() -> None:
        try:
            box["value"] = context.run(func)
        except BaseException as exc:
            box["error"] = exc

    thread = threading.Thread(target=target, daemon=True)
    start = time.monotonic()
    thread.start()
    thread.join(seconds)
    if thread.is_alive():
        pytest.fail(f"still running after {seconds} s (unbounded)")
    box["elapsed"] = time.monotonic() - start
    if "error" in box:
        raise box["error"]
    return box["value"], box["elapsed"]
