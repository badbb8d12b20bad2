"""The README's commands and host snippet are the real ones."""

from __future__ import annotations

import contextlib
import io
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()


def _quick_start() -> list[str]:
    section = README.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```sh\n(.*?)\n```", section, re.S)


def test_quick_start_has_exactly_two_commands_and_ci_runs_the_test_one() -> None:
    commands = _quick_start()
    assert len(commands) == 2
    assert "azure-appconfig doctor" in commands[0]
    assert "pytest" in commands[1] and '".[test]"' in commands[1]
    ci = (ROOT / ".ci" / "run").read_text().splitlines()
    assert commands[1] in ci


def test_host_snippet_runs() -> None:
    section = README.split("## For hosts", 1)[1]
    snippet = re.findall(r"```python\n(.*?)\n```", section, re.S)[0]
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(snippet, "README host snippet", "exec"), {})
    lines = out.getvalue().splitlines()
    assert lines[0].startswith("oauth OAuth") and lines[1].startswith("client-secret Client secret")
    assert "clientSecret" in lines[1]


# --- Several replicas (Redis), issue #11 ----------------------------------------------------------

from redis_fixtures import redis_client, redis_env, redis_server, seal_key  # noqa: E402,F401


def _replicas_section() -> str:
    return README.split("### Several replicas (Redis)", 1)[1].split("\n## ", 1)[0]


def test_several_replicas_shell_block_runs(redis_server, seal_key: str) -> None:  # type: ignore[no-untyped-def]
    import os
    import subprocess
    import sys

    from azure_appconfig_plugin.testing import fakes

    block = re.findall(r"```sh\n(.*?)\n```", _replicas_section(), re.S)[0]
    install, *rest = block.splitlines()
    assert install.startswith('pip install "azure-appconfig-plugin[redis]"')  # offline here: the extra is checked instead
    assert "redis = [" in (ROOT / "pyproject.toml").read_text()
    bin_dir = str(Path(sys.executable).parent)
    env = {**os.environ, **fakes.fake_instance_env(), "PATH": bin_dir + os.pathsep + os.environ["PATH"],
           "REDIS_URL": redis_server.url.replace("redis://", "redis://default:canary-password@"), "REDIS_KEY": seal_key}
    env.pop("INF_APP_CONNECTION_AZURE_APP_CONFIGURATION_REDIS_URL", None)
    assert (Path(bin_dir) / "python").exists()  # `python` as in the block: the virtual environment's
    done = subprocess.run(["bash", "-euc", "\n".join(rest)], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    printed_key = done.stdout.splitlines()[0]
    assert len(printed_key) == 44 and printed_key != seal_key
    assert "is reachable (Redis" in done.stdout and "READY" in done.stdout
    assert "canary-password" not in done.stdout + done.stderr and seal_key not in done.stdout


def test_several_replicas_python_block_runs(redis_env: dict[str, str], redis_client) -> None:  # type: ignore[no-untyped-def]
    snippet = re.findall(r"```python\n(.*?)\n```", _replicas_section(), re.S)[0]
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(snippet, "README replicas snippet", "exec"), {})
    assert out.getvalue().strip() == "https://login.microsoftonline.com/contoso.onmicrosoft.com/oauth2/v2.0/authorize"
    keys = sorted(k.decode().rsplit(":", 1)[0] for k in redis_client.keys("*"))
    assert keys == ["azure-appconfig-plugin:flow", "myapp:flow"]


def test_several_replicas_table_is_the_benchmarks() -> None:
    import importlib.util

    spec = importlib.util.spec_from_file_location("fleet", ROOT / "benchmarks" / "fleet.py")
    assert spec and spec.loader
    fleet = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(fleet)
    rows = [line.split(" | ") for line in _replicas_section().splitlines() if line.startswith("| ") and " ms |" in line]
    assert [r[0].lstrip("| ") for r in rows] == list(fleet.MODES)
    assert [r[1] for r in rows] == ["8", "1", "1"]
    assert "benchmarks/fleet.py" in _replicas_section()
