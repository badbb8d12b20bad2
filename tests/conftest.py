"""Our own suite: every test runs with the network blocked and process-wide caches empty."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

# Fixture modules shared by several test modules, registered once here rather than imported into each
# (an imported fixture is redefined by every test parameter that requests it, and each importing
# module would get its own copy of a session-scoped fixture such as the Redis server). hypothesis_profiles
# registers the Hypothesis profiles (``default``, ``fuzz``) before ``--hypothesis-profile`` is read.
pytest_plugins = ["redis_fixtures", "trust_sites", "hypothesis_profiles"]


@pytest.fixture(autouse=True)
def _offline(azure_network_blocked: None, azure_clean_state: None) -> None:
    """No test reaches the network; HTTP is replayed from tests/cassettes/ (see azure_vcr)."""


@pytest.fixture(autouse=True)
def _no_import_pins() -> Iterator[None]:
    """A digest pin of one test's throw-away site must not steer the next test's imports."""
    yield
    from app_connections import trust

    trust.GUARD.set_pins(())
