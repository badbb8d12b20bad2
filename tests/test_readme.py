"""The README's commands and host snippet, and the docs pages its sections moved to (hosts, plugin
authors, the test kit, errors, replicas, limits, security): every code block runs, every table is
the declared one."""

from __future__ import annotations

import contextlib
import io
import re
from pathlib import Path

import pytest

from builtin import BUILTIN_METHODS, LIBRARY_METHODS
from docs_pages import ROOT, blocks, page, readme, results, section

pytest_plugins = ["pytester"]

README = readme()


def _quick_start() -> list[str]:
    return blocks(section(README, "## Quick start"), "sh")


def test_quick_start_has_exactly_two_commands_and_ci_runs_the_test_one() -> None:
    commands = _quick_start()
    assert len(commands) == 2
    assert "azure-appconfig doctor" in commands[0]
    assert "pytest" in commands[1] and '".[test]"' in commands[1]
    ci = (ROOT / ".ci" / "run").read_text().splitlines()
    assert commands[1] in ci


def test_the_docs_home_and_the_operators_page_set_up_with_the_quick_start_commands() -> None:
    assert blocks(section(page("index.md"), "## Set up"), "sh") == _quick_start()
    assert blocks(page("getting-started/operators.md"), "sh")[0] == _quick_start()[0]


def _host_example() -> str:
    return blocks(section(README, "## For hosts"), "python")[0]


def test_host_snippet_runs() -> None:
    snippet = _host_example()
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(snippet, "README host snippet", "exec"), {})
    lines = out.getvalue().splitlines()
    assert lines[0].startswith("oauth OAuth") and lines[1].startswith("client-secret Client secret")
    assert "clientSecret" in lines[1]


def test_the_hosts_getting_started_page_opens_with_the_readme_host_example() -> None:
    assert blocks(page("getting-started/hosts.md"), "python")[0] == _host_example()


def _run_blocks(snippets: list[str], ns: dict[str, object]) -> list[str]:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        for i, block in enumerate(snippets):
            exec(compile(block, f"docs block {i}", "exec"), ns)
    return out.getvalue().splitlines()


def _without_section(text: str, heading: str) -> str:
    return text.replace(section(text, heading), "")


def test_every_host_block_runs_and_the_copied_hookspec_host_matches_the_loader() -> None:
    # Getting started (discover, create, validate), then the host guide in the same namespace. The
    # contract's signatures are checked below; the client block needs a connection string
    # (tests/test_readme_methods.py runs it with a fake one).
    hosts = _without_section(_without_section(page("hosts.md"), "## The contract"), "## A client for any method")
    lines = _run_blocks(blocks(page("getting-started/hosts.md"), "python") + blocks(hosts, "python"), {})
    assert "https://login.microsoftonline.com/contoso.onmicrosoft.com/oauth2/v2.0/authorize" in lines
    assert "False ['input', 'token']" in lines
    assert lines[-1] == f"{sorted(LIBRARY_METHODS)} [] True"  # the default policy lends no host identity


def test_the_contract_block_lists_every_hookspec() -> None:
    from app_connections import hostspec

    (block,) = blocks(section(page("hosts.md"), "## The contract"), "python")
    listed = set(re.findall(r"def (\w+)\(", block))
    assert listed == {n for n in dir(hostspec) if n.startswith(("register_", "validate_"))}


PLUGIN_AUTHORS = "getting-started/plugin-authors.md"


def test_every_plugin_author_block_runs() -> None:
    lines = _run_blocks(blocks(page(PLUGIN_AUTHORS), "python"), {})
    assert lines == ["['expiresOn', 'token']"]


def _generated(text: str, name: str) -> str:
    return text.split(f"<!-- {name}:begin -->\n", 1)[1].split(f"\n<!-- {name}:end -->", 1)[0]


def test_identity_error_list_is_generated_from_the_table() -> None:
    from azure_appconfig_plugin.auth.aad_errors import identity_errors_markdown

    assert _generated(page("errors.md"), "identity-errors") == identity_errors_markdown()


@pytest.mark.parametrize("slug", BUILTIN_METHODS)
def test_each_method_page_has_the_fields_tables_generated_from_its_declarations(slug: str) -> None:
    from app_connections.field_tables import methods_markdown
    from azure_appconfig_plugin.connection import build_connection_type

    method = build_connection_type().methods[slug]
    assert _generated(page(f"methods/{slug}.md"), "fields") == methods_markdown([method])


@pytest.mark.parametrize("slug", [m for m in BUILTIN_METHODS if m != "oauth"])
def test_each_method_page_lists_the_flags_derived_from_its_declarations(slug: str) -> None:
    from app_connections.cli_flags import flags_markdown
    from azure_appconfig_plugin.connection import build_connection_type

    method = build_connection_type().methods[slug]
    assert _generated(page(f"methods/{slug}.md"), "flags") == flags_markdown(method.input_fields)


def test_plugin_author_entry_point_block_is_valid_toml() -> None:
    from toml_compat import loads as toml_loads

    (block,) = blocks(page(PLUGIN_AUTHORS), "toml")
    assert toml_loads(block)["project"]["entry-points"]["app_connections"] == {"my-extension": "my_extension"}


