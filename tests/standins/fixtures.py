"""pytest fixtures around the App Configuration stand-in (import them into a test module)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

from app_connections.testing import fakes

from .appconfig import StandIn

ALLOW = "INF_APP_CONNECTION_AZURE_APP_CONFIGURATION_ALLOWED_HOSTS"


class FakeTokenCredential:
    """An azure-core TokenCredential that counts the tokens it hands out."""

    def __init__(self) -> None:
        self.calls = 0
        self._lock = threading.Lock()

    def get_token(self, *scopes: str, **kwargs: Any) -> Any:
        from azure.core.credentials import AccessToken

        with self._lock:
            self.calls += 1
        return AccessToken("fake-access-token-for-standin", int(time.time()) + 3600)


@pytest.fixture
def standin() -> Iterator[StandIn]:
    with StandIn() as s:
        yield s


@pytest.fixture
def fake_token() -> FakeTokenCredential:
    return FakeTokenCredential()


@pytest.fixture
def sync_options(standin: StandIn, fake_token: FakeTokenCredential) -> dict[str, Any]:
    """Keyword options for the destination's operations: the stand-in's CA, allow-list and a fake token."""
    env = {"INF_APP_CONNECTION_AZURE_APP_CONFIGURATION_ALLOWED_HOSTS": standin.allow_list}
    return {"token_credential": fake_token, "env": env, "client_options": {"connection_verify": standin.ca_path}}


@pytest.fixture
def cli_env(standin: StandIn, monkeypatch: pytest.MonkeyPatch) -> StandIn:
    """The stand-in, reachable by ``azure-appconfig sync`` run in-process: allow-listed, its CA
    trusted, and the fake client secret in ``$AZ_SECRET`` (``cli_helpers.client_secret_flags``)."""
    monkeypatch.setenv(ALLOW, standin.allow_list)
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", standin.ca_path)
    monkeypatch.setenv("AZ_SECRET", fakes.FAKE_CLIENT_SECRET)
    return standin
