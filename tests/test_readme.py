"""The README's commands and host snippet are the real ones."""

from __future__ import annotations

import contextlib
import io
import re
from pathlib import Path

import pytest

pytest_plugins = ["pytester"]

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


EXAMPLE = ROOT / "tests" / "example_extension"


def _section(title: str) -> str:
    return README.split(title, 1)[1].split("\n## ", 1)[0].split("\n### ", 1)[0]


def test_plugin_author_snippets_run_against_the_example_extension(monkeypatch: pytest.MonkeyPatch) -> None:
    import sys
    tomllib = pytest.importorskip("tomllib")
    from types import ModuleType

    from azure_appconfig_plugin.reports import CheckStatus, ValidationRequest
    from azure_appconfig_plugin.testing.registry import load_registry

    section = _section("## For plugin authors")
    toml = tomllib.loads(re.findall(r"```toml\n(.*?)\n```", section, re.S)[0])
    example = tomllib.loads((EXAMPLE / "pyproject.toml").read_text())
    assert set(toml["project"]["entry-points"]) == set(example["project"]["entry-points"]) == {"app_connections"}

    monkeypatch.syspath_prepend(str(EXAMPLE))
    monkeypatch.delitem(sys.modules, "appconfig_policy_example", raising=False)
    snippet = re.findall(r"```python\n(.*?)\n```", section, re.S)[0]
    module = ModuleType("readme_extension")
    exec(compile(snippet, "README plugin-author snippet", "exec"), module.__dict__)
    registry = load_registry([("my-extension", module)])
    assert registry.failures == []
    assert list(registry.get("azure-app-configuration").methods) == ["oauth", "client-secret", "static-token"]
    for endpoint, status in (("https://contoso-prod.azconfig.io", CheckStatus.OK), ("https://other.azconfig.io", CheckStatus.FAILED)):
        request = ValidationRequest("azure-app-configuration", "static-token", None, endpoint)
        [[check]] = registry.pm.hook.validate_connection(request=request)
        assert check.name == "policy: store naming" and check.status is status


def _kit_files() -> dict[str, str]:
    files = {}
    for block in re.findall(r"```python\n(.*?)\n```", _section("### The test kit"), re.S):
        first = block.splitlines()[0]
        assert first.startswith("# ") and first.endswith(".py"), f"a test-kit block must start with its file name: {first!r}"
        files[first[2:]] = block
    return files


def test_test_kit_blocks_run_as_a_plugin_authors_test_session(pytester: pytest.Pytester) -> None:
    files = _kit_files()
    assert {"conftest.py", "test_my_extension.py", "test_my_rules.py", "test_session_rules.py", "test_stand_in_store.py"} <= set(files)
    for name, source in files.items():
        pytester.makefile(".py", **{name[:-3]: source})
    pytester.makefile(".py", appconfig_policy_example=(EXAMPLE / "appconfig_policy_example.py").read_text())
    pytester.syspathinsert()
    result = pytester.runpytest("-q", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=sum(source.count("\ndef test_") for source in files.values()))


def test_the_rules_table_in_the_readme_is_the_declared_one() -> None:
    from azure_appconfig_plugin.testing.rules import markdown_table

    assert markdown_table() in _section("### The test kit")


def test_the_secret_scan_commands_run(tmp_path: Path) -> None:
    import os
    import subprocess
    import sys

    (tmp_path / "my_plugin_rules.py").write_text(
        "from azure_appconfig_plugin.testing.rules import SecretRules\nMY_RULES = SecretRules(headers=['X-Contoso-Key'])\n")
    commands = re.findall(r"```sh\n(.*?)\n```", _section("### The test kit"), re.S)[0].splitlines()
    assert len(commands) == 2
    env = {**os.environ, "PYTHONPATH": str(tmp_path)}
    for command in commands:
        args = command.split()
        assert args[:3] == ["python", "-m", "azure_appconfig_plugin.testing.secret_scan"]
        result = subprocess.run([sys.executable, *args[1:]], cwd=ROOT, capture_output=True, text=True, env=env)
        assert result.returncode == 0 and "0 finding(s)" in result.stdout, result.stdout + result.stderr


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
