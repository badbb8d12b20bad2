"""The README's sections on the certificate, workload-identity, managed-identity and access-key
methods: their field tables are the declarations', and their code blocks run."""

from __future__ import annotations

import base64
import contextlib
import io
import re
import shlex
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import certs
from app_connections.fields import docs_table
from app_connections.testing import fakes
from azure_appconfig_plugin.cli import main
from azure_appconfig_plugin.connection import build_connection_type
from builtin import clear_ambient_identity

README = (Path(__file__).resolve().parents[1] / "README.md").read_text()
SECTIONS = {
    "certificate": "### Certificate (a service principal with a certificate)",
    "workload-identity": "### Workload identity federation (AKS and other OIDC issuers)",
    "managed-identity": "### Managed identity (code running on Azure)",
    "access-key": "### Access key (connection string)",
}
MI_CLIENT_ID = "66666666-6666-6666-6666-666666666666"
ACCESS_SECRET = base64.b64encode(b"canary-readme-access-key").decode()
CONNECTION_STRING = f"Endpoint={fakes.FAKE_STORE_ENDPOINT};Id=readme-id;Secret={ACCESS_SECRET}"
PLACEHOLDERS = {
    "<tenant>": fakes.FAKE_TENANT_ID,
    "<client>": fakes.FAKE_CLIENT_ID,
    "<identity client ID>": MI_CLIENT_ID,
    "https://mystore.azconfig.io": fakes.FAKE_STORE_ENDPOINT,
    "'<connection string>'": f"'{CONNECTION_STRING}'",
}


def section(slug: str) -> str:
    return README.split(SECTIONS[slug], 1)[1].split("\n### ", 1)[0]


def blocks(text: str, lang: str) -> list[str]:
    return re.findall(rf"```{lang}\n(.*?)\n```", text, re.S)


@pytest.mark.parametrize("slug", list(SECTIONS))
def test_the_field_table_is_the_declaration(slug: str) -> None:
    table = docs_table(build_connection_type().methods[slug].input_fields)
    assert table in section(slug)


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
    (tmp_path / "app.pem").write_text(certs.key_pem() + certs.cert_pem())
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


SETUP: dict[str, Callable[[Path, pytest.MonkeyPatch], dict[str, Any]]] = {
    "certificate": _certificate,
    "workload-identity": _workload_identity,
    "managed-identity": _managed_identity,
    "access-key": _access_key,
}


@pytest.mark.parametrize("slug", list(SECTIONS))
def test_the_validate_block_runs(slug: str, azure_vcr, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    clear_ambient_identity(monkeypatch)
    monkeypatch.chdir(tmp_path)
    setup = SETUP[slug](tmp_path, monkeypatch)
    close = setup.pop("close", None)
    (block,) = blocks(section(slug), "sh")
    try:
        with azure_vcr.use_cassette(**setup) as cassette:
            results = run_shell(block, monkeypatch)
    finally:
        if close:
            close()
    assert [code for code, _ in results] == [0], results
    assert cassette.all_played and "works." in results[0][1]
    assert ACCESS_SECRET not in results[0][1] and "PRIVATE KEY" not in results[0][1]


def test_the_client_snippet_runs() -> None:
    text = README.split("### A client for any method (`ConnectionType.client`)", 1)[1].split("\n## ", 1)[0]
    (snippet,) = blocks(text, "python")
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(snippet, "README client snippet", "exec"), {"connection_string": CONNECTION_STRING})
    assert out.getvalue().startswith("AzureAppConfigurationClient AccessKeyCredentials(")
    assert ACCESS_SECRET not in out.getvalue()
