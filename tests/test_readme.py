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