@pytest.mark.slow
def test_benchmark_commands_run() -> None:
    """The start-up and tamper-check sections name benchmarks/startup.py; one short run of it prints both."""
    import os
    import re
    import subprocess
    import sys

    (block,) = blocks(section(results(), "## Start-up"), "sh")
    commands = [c.strip() for c in block.splitlines()]
    assert [c.split("benchmarks/startup.py")[1] for c in commands] == [" --runs 30", " --runs 30"]
    (tamper,) = blocks(section(results(), "## Plugin trust: tamper check"), "sh")
    assert tamper == ".venv/bin/python benchmarks/startup.py --runs 40"
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    result = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "startup.py"), "--runs", "2"],
        capture_output=True,
        text=True,
        check=True,
        env=env,
        timeout=120,
    )
    assert re.search(r"\n  \d+ files \(\d+ KiB\): median [\d.]+ ms .*\n  per file: \d+ us\n", result.stdout)
    assert "our plugin adds" in result.stdout  # runs; the figures themselves are measured, not asserted


EXAMPLE = ROOT / "tests" / "example_extension"


def test_the_plugin_author_snippet_is_a_working_extension_of_the_base_type() -> None:
    """The plugin-author example, loaded as a plugin next to ours (the kit loads the base type)."""
    from types import ModuleType

    from app_connections.reports import CheckStatus
    from app_connections.testing.registry import load_registry

    snippet = blocks(page(PLUGIN_AUTHORS), "python")[0]
    module = ModuleType("readme_extension")
    with contextlib.redirect_stdout(io.StringIO()):
        exec(compile(snippet, "plugin-author snippet", "exec"), module.__dict__)
    registry = load_registry([("my-extension", module)])
    assert registry.failures == []
    assert list(registry.get("azure-app-configuration").methods) == [*LIBRARY_METHODS, "api-token"]
    for endpoint, status in (
        ("https://contoso-prod.azconfig.io", CheckStatus.OK),
        ("https://other.azconfig.io", CheckStatus.FAILED),
    ):
        report = registry.validate(
            "azure-app-configuration", "api-token", {"token": "t", "expiresOn": 4102444800}, endpoint=endpoint
        )
        [check] = [c for c in report.checks if c.name == "policy: store naming"]
        assert check.status is status


TEST_KIT = "test-kit.md"


def _kit_files() -> dict[str, str]:
    files = {}
    for block in blocks(page(TEST_KIT), "python"):
        first = block.splitlines()[0]
        assert first.startswith("# ") and first.endswith(".py"), (
            f"a test-kit block must start with its file name: {first!r}"
        )
        files[first[2:]] = block
    return files


@pytest.mark.slow
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

    assert markdown_table() in page(TEST_KIT)


def test_the_secret_scan_commands_run(tmp_path: Path) -> None:
    import os
    import subprocess
    import sys

    (tmp_path / "my_plugin_rules.py").write_text(
        "from app_connections.testing.rules import SecretRules\nMY_RULES = SecretRules(headers=['X-Contoso-Key'])\n"
    )
    (block,) = blocks(section(page(TEST_KIT), "## Secret scan"), "sh")
    commands = block.splitlines()
    assert len(commands) == 2
    env = {**os.environ, "PYTHONPATH": str(tmp_path)}
    for command in commands:
        args = command.split()
        assert args[:3] == ["python", "-m", "app_connections.testing.secret_scan"]
        result = subprocess.run([sys.executable, *args[1:]], cwd=ROOT, capture_output=True, text=True, env=env)
        assert result.returncode == 0 and "0 finding(s)" in result.stdout, result.stdout + result.stderr


# --- Several replicas (Redis) ---------------------------------------------------------------------


def _replicas_section() -> str:
    return page("replicas.md")


def test_several_replicas_shell_block_runs(redis_server, seal_key: str) -> None:  # type: ignore[no-untyped-def]  # fixture types live in redis_fixtures
    import os
    import subprocess
    import sys

    from azure_appconfig_plugin.testing import fakes as azure_fakes

    block = blocks(_replicas_section(), "sh")[0]
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
    snippet = blocks(_replicas_section(), "python")[0]
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(snippet, "replicas snippet", "exec"), {})
    assert out.getvalue().strip() == "https://login.microsoftonline.com/contoso.onmicrosoft.com/oauth2/v2.0/authorize"
    keys = sorted(k.decode().rsplit(":", 1)[0] for k in redis_client.keys("*"))
    assert keys == [  # each flow beside its one-time ticket
        "app-connections:flow",
        "app-connections:flow-ticket",
        "myapp:flow",
        "myapp:flow-ticket",
    ]


def test_several_replicas_table_is_the_benchmarks() -> None:
    import importlib.util

    spec = importlib.util.spec_from_file_location("fleet", ROOT / "benchmarks" / "fleet.py")
    assert spec and spec.loader
    fleet = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(fleet)
    measured = section(results(), "## Several replicas: token cache")
    rows = [line.split(" | ") for line in measured.splitlines() if line.startswith("| ") and " ms |" in line]
    assert [r[0].lstrip("| ") for r in rows] == list(fleet.MODES)
    assert [r[1] for r in rows] == ["8", "1", "1"]
    assert "benchmarks/fleet.py" in measured
    assert "benchmarks.md#several-replicas-token-cache" in _replicas_section()  # the page links its figures


# --- Limits and timeouts, Security ----------------------------------------------------------------


def test_limits_table_is_derived_from_the_limits_data() -> None:
    from azure_appconfig_plugin.http.limits import LIMITS, Limits, limits_table

    limits = page("limits.md")
    assert limits_table() in limits
    for limit in LIMITS:
        assert getattr(Limits(), limit.name) == limit.default
        assert f"`{limit.env_var}`" in limits


def test_limits_and_security_code_blocks_run() -> None:
    pages = page("limits.md") + page("security.md")
    snippets = blocks(pages, "python")
    assert len(snippets) == 2
    for i, block in enumerate(snippets):
        exec(compile(block, f"limits block {i}", "exec"), {})
    from azure_appconfig_plugin.http.limits import Limits, current_limits

    assert current_limits() == Limits()
    assert not re.findall(r"```(?!python)\w+", pages)
