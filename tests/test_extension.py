"""The example third-party extension (tests/example_extension) reaches the host and the CLI
through a real entry point: a policy check and an extra auth method."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from app_connections.loader import load_plugins
from app_connections.testing import fakes
from azure_appconfig_plugin.cli import main
from azure_appconfig_plugin.http.limits import LIMITS
from builtin import BUILTIN_METHODS, LIBRARY_METHODS
from cli_helpers import client_secret_flags, run
from toml_compat import loads as toml_loads

EXAMPLE = Path(__file__).parent / "example_extension"


@pytest.fixture
def example_installed(plugin_distributions: Any) -> Path:
    meta = toml_loads((EXAMPLE / "pyproject.toml").read_text())["project"]
    return plugin_distributions(
        meta["name"],
        entry_points={"app_connections": meta["entry-points"]["app_connections"]},
        modules={"appconfig_policy_example.py": (EXAMPLE / "appconfig_policy_example.py").read_text()},
    )


def test_extension_adds_an_auth_method_to_our_type(example_installed: Path) -> None:
    registry = load_plugins(env={})
    assert not registry.failures
    ct = registry.get("azure-app-configuration")
    assert list(ct.methods) == [*LIBRARY_METHODS, "static-token"]  # the default policy: no host identity
    creds = ct.parse("static-token", {"accessToken": "fake-access-token", "expiresOn": int(time.time()) + 600})
    assert ct.token_credential(creds).get_token("https://azconfig.io/.default").token == "fake-access-token"


def test_extension_method_validates_through_our_validator(example_installed: Path, no_store_calls: None) -> None:
    registry = load_plugins(env={})
    report = registry.validate(
        "azure-app-configuration",
        "static-token",
        {"accessToken": "fake-access-token", "expiresOn": int(time.time()) + 600},
        endpoint="https://other-store.azconfig.io/",
    )
    names = {c.name: c.status.value for c in report.checks}
    assert names["token"] == "ok" and names["policy: store naming"] == "failed"


@pytest.fixture
def no_store_calls(monkeypatch: pytest.MonkeyPatch) -> None:
    from azure_appconfig_plugin import store
    from azure_appconfig_plugin.store import ProbeResult

    monkeypatch.setattr(store, "probe_read", lambda client: ProbeResult(200))
    monkeypatch.setattr(store, "probe_write_precondition", lambda client: ProbeResult(412))
    monkeypatch.setattr(store, "probe_delete_precondition", lambda client: ProbeResult(412))


def test_cli_types_shows_the_extension(example_installed: Path) -> None:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(example_installed), os.environ.get("PYTHONPATH", "")])}
    result = subprocess.run(
        [sys.executable, "-m", "azure_appconfig_plugin.cli", "types", "--json"],
        capture_output=True,
        text=True,
        env=env,
        check=True,
    )
    data = json.loads(result.stdout)
    ours = next(t for t in data["types"] if t["slug"] == "azure-app-configuration")
    assert [m["slug"] for m in ours["methods"]] == [*BUILTIN_METHODS, "static-token"]
    assert data["failures"] == []


def test_cli_validate_shows_the_policy_check(
    example_installed: Path, azure_vcr: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AZ_SECRET", "fake-client-secret")
    out = io.StringIO()
    with azure_vcr.use_cassette("store_healthy.yaml"):
        code = main(
            [
                "validate",
                "--method",
                "client-secret",
                *client_secret_flags(),
                "--endpoint",
                fakes.FAKE_STORE_ENDPOINT,
                "--json",
            ],
            out=out,
        )
    data = json.loads(out.getvalue())
    policy = next(c for c in data["checks"] if c["name"] == "policy: store naming")
    assert code == 0 and data["ok"] and policy["status"] == "ok"


# --- the CLI is built from the registry: a plugin-added method works end to end -------------------------


def test_cli_schema_of_a_plugin_method(example_installed: Path) -> None:
    code, text = run("schema", "--method", "static-token", "--json")
    assert code == 0 and json.loads(text)["required"] == ["accessToken", "expiresOn"]


def _static_file(tmp_path: Path, **extra: Any) -> Path:
    path = tmp_path / "static.json"
    path.write_text(
        json.dumps(
            {
                "method": "static-token",
                "accessToken": "fake-access-token",
                "expiresOn": int(time.time()) + 600,
                "cloud": "public",
                **extra,
            }
        )
    )
    os.chmod(path, 0o600)
    return path


def test_cli_validate_credentials_file_implies_the_method(
    example_installed: Path, tmp_path: Path, no_store_calls: None
) -> None:
    code, text = run(
        "validate",
        "--credentials",
        str(_static_file(tmp_path)),
        "--endpoint",
        "https://contoso-x.azconfig.io",
        "--json",
    )
    data = json.loads(text)
    assert code == 0 and data["ok"], text
    assert "fake-access-token" not in text


def test_cli_validate_a_failed_check_exits_1(example_installed: Path, tmp_path: Path, no_store_calls: None) -> None:
    code, text = run(
        "validate", "--credentials", str(_static_file(tmp_path)), "--endpoint", "https://other.azconfig.io", "--json"
    )
    assert code == 1 and json.loads(text)["ok"] is False


def test_cli_conflicting_method_exits_2(
    example_installed: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _ = run("validate", "--method", "client-secret", "--credentials", str(_static_file(tmp_path)))
    assert code == 2 and "drop --method" in capsys.readouterr().err


def test_cli_validate_plugin_method_from_input_file(
    example_installed: Path, tmp_path: Path, no_store_calls: None
) -> None:
    form = tmp_path / "form.json"
    form.write_text(json.dumps({"accessToken": "fake-access-token", "expiresOn": int(time.time()) + 600}))
    code, text = run("validate", "--method", "static-token", "--input", str(form), "--json")
    assert code == 0, text
    form.write_text(json.dumps({"accessToken": "fake-access-token", "expiresOn": 5}))
    code, text = run("validate", "--method", "static-token", "--input", str(form), "--json")
    assert code == 2 and "future Unix time" in text


def test_no_network_says_network_unreachable(
    example_installed: Path,
    tmp_path: Path,
    azure_network_blocked: None,
    azure_clean_state: None,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # the store's retries of the refused connection back off 0.1 s, not azure-core's 0.8 s and up
    monkeypatch.setenv(next(x.env_var for x in LIMITS if x.name == "retry_after_max_seconds"), "0.1")
    # the store stage (a plugin method needs no login host for its token)
    code, text = run(
        "validate",
        "--credentials",
        str(_static_file(tmp_path)),
        "--endpoint",
        "https://contoso-x.azconfig.io",
        "--json",
    )
    read = next(c for c in json.loads(text)["checks"] if c["name"] == "KeyValue.Read")
    assert code == 1 and "network unreachable" in read["detail"] and "no store by that name" not in read["detail"]
    # the token stage
    monkeypatch.setenv("AZ_SECRET", "canary-no-network")
    code, text = run(
        "validate",
        "--method",
        "client-secret",
        *client_secret_flags(),
        "--json",
    )
    token = next(c for c in json.loads(text)["checks"] if c["name"] == "token")
    assert code == 1 and "network unreachable" in token["detail"].lower()
    assert "throttling" not in token["remediation"] and "canary-no-network" not in text


def test_cloud_mismatch_remedy_agrees_with_the_detail(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AZ_SECRET", "canary-cloud")
    code, text = run(
        "validate",
        "--method",
        "client-secret",
        *client_secret_flags(),
        "--endpoint",
        "https://x.azconfig.azure.cn",
        "--json",
    )
    endpoint = next(c for c in json.loads(text)["checks"] if c["name"] == "endpoint")
    assert code == 2 and "cloud to 'china'" in endpoint["detail"] and "cloud to 'china'" in endpoint["remediation"]
