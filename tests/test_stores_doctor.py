"""``doctor`` reports the Redis settings (reachable or not) and never shows the URL's password or the key."""

from __future__ import annotations

import json
import socket
from typing import Any

import pytest

from app_connections.testing.redis_server import LocalRedisServer
from azure_appconfig_plugin.cli import main
from azure_appconfig_plugin.doctor import run_doctor
from azure_appconfig_plugin.envvars import REDIS_KEY_ENV, REDIS_URL_ENV
from azure_appconfig_plugin.testing import fakes as azure_fakes

PASSWORD = "canary-redis-password"


def statuses(env: dict[str, str]) -> dict[str, tuple[str, str]]:
    return {c.name: (c.status, c.detail) for c in run_doctor(env).checks}


def test_without_the_url_nothing_is_added() -> None:
    assert "Redis server" not in statuses(azure_fakes.fake_instance_env())


def test_reachable_server(redis_server: LocalRedisServer, seal_key: str) -> None:
    url = redis_server.url.replace("redis://", "redis://default:@", 1)
    checks = statuses({**azure_fakes.fake_instance_env(), REDIS_URL_ENV: url, REDIS_KEY_ENV: seal_key})
    assert checks["Redis server"][0] == "ok" and "is reachable (Redis " in checks["Redis server"][1]
    assert checks[REDIS_KEY_ENV] == ("ok", "set (1 key, not shown)")
    assert checks[REDIS_URL_ENV][0] == "ok" and "***@127.0.0.1" in checks[REDIS_URL_ENV][1]


def test_unreachable_server_and_missing_key_make_doctor_not_ready(monkeypatch: pytest.MonkeyPatch, capsys: Any) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    for key, value in {
        **azure_fakes.fake_instance_env(),
        REDIS_URL_ENV: f"rediss://:{PASSWORD}@127.0.0.1:{port}/0",
    }.items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv(REDIS_KEY_ENV, raising=False)
    code = main(["doctor", "--json"])
    out = capsys.readouterr().out
    data = json.loads(out)
    checks = {c["name"]: c for c in data["checks"]}
    assert code == 1 and data["ready"] is False
    assert checks["Redis server"]["status"] == "invalid" and "not reachable" in checks["Redis server"]["detail"]
    assert checks[REDIS_KEY_ENV]["status"] == "missing"
    assert PASSWORD not in out
    main(["doctor"])
    assert PASSWORD not in capsys.readouterr().out


@pytest.mark.parametrize("url", [f"http://:{PASSWORD}@cache:6379", "redis://", f"redis://:{PASSWORD}@cache:notaport"])
def test_a_bad_url_is_invalid_and_not_echoed(url: str, seal_key: str) -> None:
    checks = statuses({**azure_fakes.fake_instance_env(), REDIS_URL_ENV: url, REDIS_KEY_ENV: seal_key})
    assert checks[REDIS_URL_ENV][0] == "invalid" and PASSWORD not in checks[REDIS_URL_ENV][1]
    assert "Redis server" not in checks


def test_a_malformed_key_is_invalid_and_not_echoed(redis_server: LocalRedisServer) -> None:
    checks = statuses(
        {**azure_fakes.fake_instance_env(), REDIS_URL_ENV: redis_server.url, REDIS_KEY_ENV: "canary-bad-key"}
    )
    assert checks[REDIS_KEY_ENV][0] == "invalid" and "canary-bad-key" not in checks[REDIS_KEY_ENV][1]


def test_a_server_older_than_6_2_is_invalid() -> None:
    from azure_appconfig_plugin.stores.health import _reachable

    class Old:
        def ping(self) -> bool:
            return True

        def info(self, section: str) -> dict[str, str]:
            return {"redis_version": "6.0.16"}

        def close(self) -> None:
            pass

    check = _reachable("redis://cache:6379/0", "redis://cache:6379/0", lambda *a: a, lambda url: Old())
    assert check[1] == "invalid" and "6.2 or later" in check[2]
