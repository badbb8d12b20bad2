"""The auth methods' docs pages (docs/methods/): their field tables are the declarations', and their
command lines run; so do the operators' connect-and-validate path (README and its getting-started
page) and the host guide's client snippet."""

from __future__ import annotations

import base64
import contextlib
import io
import json
import shlex
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import certs
from app_connections.field_tables import docs_table
from app_connections.testing import fakes
from azure_appconfig_plugin.cli import main
from azure_appconfig_plugin.connection import build_connection_type
from builtin import clear_ambient_identity
from docs_pages import blocks, page, readme, section

METHODS = ("client-secret", "certificate", "workload-identity", "managed-identity", "access-key")
MI_CLIENT_ID = "66666666-6666-6666-6666-666666666666"
ACCESS_SECRET = base64.b64encode(b"canary-readme-access-key").decode()
CONNECTION_STRING = f"Endpoint={fakes.FAKE_STORE_ENDPOINT};Id=readme-id;Secret={ACCESS_SECRET}"
PLACEHOLDERS = {
    "<tenant>": fakes.FAKE_TENANT_ID,
    "<client>": fakes.FAKE_CLIENT_ID,
    "<identity client ID>": MI_CLIENT_ID,
    "https://mystore.azconfig.io": fakes.FAKE_STORE_ENDPOINT,
    "'<connection string>'": f"'{CONNECTION_STRING}'",
    "'<client secret Value>'": f"'{fakes.FAKE_CLIENT_SECRET}'",
}


def cli_section(slug: str) -> str:
    return section(page(f"methods/{slug}.md"), "## CLI")


@pytest.mark.parametrize("slug", METHODS)
def test_the_field_table_is_the_declaration(slug: str) -> None:
    table = docs_table(build_connection_type().methods[slug].input_fields)
    assert table in page(f"methods/{slug}.md")


def run_shell(block: str, monkeypatch: pytest.MonkeyPatch) -> list[tuple[int, str]]:
    """Run the block's lines (``export`` and ``azure-appconfig``) in-process, placeholders filled in."""
    for placeholder, value in PLACEHOLDERS.items():
        block = block.replace(placeholder, value)
    results = []
    for line in block.replace("\\\n", " ").splitlines():
        words = shlex.split(line)
        if words[0] == "export":
            name, value = words[1].split("=", 1)
            monkeypatch.setenv(name, value)
        else:
            assert words[0] == "azure-appconfig", line
            out = io.StringIO()
            results.append((main(words[1:], out=out), out.getvalue()))
    return results


def _certificate(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    (tmp_path / "cert.pem").write_text(certs.cert_pem())
    (tmp_path / "key.pem").write_text(certs.key_pem())
    return {"path": "certificate_store_healthy.yaml"}


def _workload_identity(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    token = tmp_path / "azure-identity-token"
    token.write_text(fakes.fake_jwt({"exp": int(time.time()) + 3600}))
    for name, value in (
        ("AZURE_TENANT_ID", fakes.FAKE_TENANT_ID),
        ("AZURE_CLIENT_ID", fakes.FAKE_CLIENT_ID),
        ("AZURE_FEDERATED_TOKEN_FILE", str(token)),
    ):
        monkeypatch.setenv(name, value)
    return {"path": "workload_identity_store_healthy.yaml"}


def _managed_identity(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    from standins.identity import IdentityEndpoint

    stand_in = IdentityEndpoint()  # an App Service identity endpoint on loopback
    monkeypatch.setenv("IDENTITY_ENDPOINT", stand_in.url + "/msi/token")
    monkeypatch.setenv("IDENTITY_HEADER", "canary-readme-header")
    stand_in.body = {
        "access_token": fakes.FAKE_ACCESS_TOKEN,
        "expires_on": str(int(time.time()) + 3600),
        "resource": "https://azconfig.io",
        "token_type": "Bearer",
    }
    return {"path": "access_key_store_healthy.yaml", "ignore_localhost": True, "close": stand_in.close}


def _access_key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    return {"path": "access_key_store_healthy.yaml"}


def _client_secret(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    # validate, then connect (which validates again): one token and probe sequence, replayed twice
    return {"path": "store_healthy.yaml", "allow_playback_repeats": True}


SETUP: dict[str, Callable[[Path, pytest.MonkeyPatch], dict[str, Any]]] = {
    "client-secret": _client_secret,
    "certificate": _certificate,
    "workload-identity": _workload_identity,
    "managed-identity": _managed_identity,
    "access-key": _access_key,
}


@pytest.mark.parametrize("slug", METHODS)
def test_the_cli_block_runs(slug: str, azure_vcr, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    clear_ambient_identity(monkeypatch)
    monkeypatch.chdir(tmp_path)
    setup = SETUP[slug](tmp_path, monkeypatch)
    close = setup.pop("close", None)
    (block,) = blocks(cli_section(slug), "sh")
    try:
        with azure_vcr.use_cassette(**setup) as cassette:
            results = run_shell(block, monkeypatch)
    finally:
        if close:
            close()
    assert results and [code for code, _ in results] == [0] * len(results), results
    assert cassette.all_played and all("works." in out for _, out in results)
    printed = "".join(out for _, out in results)
    assert ACCESS_SECRET not in printed and "PRIVATE KEY" not in printed and fakes.FAKE_CLIENT_SECRET not in printed


def test_the_client_snippet_runs() -> None:
    (snippet,) = blocks(section(page("hosts.md"), "## A client for any method"), "python")
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(snippet, "client snippet", "exec"), {"connection_string": CONNECTION_STRING})
    assert out.getvalue().startswith("AzureAppConfigurationClient AccessKeyCredentials(")
    assert ACCESS_SECRET not in out.getvalue()


def _operators_block() -> str:
    text = readme()
    (block,) = blocks(text[text.index("## For operators") :].split("\n## ", 1)[0], "sh")
    return block


def test_the_operators_path_is_the_getting_started_page(tmp_path: Path) -> None:
    assert blocks(section(page("getting-started/operators.md"), "## 3. Connect and validate"), "sh") == [
        _operators_block()
    ]


def test_the_operators_path_connects_and_validates(azure_vcr, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """connect saves credentials (mode 0600) after validating; validate --credentials reads them back."""
    clear_ambient_identity(monkeypatch)
    monkeypatch.chdir(tmp_path)
    with azure_vcr.use_cassette("store_healthy.yaml", allow_playback_repeats=True):
        results = run_shell(_operators_block(), monkeypatch)
    assert [code for code, _ in results] == [0, 0], results
    saved = tmp_path / "conn.json"
    assert saved.stat().st_mode & 0o777 == 0o600
    assert json.loads(saved.read_text())["method"] == "client-secret"
    assert all("works." in out and fakes.FAKE_CLIENT_SECRET not in out for _, out in results)
