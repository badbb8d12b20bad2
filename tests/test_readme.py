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


def _section(title: str) -> str:
    return README.split(f"## {title}\n", 1)[1].split("\n## ", 1)[0]


def test_limits_table_is_derived_from_the_limits_data() -> None:
    from azure_appconfig_plugin.http_policy import LIMITS, Limits, limits_table

    section = _section("Limits and timeouts")
    assert limits_table() in section
    for limit in LIMITS:
        assert getattr(Limits(), limit.name) == limit.default
        assert f"`{limit.env_var}`" in section


def test_limits_and_security_code_blocks_run() -> None:
    blocks = [b for title in ("Limits and timeouts", "Security") for b in re.findall(r"```python\n(.*?)\n```", _section(title), re.S)]
    assert len(blocks) == 2
    for i, block in enumerate(blocks):
        exec(compile(block, f"README limits block {i}", "exec"), {})
    from azure_appconfig_plugin import http_policy

    assert http_policy.current_limits() == http_policy.Limits()
    assert not re.findall(r"```(?!python)\w+", _section("Limits and timeouts") + _section("Security"))
