"""Our own suite: every test runs with the network blocked and process-wide caches empty."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _offline(azure_network_blocked: None, azure_clean_state: None) -> None:
    """No test reaches the network; HTTP is replayed from tests/cassettes/ (see azure_vcr)."""
