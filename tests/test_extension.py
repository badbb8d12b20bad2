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

from azure_appconfig_plugin.cli import main
from azure_appconfig_plugin.loader import load_plugins
from azure_appconfig_plugin.testing import fakes

from builtin import BUILTIN_METHODS

tomllib = pytest.importorskip("tomllib")

EXAMPLE = Path(__file__).parent / "example_extension"


@pytest.fixture
def example_installed(plugin_distributions: Any) -> Path:
    meta = tomllib.loads((EXAMPLE / "pyproject.toml").read_text())["project"]
    return plugin_distributions(
        meta["name"],
        entry_points={"app_connections": meta["entry-points"]["app_connections"]},
        modules_src={"appconfig_policy_example.py": (EXAMPLE / "appconfig_policy_example.py").read_text()},
    )


def test_extension_adds_an_auth_method_to_our_type(example_installed: Path) -> None:
    registry = load_plugins(env={})
    assert not registry.failures
    ct = registry.get("azure-app-configuration")
    assert list(ct.methods) == [*BUILTIN_METHODS, "static-token"]
    creds = ct.parse("static-token", {"accessToken": "fake-access-token", "expiresOn": int(time.time()) + 600})
    assert ct.token_credential(creds).get_token("https://azconfig.io/.default").token == "fake-access-token"


def test_extension_method_validates_through_our_validator(example_installed: Path, no_store_calls: None) -> None:
    registry = load_plugins(env={})
    report = registry.validate("azure-app-configuration", "static-token",
                               {"accessToken": "fake-access-token", "expiresOn": int(time.time()) + 600},
                               endpoint="https://other-store.azconfig.io/")
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
    result = subprocess.run([sys.executable, "-m", "azure_appconfig_plugin.cli", "types", "--json"],
                            capture_output=True, text=True, env=env, check=True)
    data = json.loads(result.stdout)
    ours = next(t for t in data["types"] if t["slug"] == "azure-app-configuration")
    assert [m["slug"] for m in ours["methods"]] == [*BUILTIN_METHODS, "static-token"]
    assert data["failures"] == []


def test_cli_validate_shows_the_policy_check(example_installed: Path, azure_vcr: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AZ_SECRET", "fake-client-secret")
    out = io.StringIO()
    with azure_vcr.use_cassette("store_healthy.yaml"):
        code = main(["validate", "--method", "client-secret", "--tenant-id", fakes.FAKE_TENANT_ID, "--client-id",
                     fakes.FAKE_CLIENT_ID, "--client-secret-env", "AZ_SECRET", "--endpoint", fakes.FAKE_STORE_ENDPOINT, "--json"], out=out)
    data = json.loads(out.getvalue())
    policy = next(c for c in data["checks"] if c["name"] == "policy: store naming")
    assert code == 0 and data["ok"] and policy["status"] == "ok"
