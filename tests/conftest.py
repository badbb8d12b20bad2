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
os.environ.pop("PYTHONDONTWRITEBYTECODE", None)  # the subprocesses the tests start write there too

# Fixture modules shared by several test modules, registered once here rather than imported into each
# (an imported fixture is redefined by every test parameter that requests it, and each importing
# module would get its own copy of a session-scoped fixture such as the Redis server). hypothesis_profiles
# registers the Hypothesis profiles (``default``, ``fuzz``) before ``--hypothesis-profile`` is read.
pytest_plugins = ["redis_fixtures", "trust_sites", "hypothesis_profiles"]


@pytest.hookimpl(tryfirst=True)  # before ``-m`` deselects
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """A test that starts a fleet of processes (the ``fleet`` fixture) is ``slow``: CI runs it once."""
    for item in items:
        if isinstance(item, pytest.Function) and "fleet" in item.fixturenames:
            item.add_marker(pytest.mark.slow)


def pytest_xdist_auto_num_workers(config: pytest.Config) -> int:
    """``-n auto``: one worker more than cores. Many tests wait (a stand-in's latency, a deadline, a
    subprocess starting), and the extra worker keeps the cores busy meanwhile."""
    return (os.cpu_count() or 1) + 1


@pytest.fixture(autouse=True)
def _offline(azure_network_blocked: None, azure_clean_state: None) -> None:
    """No test reaches the network; HTTP is replayed from tests/cassettes/ (see azure_vcr)."""


@pytest.fixture(autouse=True)
def _fresh_lock_scripts() -> Iterator[None]:
    """redis-py's ``Lock`` registers its scripts once per process, on the first client it meets: a
    fake client of one test must not leave its fake release script to the next. (No ``monkeypatch``
    here: it would outlive, and so undo after, the teardown of every other fixture.)"""
    yield
    from redis.lock import Lock

    Lock.lua_release = Lock.lua_extend = Lock.lua_reacquire = None


@pytest.fixture(autouse=True)
def _no_import_pins() -> Iterator[None]:
    """A digest pin of one test's throw-away site must not steer the next test's imports."""
    yield
    from app_connections import trust

    trust.GUARD.set_pins(())
