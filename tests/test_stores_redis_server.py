"""The local redis-server launcher the tests and the benchmark use."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from app_connections.testing.redis_server import LocalRedisServer, find_redis_server


def test_an_explicit_binary_that_does_not_run_is_skipped(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    broken = tmp_path / "redis-server"
    broken.write_text("#!/bin/sh\nexit 3\n")
    broken.chmod(0o755)
    monkeypatch.setenv("REDIS_SERVER_BIN", str(broken))
    assert find_redis_server() != str(broken)


def test_start_and_stop_on_loopback_without_persistence() -> None:
    if find_redis_server() is None:
        pytest.skip("no redis-server")
    with LocalRedisServer() as server:
        import redis

        client = redis.Redis.from_url(server.url)
        assert client.config_get("save") == {"save": ""} and client.config_get("appendonly") == {"appendonly": "no"}
        assert client.config_get("bind")["bind"] == "127.0.0.1"
        client.close()
        port = server.port
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
