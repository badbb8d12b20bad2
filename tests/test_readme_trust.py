"""Every code block of the "Plugin trust" docs page (docs/trust.md) runs here, and so does the tamper
check benchmark's command (benchmarks/RESULTS.md)."""

from __future__ import annotations

import contextlib
import io
import json
import os
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

from app_connections import trust
from app_connections.loader import load_plugins
from app_connections.testing import fakes
from azure_appconfig_plugin.testing import fakes as azure_fakes
from docs_pages import all_blocks, page

BLOCKS = all_blocks(page("trust.md"))
CLIENT_SECRET = {
    "tenantId": fakes.FAKE_TENANT_ID,
    "clientId": fakes.FAKE_CLIENT_ID,
    "clientSecret": "canary-readme-secret",
}


def page_blocks(lang: str) -> list[str]:
    return [code for kind, code in BLOCKS if kind == lang]


def test_the_section_has_the_blocks_these_tests_run() -> None:
    assert [kind for kind, _ in BLOCKS] == ["sh", "sh", "python", "python"]


def test_the_operator_commands_run(tmp_path: Path) -> None:
    script = page_blocks("sh")[0]
    env = {
        **os.environ,
        **azure_fakes.fake_instance_env(),
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
    }
    env.pop(trust.ALLOWLIST_ENV, None)
    result = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", script], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    line = (tmp_path / "plugins.env").read_text().strip()
    assert line.startswith(trust.ALLOWLIST_ENV + "=azure-appconfig-plugin==")
    assert "plugin trust: allow-list mode (1 entry), from APP_CONNECTIONS_ALLOWED_PLUGINS" in result.stdout
    assert "plugin azure-app-configuration: ALLOWED" in result.stdout
    doctor = json.loads(result.stdout[result.stdout.index("{") :])
    plugins = next(c for c in doctor["checks"] if c["name"] == "plugins")
    assert plugins["status"] == "ok" and plugins["detail"].startswith("allow-list mode (1 entry)")


def test_the_example_line_is_a_valid_allow_list() -> None:
    example = page_blocks("sh")[1]
    result = subprocess.run(
        ["bash", "-euc", example + f'\necho "${trust.ALLOWLIST_ENV}"'], capture_output=True, text=True
    )
    value = result.stdout.strip()
    [entry] = trust.parse_allow_list(value).entries
    assert (entry.name, entry.version, len(entry.digest or "")) == ("azure-appconfig-plugin", "0.1.0", 64)


def test_the_host_snippet_runs() -> None:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(page_blocks("python")[0], "trust host snippet", "exec"), {})
    lines = out.getvalue().splitlines()
    assert lines[0] == "allow-list []"
    assert lines[1].startswith("azure-app-configuration allowed azure-appconfig-plugin 0.1.0 ")
    assert lines[1].endswith("listed by name")


def policy_module() -> ModuleType:
    mod = ModuleType("readme_policy")
    exec(compile(page_blocks("python")[1], "trust hook snippet", "exec"), mod.__dict__)
    return mod


class FakeTokenCredential:
    def get_token(self, *scopes: str, **kwargs: Any) -> Any:
        from azure.core.credentials import AccessToken

        return AccessToken("fake", 4102444800)


def test_the_hook_snippet_sees_no_secret_unless_granted() -> None:
    for grant, shown in (((), "withheld"), (("readme-policy",), "visible")):
        registry = load_plugins(plugins=[("readme-policy", policy_module())], env={}, grant_secrets=grant)
        report = registry.validate(
            "azure-app-configuration", "client-secret", CLIENT_SECRET, token_credential=FakeTokenCredential()
        )
        check = next(c for c in report.checks if c.name == "policy: tenant")
        assert check.status.value == "ok" and check.detail == f"tenant {fakes.FAKE_TENANT_ID} (secrets {shown})"


def test_the_hook_snippet_handles_an_oauth_input_without_tenant() -> None:
    from app_connections.reports import ValidationRequest
    from azure_appconfig_plugin.methods import OAuthMethod
    from azure_appconfig_plugin.methods.oauth import OAuthInput

    request = ValidationRequest("azure-app-configuration", "oauth", OAuthInput(), None)
    [check] = policy_module().validate_connection(
        request=trust.restricted_request(request, OAuthMethod().input_schema())
    )
    assert check.status.value == "failed" and check.detail == "tenant organizations (secrets withheld)"
