"""Our own suite: every test runs with the network blocked and process-wide caches empty."""

from __future__ import annotations

import pytest

# Fixture modules shared by several test modules, registered once here rather than imported into each
# (an imported fixture is redefined by every test parameter that requests it, and each importing
# module would get its own copy of a session-scoped fixture such as the Redis server). hypothesis_profiles
# registers the Hypothesis profiles (``default``, ``fuzz``) before ``--hypothesis-profile`` is read.
pytest_plugins = ["redis_fixtures", "trust_sites", "hypothesis_profiles"]


@pytest.fixture(autouse=True)
def _offline(azure_network_blocked: None, azure_clean_state: None) -> None:
    """No test reaches the network; HTTP is replayed from tests/cassettes/ (see azure_vcr)."""
