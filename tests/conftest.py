"""Our own suite: every test runs with the network blocked and process-wide caches empty."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

# Compiled modules, and pytest's assertion-rewritten ones (every module of a pytest11 plugin's
# distribution: ours, Hypothesis, ...), are cached in one tree inside the venv, even where
# PYTHONDONTWRITEBYTECODE is set: never beside the sources (the trust tests hash installs), and
# reused by the xdist workers, the subprocesses the tests start and the next run.
if sys.pycache_prefix is None:
    sys.pycache_prefix = str(Path(sys.prefix) / "pycache")
sys.dont_write_bytecode = False
os.environ["PYTHONPYCACHEPREFIX"] = sys.pycache_prefix

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
