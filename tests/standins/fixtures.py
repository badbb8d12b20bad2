"""pytest fixtures around the App Configuration stand-in (import them into a test module)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

from .appconfig import StandIn


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
