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
    return README.split(f"## {title}", 1)[1].split("\n## ", 1)[0]


def _run_blocks(section: str, ns: dict[str, object]) -> list[str]:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        for i, block in enumerate(re.findall(r"```python\n(.*?)\n```", section, re.S)):
            if block.lstrip().startswith("@hookspec"):  # the contract's signatures, checked below
                continue
            exec(compile(block, f"README block {i}", "exec"), ns)
    return out.getvalue().splitlines()


def test_every_host_block_runs_and_the_copied_hookspec_host_matches_the_loader() -> None:
    lines = _run_blocks(_section("For hosts"), {})
    assert "https://login.microsoftonline.com/contoso.onmicrosoft.com/oauth2/v2.0/authorize" in lines
    assert "False ['input', 'token']" in lines
    assert lines[-1] == "['client-secret', 'oauth'] [] True"


def test_the_contract_block_lists_every_hookspec() -> None:
    from azure_appconfig_plugin import hostspec

    block = next(b for b in re.findall(r"```python\n(.*?)\n```", _section("For hosts"), re.S) if b.startswith("@hookspec"))
    listed = set(re.findall(r"def (\w+)\(", block))
    assert listed == {n for n in dir(hostspec) if n.startswith(("register_", "validate_"))}


def test_every_plugin_author_block_runs() -> None:
    lines = _run_blocks(_section("For plugin authors"), {})
    assert lines == ["['expiresOn', 'token']"]


def test_identity_error_list_is_generated_from_the_table() -> None:
    from azure_appconfig_plugin.auth.aad_errors import identity_errors_markdown

    listed = README.split("<!-- identity-errors:begin -->\n", 1)[1].split("\n<!-- identity-errors:end -->", 1)[0]
    assert listed == identity_errors_markdown()


def test_fields_tables_are_generated_from_the_declarations() -> None:
    from azure_appconfig_plugin.connection import build_connection_type
    from azure_appconfig_plugin.fields import docs_table

    listed = README.split("<!-- fields:begin -->\n", 1)[1].split("\n<!-- fields:end -->", 1)[0]
    for method in build_connection_type().methods.values():
        assert docs_table(method.input_fields) in listed
        if method.stored_fields is not None:
            assert docs_table(method.stored_fields) in listed


def test_plugin_author_entry_point_block_is_valid_toml() -> None:
    import tomllib

    block = re.findall(r"```toml\n(.*?)\n```", _section("For plugin authors"), re.S)[0]
    assert tomllib.loads(block)["project"]["entry-points"]["app_connections"] == {"my-extension": "my_extension"}


def test_benchmark_commands_run() -> None:
    import os
    import subprocess
    import sys

    section = README.split("## Development", 1)[1]
    commands = [c.strip() for c in re.findall(r"```sh\n(.*?)\n\s*```", section, re.S)[0].splitlines()]
    assert [c.split("benchmarks/startup.py")[1] for c in commands] == [" --runs 30", " --runs 30"]
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    result = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "startup.py"), "--runs", "2"],
                            capture_output=True, text=True, check=True, env=env, timeout=120)
    assert "our plugin adds" in result.stdout  # runs; the figures themselves are measured, not asserted
