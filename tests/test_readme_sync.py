"""The "Secret sync" docs page (docs/sync.md): every code block runs here, and its field table is derived;
so does the sync benchmark's command (benchmarks/RESULTS.md)."""

from __future__ import annotations

import contextlib
import io
import json
import os
import re
import shlex
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from app_connections import policy as policies
from app_connections.policy import HostPolicy
from app_connections.testing import fakes
from azure_appconfig_plugin import cli
from azure_appconfig_plugin.credentials_file import write_credentials
from azure_appconfig_plugin.methods.client_secret import ClientSecretCredentials
from azure_appconfig_plugin.sync.config import fields_table
from docs_pages import ROOT, page, results, section
from standins.appconfig import StandIn

pytest_plugins = ["standins.fixtures"]  # the stand-in fixtures (standin, fake_token, sync_options)

SECTION = page("sync.md")
README_ENDPOINT = "https://mystore.azconfig.io"
ALLOW = "INF_APP_CONNECTION_AZURE_APP_CONFIGURATION_ALLOWED_HOSTS"


def blocks(kind: str, text: str = SECTION) -> list[str]:
    return re.findall(rf"```{kind}\n(.*?)\n```", text, re.S)


@pytest.fixture
def store_env(standin: StandIn, monkeypatch: pytest.MonkeyPatch) -> Iterator[StandIn]:
    """The stand-in store allow-listed in the environment, and a host policy in effect that reads it."""
    monkeypatch.setenv(ALLOW, standin.allow_list)
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", standin.ca_path)
    with policies.use(HostPolicy.library(env=os.environ)):
        yield standin


def test_the_field_table_is_derived_from_the_declaration() -> None:
    assert fields_table() in SECTION


def test_host_snippet_runs(azure_vcr: Any, store_env: StandIn) -> None:
    (snippet,) = blocks("python")
    code = snippet.replace(README_ENDPOINT, store_env.endpoint)
    connection = ClientSecretCredentials(fakes.FAKE_TENANT_ID, fakes.FAKE_CLIENT_ID, fakes.FAKE_CLIENT_SECRET).to_dict()
    out = io.StringIO()
    with azure_vcr.use_cassette("client_secret_token.yaml", ignore_localhost=True), contextlib.redirect_stdout(out):
        exec(compile(code, "README sync snippet", "exec"), {"connection": connection})
    lines = out.getvalue().splitlines()
    assert lines[0].startswith("True {'created': 2,") and lines[0].endswith(" 3")
    assert lines[1:3] == ["myapp/DB_PASSWORD prod create applied", "myapp/DB_URL prod create applied"]
    assert lines[3] == "['DB_PASSWORD', 'DB_URL'] ['DB_URL']"
    assert set(store_env.store.snapshot()) == {("myapp/DB_PASSWORD", "prod")}  # remove() deleted DB_URL only
    assert "s3cret" not in out.getvalue()


def _commands(block: str) -> list[str]:
    return [line for line in block.replace("\\\n", " ").splitlines() if line.strip()]


def test_cli_commands_run(azure_vcr: Any, store_env: StandIn, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (block,) = blocks("sh")
    (tmp_path / "secrets.env").write_text("DB_PASSWORD=s3cret\nAPI_KEY=k\n")
    write_credentials(
        tmp_path / "conn.json",
        ClientSecretCredentials(fakes.FAKE_TENANT_ID, fakes.FAKE_CLIENT_ID, fakes.FAKE_CLIENT_SECRET).to_dict(),
    )
    monkeypatch.chdir(tmp_path)
    codes = []
    with azure_vcr.use_cassette("client_secret_token.yaml", ignore_localhost=True):
        for line in _commands(block):
            words = shlex.split(
                line.replace("<tenant>", fakes.FAKE_TENANT_ID)
                .replace("<client>", fakes.FAKE_CLIENT_ID)
                .replace(README_ENDPOINT, store_env.endpoint)
            )
            if words[0] == "export":
                name, _, _ = words[1].partition("=")
                monkeypatch.setenv(name, fakes.FAKE_CLIENT_SECRET)
                continue
            assert words[0] == "azure-appconfig"
            out = io.StringIO()
            codes.append(cli.main(words[1:], out=out))
            if "--json" in words:
                assert json.loads(out.getvalue())["counts"]["created"] == 2
    assert codes == [0, 0, 0]
    assert (tmp_path / "imported.env").read_text() == 'API_KEY="k"\nDB_PASSWORD="s3cret"\n'  # listed in key order


@pytest.mark.slow
def test_benchmark_command_runs() -> None:
    (bench,) = blocks("sh", section(results(), "## Secret sync"))
    words = shlex.split(bench)
    assert words[:2] == [".venv/bin/python", "benchmarks/sync.py"]
    result = subprocess.run(
        [sys.executable, *words[1:], "--secrets", "30", "--latency-ms", "0", "--skip-baseline"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode in (0, 1), result.stderr  # 1: the speed-up goal needs the baseline, skipped here
    assert "| (d) 429 on 10% of writes |" in result.stdout and "all 30 applied, 0 failed" in result.stdout
