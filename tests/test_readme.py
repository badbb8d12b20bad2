"""The README's commands and host snippet are the real ones."""

from __future__ import annotations

import contextlib
import io
import re
from pathlib import Path

import pytest

from builtin import BUILTIN_METHODS

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


def _without_subsection(section: str, heading: str) -> str:
    before, _, rest = section.partition(heading)
    return before + ("\n### " + rest.split("\n### ", 1)[1] if "\n### " in rest else "")


def test_every_host_block_runs_and_the_copied_hookspec_host_matches_the_loader() -> None:
    # The Redis blocks need a server (test_several_replicas_python_block_runs runs them with one); the
    # client block needs a connection string (tests/test_readme_methods.py runs it with a fake one).
    section = _section("For hosts")
    for heading in ("### Several replicas (Redis)", "### A client for any method (`ConnectionType.client`)"):
        section = _without_subsection(section, heading)
    lines = _run_blocks(section, {})
    assert "https://login.microsoftonline.com/contoso.onmicrosoft.com/oauth2/v2.0/authorize" in lines
    assert "False ['input', 'token']" in lines
    assert lines[-1] == f"{sorted(BUILTIN_METHODS)} [] True"


def test_the_contract_block_lists_every_hookspec() -> None:
    from app_connections import hostspec

    block = next(
        b for b in re.findall(r"```python\n(.*?)\n```", _section("For hosts"), re.S) if b.startswith("@hookspec")
    )
    listed = set(re.findall(r"def (\w+)\(", block))
    assert listed == {n for n in dir(hostspec) if n.startswith(("register_", "validate_"))}


def test_every_plugin_author_block_runs() -> None:
    # The test kit's blocks are a plugin author's test files: they run as a pytest session below.
    lines = _run_blocks(_without_subsection(_section("For plugin authors"), "### The test kit"), {})
    assert lines == ["['expiresOn', 'token']"]


def test_identity_error_list_is_generated_from_the_table() -> None:
    from azure_appconfig_plugin.auth.aad_errors import identity_errors_markdown

    listed = README.split("<!-- identity-errors:begin -->\n", 1)[1].split("\n<!-- identity-errors:end -->", 1)[0]
    assert listed == identity_errors_markdown()


def test_fields_tables_are_generated_from_the_declarations() -> None:
    from app_connections.fields import methods_markdown
    from azure_appconfig_plugin.connection import build_connection_type

    listed = README.split("<!-- fields:begin -->\n", 1)[1].split("\n<!-- fields:end -->", 1)[0]
    assert listed == methods_markdown(build_connection_type().methods.values())


def test_plugin_author_entry_point_block_is_valid_toml() -> None:
    from toml_compat import loads as toml_loads

    block = re.findall(r"```toml\n(.*?)\n```", _section("For plugin authors"), re.S)[0]
    assert toml_loads(block)["project"]["entry-points"]["app_connections"] == {"my-extension": "my_extension"}


def test_benchmark_commands_run() -> None:
    import os
    import subprocess
    import sys

    section = README.split("## Development", 1)[1]
    commands = [c.strip() for c in re.findall(r"```sh\n(.*?)\n\s*```", section, re.S)[0].splitlines()]
    assert [c.split("benchmarks/startup.py")[1] for c in commands] == [" --runs 30", " --runs 30"]
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    result = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "startup.py"), "--runs", "2"],
        capture_output=True,
        text=True,
        check=True,
        env=env,
        timeout=120,
    )
    assert "our plugin adds" in result.stdout  # runs; the figures themselves are measured, not asserted


EXAMPLE = ROOT / "tests" / "example_extension"


def _subsection(title: str) -> str:
    """From a heading (with its #s) to the next heading of level 2 or 3."""
    return README.split(title, 1)[1].split("\n## ", 1)[0].split("\n### ", 1)[0]


def test_the_plugin_author_snippet_is_a_working_extension_of_the_base_type() -> None:
    """The README's plugin-author example, loaded as a plugin next to ours (the kit loads the base type)."""
    from types import ModuleType

    from app_connections.reports import CheckStatus
    from app_connections.testing.registry import load_registry

    snippet = re.findall(r"```python\n(.*?)\n```", _subsection("## For plugin authors"), re.S)[0]
    module = ModuleType("readme_extension")
    with contextlib.redirect_stdout(io.StringIO()):
        exec(compile(snippet, "README plugin-author snippet", "exec"), module.__dict__)
    registry = load_registry([("my-extension", module)])
    assert registry.failures == []
    assert list(registry.get("azure-app-configuration").methods) == [*BUILTIN_METHODS, "api-token"]
    for endpoint, status in (
        ("https://contoso-prod.azconfig.io", CheckStatus.OK),
        ("https://other.azconfig.io", CheckStatus.FAILED),
    ):
        report = registry.validate(
            "azure-app-configuration", "api-token", {"token": "t", "expiresOn": 4102444800}, endpoint=endpoint
        )
        [check] = [c for c in report.checks if c.name == "policy: store naming"]
        assert check.status is status


