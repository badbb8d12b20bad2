"""`azure-appconfig validate --method <slug>` and `connect <slug>` for the certificate,
workload-identity, managed-identity and access-key methods; no secret in any output."""

from __future__ import annotations

import base64
import io
import json
import socket
import stat
import time
from pathlib import Path

import pytest

import certs
from app_connections.testing import fakes
from azure_appconfig_plugin.cli import main
from azure_appconfig_plugin.connection import build_connection_type
from azure_appconfig_plugin.testing import fakes as azure_fakes
from builtin import clear_ambient_identity

PASSPHRASE = "canary-cli-passphrase-Wq2"
ACCESS_SECRET = base64.b64encode(b"canary-cli-access-secret").decode()
CONNECTION_STRING = f"Endpoint={fakes.FAKE_STORE_ENDPOINT};Id=cli-key-id;Secret={ACCESS_SECRET}"
IDS = ("--tenant-id", fakes.FAKE_TENANT_ID, "--client-id", fakes.FAKE_CLIENT_ID)


def run(*argv: str) -> tuple[int, str]:
    out = io.StringIO()
    code = main(list(argv), out=out)
    return code, out.getvalue()


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    clear_ambient_identity(monkeypatch)


@pytest.mark.parametrize("slug", ["certificate", "workload-identity", "managed-identity", "access-key"])
def test_schema_and_connect_help_list_each_method(slug: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, text = run("schema", "--method", slug)
    assert code == 0 and json.loads(text) == build_connection_type().methods[slug].input_schema()
    capsys.readouterr()
    assert main(["connect", slug, "--help"]) == 0 and "--output" in capsys.readouterr().out


# --- certificate ---------------------------------------------------------------------------------


def test_validate_certificate_from_pem_files(azure_vcr, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    pem, key = tmp_path / "app.pem", tmp_path / "key.pem"
    pem.write_text(certs.cert_pem())
    key.write_text(certs.key_pem())
    with azure_vcr.use_cassette("certificate_store_healthy.yaml"):
        code, text = run(
            "validate",
            "--method",
            "certificate",
            *IDS,
            "--certificate-file",
            str(pem),
            "--private-key-file",
            str(key),
            "--endpoint",
            fakes.FAKE_STORE_ENDPOINT,
            "--json",
        )
    assert code == 0, text
    assert json.loads(text)["ok"] is True
    assert "PRIVATE KEY" not in text + capsys.readouterr().err


def test_validate_certificate_with_a_wrong_passphrase_is_bad_input(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    pfx = tmp_path / "app.pfx"
    pfx.write_bytes(base64.b64decode(certs.pkcs12_b64(passphrase=PASSPHRASE)))
    monkeypatch.setenv("PFX_PASS", "not-the-passphrase")
    code, text = run(
        "validate", "--method", "certificate", *IDS, "--pkcs12-file", str(pfx), "--passphrase-env", "PFX_PASS"
    )
    assert code == 2 and "passphrase: does not open the PKCS#12 file: wrong passphrase, or a cipher" in text
    assert "not-the-passphrase" not in text + capsys.readouterr().err


def test_connect_certificate_saves_a_private_file(
    azure_vcr, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    key, cert, target = tmp_path / "key.pem", tmp_path / "cert.pem", tmp_path / "conn.json"
    key.write_text(certs.key_pem(passphrase=PASSPHRASE))
    cert.write_text(certs.cert_pem())
    monkeypatch.setenv("KEY_PASS", PASSPHRASE)
    with azure_vcr.use_cassette("certificate_store_healthy.yaml"):
        code, text = run(
            "connect",
            "certificate",
            *IDS,
            "--certificate-file",
            str(cert),
            "--private-key-file",
            str(key),
            "--passphrase-env",
            "KEY_PASS",
            "--endpoint",
            fakes.FAKE_STORE_ENDPOINT,
            "--output",
            str(target),
        )
    assert code == 0, text
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    stored = json.loads(target.read_text())
    assert stored["method"] == "certificate" and stored["passphrase"] == PASSPHRASE
    assert PASSPHRASE not in text + capsys.readouterr().err


def test_an_unreadable_certificate_file_names_the_flag(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    absent = tmp_path / "absent.pem"
    code, _ = run("validate", "--method", "certificate", *IDS, "--certificate-file", str(absent))
    assert code == 2
    assert f"--certificate-file: cannot read {absent}: No such file or directory" in capsys.readouterr().err


def test_a_pem_file_holding_the_key_is_refused_as_the_certificate(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pem = tmp_path / "app.pem"
    pem.write_text(certs.key_pem() + certs.cert_pem())
    code, text = run("validate", "--method", "certificate", *IDS, "--certificate-file", str(pem))
    assert code == 2 and "certificate: holds a private key (a PEM PRIVATE KEY block)" in text
    assert "PRIVATE KEY-----" not in text + capsys.readouterr().err


def test_a_bad_value_given_by_a_flag_is_named_by_that_flag(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CLI_TEST_SECRET", "canary-flag-secret-Jw2")
    out = tmp_path / "conn.json"
    form = ("--tenant-id", "not a tenant", "--client-id", "nope", "--client-secret-env", "CLI_TEST_SECRET")
    code, _ = run("connect", "client-secret", *form, "--output", str(out))
    err = capsys.readouterr().err
    assert code == 2 and not out.exists()
    assert "--tenant-id: must be a tenant GUID" in err and "--client-id: " in err and "tenantId" not in err
    assert "canary-flag-secret-Jw2" not in err
    form_file = tmp_path / "form.json"
    form_file.write_text(json.dumps({"tenantId": "not a tenant", "clientId": "nope", "clientSecret": "x"}))
    code, _ = run("connect", "client-secret", "--input", str(form_file), "--output", str(out))
    assert code == 2 and "tenantId: must be a tenant GUID" in capsys.readouterr().err  # the file's own names


# --- workload identity ---------------------------------------------------------------------------


def test_validate_workload_identity_from_the_aks_environment(
    azure_vcr, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    token = tmp_path / "azure-identity-token"
    token.write_text(fakes.fake_jwt({"exp": int(time.time()) + 3600, "sub": "system:serviceaccount:default:sa"}))
    monkeypatch.setenv("AZURE_TENANT_ID", fakes.FAKE_TENANT_ID)
    monkeypatch.setenv("AZURE_CLIENT_ID", fakes.FAKE_CLIENT_ID)
    monkeypatch.setenv("AZURE_FEDERATED_TOKEN_FILE", str(token))
    with azure_vcr.use_cassette("workload_identity_store_healthy.yaml"):
        code, text = run("validate", "--method", "workload-identity", "--endpoint", fakes.FAKE_STORE_ENDPOINT)
    assert code == 0, text
    assert "token issued for https://azconfig.io by login.microsoftonline.com" in text


def test_validate_workload_identity_without_a_token_file_says_so(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, text = run("validate", "--method", "workload-identity", *IDS, "--token-file-path", str(tmp_path / "absent"))
    assert code == 1 and "cannot be used" in text and "AKS" in text
    assert "ENOENT" in capsys.readouterr().err  # the reason a multi-user host logs: the operator reads it


# --- managed identity ----------------------------------------------------------------------------


def test_validate_managed_identity_off_azure_says_so(monkeypatch: pytest.MonkeyPatch) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    monkeypatch.setenv("AZURE_POD_IDENTITY_AUTHORITY_HOST", f"http://127.0.0.1:{port}")
    code, text = run("validate", "--method", "managed-identity", "--endpoint", fakes.FAKE_STORE_ENDPOINT)
    assert code == 1 and "not running on an Azure host with a managed identity" in text


def test_managed_identity_flags_must_name_one_identity() -> None:
    code, _ = run(
        "validate",
        "--method",
        "managed-identity",
        "--client-id",
        fakes.FAKE_CLIENT_ID,
        "--object-id",
        fakes.FAKE_OBJECT_ID,
    )
    assert code == 2


# --- access key ------------------------------------------------------------------------------------


def test_validate_access_key_from_an_environment_variable(
    azure_vcr, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("APPCONFIG_CONNECTION_STRING", CONNECTION_STRING)
    with azure_vcr.use_cassette("access_key_store_healthy.yaml"):
        code, text = run("validate", "--method", "access-key", "--connection-string-env", "APPCONFIG_CONNECTION_STRING")
    assert code == 0, text
    assert ACCESS_SECRET not in text + capsys.readouterr().err


def test_validate_read_only_access_key_fails_write_and_delete(azure_vcr, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("APPCONFIG_SECRET", ACCESS_SECRET)
    with azure_vcr.use_cassette("access_key_read_only.yaml"):
        code, text = run(
            "validate",
            "--method",
            "access-key",
            "--endpoint",
            fakes.FAKE_STORE_ENDPOINT,
            "--id",
            "cli-key-id",
            "--secret-env",
            "APPCONFIG_SECRET",
        )
    assert code == 1 and "read-only key" in text and ACCESS_SECRET not in text


def test_validate_access_key_needs_the_connection_string() -> None:
    code, _ = run("validate", "--method", "access-key")
    assert code == 2


def test_connect_access_key_from_stdin(
    azure_vcr, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO(CONNECTION_STRING + "\n"))
    target = tmp_path / "conn.json"
    with azure_vcr.use_cassette("access_key_store_healthy.yaml"):
        code, text = run("connect", "access-key", "--connection-string-stdin", "--output", str(target))
    assert code == 0, text
    assert json.loads(target.read_text()) == {
        "method": "access-key",
        "endpoint": fakes.FAKE_STORE_ENDPOINT,
        "id": "cli-key-id",
        "secret": ACCESS_SECRET,
        "cloud": "public",
    }
    assert ACCESS_SECRET not in text + capsys.readouterr().err
    with azure_vcr.use_cassette("access_key_store_healthy.yaml"):
        code, text = run("validate", "--credentials", str(target), "--method", "access-key")
    assert code == 0, text


@pytest.mark.parametrize("method", ["managed-identity", "access-key"])
def test_a_tenant_is_refused_where_it_means_nothing(method: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, _ = run("validate", "--method", method, "--tenant-id", fakes.FAKE_TENANT_ID)
    assert code == 2 and "--tenant-id: is not used by" in capsys.readouterr().err


# --- doctor: which methods need the instance settings (derived from each setting's required_by) ----


def test_doctor_names_the_methods_that_need_the_instance_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    from azure_appconfig_plugin.connection import build_connection_type
    from azure_appconfig_plugin.methods.settings_needs import settings_needs

    ctype = build_connection_type()
    need, free = settings_needs(ctype)
    assert need == ["oauth"] and set(free) == set(ctype.methods) - {"oauth"}
    for key in azure_fakes.fake_instance_env():
        monkeypatch.delenv(key, raising=False)
    _, text = run("doctor")
    assert "instance setup (oauth method)" in text
    last = text.strip().splitlines()[-1]
    assert last.startswith("Only the oauth method needs these settings;")
    assert all(slug in last for slug in free) and last.endswith("need none of them.")


def test_the_doctor_sentence_follows_the_settings_data() -> None:
    from app_connections.records import ConnectionType, InstanceSetting
    from azure_appconfig_plugin.connection import build_connection_type
    from azure_appconfig_plugin.methods.settings_needs import settings_needs_text

    ctype = build_connection_type()
    extra = InstanceSetting(
        "EXAMPLE_CERT_STORE", "Certificate store", "where certificates live", required_by=("certificate",)
    )
    changed = ConnectionType(ctype.slug, ctype.name, methods=ctype.methods, settings=(*ctype.settings, extra))
    text = settings_needs_text(changed)
    assert text.startswith("Only the oauth and certificate methods need these settings; ")
    assert "client-secret, workload-identity, managed-identity and access-key need none of them." in text
    none = ConnectionType(ctype.slug, ctype.name, methods=ctype.methods, settings=())
    assert settings_needs_text(none) == "No Azure App Configuration auth method needs these settings."


# --- import-light registration: each method module declares its fields, nothing heavy ---------------


def test_registration_declares_fields_without_heavy_imports() -> None:
    import subprocess
    import sys
    import textwrap

    code = textwrap.dedent("""
        import sys, pluggy
        from importlib.metadata import entry_points
        spec = pluggy.HookspecMarker("app_connections")
        class Spec:
            @spec
            def register_connection_types(self, register): pass
        pm = pluggy.PluginManager("app_connections"); pm.add_hookspecs(Spec)
        for ep in entry_points(group="app_connections"):
            pm.register(ep.load(), name=ep.name)
        from types import SimpleNamespace
        found = []
        pm.hook.register_connection_types(register=SimpleNamespace(add=found.append))
        heavy = ("attr", "attrs", "msal", "azure", "requests", "aiohttp", "cryptography")
        def loaded():
            return sorted(m for m in sys.modules if m.split(".")[0] in heavy or m.endswith("_fields")
                          or m in ("app_connections.fields", "azure_appconfig_plugin.methods.common"))
        print(",".join(loaded()))
        for method in found[0].methods.values():
            method.input_schema()
            method.stored_schema()
        print(",".join(loaded()))
    """)
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    at_registration, after_schemas = result.stdout.splitlines()
    assert at_registration == after_schemas == "app_connections.fields,azure_appconfig_plugin.methods.common"
