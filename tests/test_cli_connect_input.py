"""`azure-appconfig validate` / `connect`: how each flag's input is read, and the typed usage error (exit 2, the
flag named) for each way it can be wrong, before any request."""

from __future__ import annotations

import codecs
import io
import json
import os
import socket
from pathlib import Path
from typing import Any

import pytest

import certs
from app_connections.cli_flags import MAX_FILE_BYTES as MAX_INPUT_FILE_BYTES
from app_connections.testing import fakes
from builtin import clear_ambient_identity
from cli_helpers import client_secret_flags, run

IDS = ("--tenant-id", fakes.FAKE_TENANT_ID, "--client-id", fakes.FAKE_CLIENT_ID)


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    clear_ambient_identity(monkeypatch)


def test_stdin_without_a_byte_buffer_that_is_not_utf8_names_the_flag(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # a host may replace sys.stdin with a decoding reader that has no .buffer (codecs.StreamReader)
    monkeypatch.setattr("sys.stdin", codecs.getreader("utf-8")(io.BytesIO(b"s\xffcret\n")))
    code, text = run(
        "validate",
        "--method",
        "client-secret",
        "--tenant-id",
        fakes.FAKE_TENANT_ID,
        "--client-id",
        fakes.FAKE_CLIENT_ID,
        "--client-secret-stdin",
    )
    assert (code, text) == (2, "")
    assert "--client-secret-stdin: the first line of stdin is not valid UTF-8 text" in capsys.readouterr().err


@pytest.mark.parametrize(
    "method_flags",
    [
        ("--method", "client-secret", *client_secret_flags()),
        ("--method", "certificate", *IDS, "--certificate-file", "CERT", "--private-key-file", "KEY"),
    ],
    ids=["client-secret", "certificate"],
)
def test_cloud_flag_reaches_the_connection(
    method_flags: tuple[str, ...], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pem, key = tmp_path / "app.pem", tmp_path / "key.pem"
    pem.write_text(certs.cert_pem())
    key.write_text(certs.key_pem())
    monkeypatch.setenv("AZ_SECRET", fakes.FAKE_CLIENT_SECRET)
    flags = [{"CERT": str(pem), "KEY": str(key)}.get(f, f) for f in method_flags]
    # a public-cloud store with a US Government connection: refused offline, the connection's cloud named
    code, text = run("validate", *flags, "--cloud", "usgov", "--endpoint", fakes.FAKE_STORE_ENDPOINT, "--json")
    assert code == 2, text
    endpoint = next(c for c in json.loads(text)["checks"] if c["name"] == "endpoint")
    assert endpoint["status"] == "failed"
    assert "the connection's cloud is Azure US Government; set the connection's cloud to 'public'" in endpoint["detail"]


@pytest.mark.parametrize(
    "flags",
    [
        ("connect", "access-key", "--connection-string-env", "NO_SUCH_VAR_7Q", "--stdout"),
        (
            "connect",
            "certificate",
            *IDS,
            "--certificate-file",
            "CERT",
            "--private-key-file",
            "KEY",
            "--passphrase-env",
            "NO_SUCH_VAR_7Q",
            "--stdout",
        ),
    ],
    ids=["connection-string-env", "passphrase-env"],
)
def test_an_unset_environment_variable_is_named(
    flags: tuple[str, ...], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pem, key = tmp_path / "app.pem", tmp_path / "key.pem"
    pem.write_text(certs.cert_pem())
    key.write_text(certs.key_pem())
    argv = [{"CERT": str(pem), "KEY": str(key)}.get(f, f) for f in flags]
    code, text = run(*argv)
    assert (code, text) == (2, "")
    flag = flags[flags.index("NO_SUCH_VAR_7Q") - 1]
    assert f"{flag}: environment variable NO_SUCH_VAR_7Q is not set" in capsys.readouterr().err


def test_a_certificate_file_over_the_size_cap_is_refused_unread(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    big = tmp_path / "big.pem"
    big.write_bytes(b"A" * (MAX_INPUT_FILE_BYTES + 1))
    code, _ = run("validate", "--method", "certificate", *IDS, "--certificate-file", str(big))
    assert code == 2
    assert f"--certificate-file: {big} is larger than {MAX_INPUT_FILE_BYTES} bytes" in capsys.readouterr().err


def test_an_unreadable_pkcs12_file_names_the_flag(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    missing = tmp_path / "absent.pfx"
    code, _ = run("validate", "--method", "certificate", *IDS, "--pkcs12-file", str(missing))
    assert code == 2
    assert f"--pkcs12-file: cannot read {missing}: No such file or directory" in capsys.readouterr().err


def test_send_certificate_chain_is_kept_in_the_saved_connection(azure_vcr: Any, tmp_path: Path) -> None:
    pem, key = tmp_path / "app.pem", tmp_path / "key.pem"
    pem.write_text(certs.cert_pem())
    key.write_text(certs.key_pem())
    argv = ["connect", "certificate", *IDS, "--certificate-file", str(pem), "--private-key-file", str(key)]
    argv += ["--endpoint", fakes.FAKE_STORE_ENDPOINT]
    with azure_vcr.use_cassette("certificate_store_healthy.yaml", allow_playback_repeats=True):
        code, text = run(*argv, "--send-certificate-chain", "--stdout")
        assert code == 0, text
        assert json.loads(text)["sendCertificateChain"] is True
        code, text = run(*argv, "--stdout")
    assert code == 0 and json.loads(text).get("sendCertificateChain", False) is False


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (None, "cannot read {path}: FileNotFoundError"),
        ("{not json", "cannot read {path}: JSONDecodeError"),
        ('["a", "list"]', "{path} must hold a JSON object"),
    ],
    ids=["missing", "not-json", "not-an-object"],
)
def test_a_bad_input_file_is_a_usage_error(
    content: str | None, problem: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "form.json"
    if content is not None:
        path.write_text(content)
    code, text = run("validate", "--method", "client-secret", "--input", str(path))
    assert (code, text) == (2, "")
    assert f"--input: {problem.format(path=path)}" in capsys.readouterr().err


@pytest.mark.parametrize(
    "command", [["validate"], ["sync", "plan", "--from", "s.env", "--endpoint", "https://x.azconfig.io"]]
)
def test_a_credentials_file_and_method_flags_are_not_both_taken(
    command: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    creds = tmp_path / "conn.json"
    creds.write_text(json.dumps({"method": "client-secret", "tenantId": fakes.FAKE_TENANT_ID}))
    os.chmod(creds, 0o600)
    (tmp_path / "s.env").write_text("A=1\n")
    monkeypatch.chdir(tmp_path)
    code, text = run(*command, "--credentials", str(creds), "--client-secret-env", "NO_SUCH_VAR_7Q")
    assert (code, text) == (2, "")
    err = capsys.readouterr().err
    assert "--client-secret-env: give the connection in --credentials FILE or as flags, not both" in err


def test_validate_warns_about_a_credentials_file_others_can_read(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    creds = tmp_path / "conn.json"
    creds.write_text(json.dumps({"method": "client-secret", "tenantId": fakes.FAKE_TENANT_ID}))
    os.chmod(creds, 0o644)
    code, _ = run("validate", "--credentials", str(creds))
    assert code == 2  # the file misses clientId and clientSecret: bad input, found offline
    assert f"warning: {creds} is readable by other users; run chmod 600 on it" in capsys.readouterr().err
    os.chmod(creds, 0o600)
    run("validate", "--credentials", str(creds))
    assert "readable by other users" not in capsys.readouterr().err


PLUGIN = """
from app_connections.hostspec import hookimpl
from app_connections.records import AuthMethod

APP_CONNECTIONS_CONTRACT = "3.0"

class PinMethod(AuthMethod):  # a hand-written schema, no declared fields
    slug, name = "pin-code", "PIN code"
    def input_schema(self):
        return {"type": "object", "properties": {"pin": {"type": "string", "writeOnly": True}}}
    def parse(self, data):
        raise NotImplementedError
    def token_credential(self, credentials, *, on_rotate=None):
        raise NotImplementedError

@hookimpl
def register_auth_methods(register):
    register.add("azure-app-configuration", PinMethod())
"""


def test_a_plugin_method_declaring_no_fields_says_to_use_input(
    plugin_distributions: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    plugin_distributions(
        "pin-code-plugin",
        entry_points={"app_connections": {"pin": "pin_code_plugin"}},
        modules={"pin_code_plugin.py": PLUGIN},
    )
    code, text = run("validate", "--method", "pin-code")
    assert (code, text) == (2, "")
    assert (
        "--input: pin-code reads its form input from --input FILE (a JSON object; "
        "see `azure-appconfig schema --method pin-code`)"
    ) in capsys.readouterr().err


def test_flags_and_an_input_file_are_not_both_taken(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    form = tmp_path / "form.json"
    form.write_text("{}")
    code, text = run("validate", "--method", "client-secret", "--input", str(form), *IDS)
    assert (code, text) == (2, "")
    assert "--tenant-id: give the form input as flags or in --input FILE, not both" in capsys.readouterr().err


# --- connect oauth: the browser and the callback --------------------------------------------------


def _opened(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    opened: list[str] = []
    monkeypatch.setattr("webbrowser.open", lambda url, *a, **k: opened.append(url) or True)
    return opened


def test_connect_oauth_opens_the_sign_in_url_in_the_browser_unless_told_not_to(
    fake_instance_env: dict[str, str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    opened = _opened(monkeypatch)
    target = str(tmp_path / "oauth.json")
    monkeypatch.setattr("sys.stdin", io.StringIO("\n"))
    code, text = run("connect", "oauth", "--output", target)
    assert code == 2
    url = text.strip()
    assert url.startswith("https://login.microsoftonline.com/organizations/oauth2/v2.0/authorize?")
    assert opened == [url]
    opened.clear()
    monkeypatch.setattr("sys.stdin", io.StringIO("\n"))
    assert run("connect", "oauth", "--no-browser", "--output", target)[0] == 2
    assert opened == []


def test_connect_oauth_with_nothing_pasted_saves_nothing(
    fake_instance_env: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO("   \n"))
    target = tmp_path / "oauth.json"
    code, _ = run("connect", "oauth", "--no-browser", "--output", str(target))
    assert code == 2 and not target.exists()
    assert "callback: no callback URL was pasted" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("stdin", "said"),
    [
        (lambda: io.TextIOWrapper(io.BytesIO(b"  \n")), "callback: no callback URL was pasted"),
        (lambda: io.TextIOWrapper(io.BytesIO(b"https://x/cb?code=c\xff\n")), "not valid UTF-8"),
        (lambda: codecs.getreader("utf-8")(io.BytesIO(b"https://x/cb?code=c\xff\n")), "not valid UTF-8"),
    ],
    ids=["bytes-blank", "bytes-not-utf8", "decoder-not-utf8"],
)
def test_the_pasted_callback_is_read_as_utf8_from_bytes_or_a_decoding_reader(
    fake_instance_env: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    stdin: Any,
    said: str,
) -> None:
    """The callback URL is one line of UTF-8: from the byte buffer of a real stdin, or from a reader
    without one (a host's ``codecs.StreamReader``); anything else is a usage error naming it."""
    monkeypatch.setattr("sys.stdin", stdin())
    target = tmp_path / "oauth.json"
    code, _ = run("connect", "oauth", "--no-browser", "--output", str(target))
    assert code == 2 and not target.exists()
    err = capsys.readouterr().err
    assert said in err and "callback" in err


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def test_connect_oauth_loopback_without_a_callback_times_out(
    fake_instance_env: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("SITE_URL", f"http://127.0.0.1:{_free_port()}")
    target = tmp_path / "oauth.json"
    code, _ = run("connect", "oauth", "--no-browser", "--timeout", "0", "--output", str(target))
    assert code == 2 and not target.exists()
    assert "callback: no sign-in callback arrived within 0 s; run connect again" in capsys.readouterr().err