def _kit_files() -> dict[str, str]:
    files = {}
    for block in re.findall(r"```python\n(.*?)\n```", _subsection("### The test kit"), re.S):
        first = block.splitlines()[0]
        assert first.startswith("# ") and first.endswith(".py"), (
            f"a test-kit block must start with its file name: {first!r}"
        )
        files[first[2:]] = block
    return files


def test_test_kit_blocks_run_as_a_plugin_authors_test_session(pytester: pytest.Pytester) -> None:
    files = _kit_files()
    assert {
        "conftest.py",
        "test_my_extension.py",
        "test_my_rules.py",
        "test_session_rules.py",
        "test_stand_in_store.py",
    } <= set(files)
    for name, source in files.items():
        pytester.makefile(".py", **{name[:-3]: source})
    pytester.makefile(".py", appconfig_policy_example=(EXAMPLE / "appconfig_policy_example.py").read_text())
    # In a subprocess: an in-process run would drop the modules it imported first (yaml, vcr's
    # serializers) from sys.modules afterwards and leave later tests with two copies of them.
    result = pytester.runpytest_subprocess("-q", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=sum(source.count("\ndef test_") for source in files.values()))


def test_the_rules_table_in_the_readme_is_the_declared_one() -> None:
    from app_connections.testing.rules import markdown_table

    assert markdown_table() in _subsection("### The test kit")


def test_the_secret_scan_commands_run(tmp_path: Path) -> None:
    import os
    import subprocess
    import sys

    (tmp_path / "my_plugin_rules.py").write_text(
        "from app_connections.testing.rules import SecretRules\nMY_RULES = SecretRules(headers=['X-Contoso-Key'])\n"
    )
    commands = re.findall(r"```sh\n(.*?)\n```", _subsection("### The test kit"), re.S)[0].splitlines()
    assert len(commands) == 2
    env = {**os.environ, "PYTHONPATH": str(tmp_path)}
    for command in commands:
        args = command.split()
        assert args[:3] == ["python", "-m", "app_connections.testing.secret_scan"]
        result = subprocess.run([sys.executable, *args[1:]], cwd=ROOT, capture_output=True, text=True, env=env)
        assert result.returncode == 0 and "0 finding(s)" in result.stdout, result.stdout + result.stderr


# --- Several replicas (Redis), issue #11 ----------------------------------------------------------


def _replicas_section() -> str:
    return README.split("### Several replicas (Redis)", 1)[1].split("\n## ", 1)[0]


def test_several_replicas_shell_block_runs(redis_server, seal_key: str) -> None:  # type: ignore[no-untyped-def]  # fixture types live in redis_fixtures
    import os
    import subprocess
    import sys

    from azure_appconfig_plugin.testing import fakes as azure_fakes

    block = re.findall(r"```sh\n(.*?)\n```", _replicas_section(), re.S)[0]
    install, *rest = block.splitlines()
    assert install.startswith(
        'pip install "azure-appconfig-plugin[redis]"'
    )  # offline here: the extra is checked instead
    assert "redis = [" in (ROOT / "pyproject.toml").read_text()
    bin_dir = str(Path(sys.executable).parent)
    env = {
        **os.environ,
        **azure_fakes.fake_instance_env(),
        "PATH": bin_dir + os.pathsep + os.environ["PATH"],
        "REDIS_URL": redis_server.url.replace("redis://", "redis://default:canary-password@"),
        "REDIS_KEY": seal_key,
    }
    env.pop("INF_APP_CONNECTION_AZURE_APP_CONFIGURATION_REDIS_URL", None)
    assert (Path(bin_dir) / "python").exists()  # `python` as in the block: the virtual environment's
    done = subprocess.run(["bash", "-euc", "\n".join(rest)], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    printed_key = done.stdout.splitlines()[0]
    assert len(printed_key) == 44 and printed_key != seal_key
    assert "is reachable (Redis" in done.stdout and "READY" in done.stdout
    assert "canary-password" not in done.stdout + done.stderr and seal_key not in done.stdout


def test_several_replicas_python_block_runs(redis_env: dict[str, str], redis_client) -> None:  # type: ignore[no-untyped-def]  # fixture types live in redis_fixtures
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


# --- Limits and timeouts, Security (issue #13) ----------------------------------------------------


def test_limits_table_is_derived_from_the_limits_data() -> None:
    from azure_appconfig_plugin.http_policy import LIMITS, Limits, limits_table

    section = _section("Limits and timeouts")
    assert limits_table() in section
    for limit in LIMITS:
        assert getattr(Limits(), limit.name) == limit.default
        assert f"`{limit.env_var}`" in section


def test_limits_and_security_code_blocks_run() -> None:
    blocks = [
        b
        for title in ("Limits and timeouts", "Security")
        for b in re.findall(r"```python\n(.*?)\n```", _section(title), re.S)
    ]
    assert len(blocks) == 2
    for i, block in enumerate(blocks):
        exec(compile(block, f"README limits block {i}", "exec"), {})
    from azure_appconfig_plugin import http_policy

    assert http_policy.current_limits() == http_policy.Limits()
    assert not re.findall(r"```(?!python)\w+", _section("Limits and timeouts") + _section("Security"))
