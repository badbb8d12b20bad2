"""CLI input, redaction, the loopback callback and an empty endpoint."""

from __future__ import annotations

import io
import json
import socket
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from app_connections.testing import fakes
from azure_appconfig_plugin.cli import main
from azure_appconfig_plugin.endpoints import parse_endpoint
from azure_appconfig_plugin.errors import AppConnectionError, InvalidInput
from azure_appconfig_plugin.loopback import CallbackServer
from azure_appconfig_plugin.testing import fakes as azure_fakes

from .conftest import CANARY_SECRET
from .standins import IdentityPlatform

SECRET_KEY = "canary-store-key-Zq9"
IDS = ["--tenant-id", fakes.FAKE_TENANT_ID, "--client-id", fakes.FAKE_CLIENT_ID]


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(argv, out=out, err=err)
    captured = capsys.readouterr()
    return code, out.getvalue() + err.getvalue() + captured.out + captured.err


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# --- finding 5: CLI input that is not what it should be --------------------------------------------


def test_a_secret_env_var_that_is_not_utf8_is_bad_input(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("BAD_SECRET", "canary\udcff\udcfe")  # the bytes b"canary\xff\xfe", as Python sees them
    code, text = run(["validate", "--method", "client-secret", *IDS, "--client-secret-env", "BAD_SECRET"], capsys)
    assert code == 2 and "not valid UTF-8" in text and "Traceback" not in text


def test_a_secret_on_stdin_that_is_not_utf8_is_bad_input(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(b"canary\xff\xfe\n"), encoding="utf-8"))
    code, text = run(["validate", "--method", "client-secret", *IDS, "--client-secret-stdin"], capsys)
    assert code == 2 and "not valid UTF-8" in text


@pytest.mark.parametrize(
    "content, said",
    [
        (b'{"method": "oauth", "refreshToken": "\xff\xfe"}', "not valid UTF-8"),
        (b"[" * 200_000 + b"]" * 200_000, "too deeply"),
    ],
    ids=["not-utf8", "deep-json"],
)
def test_a_credentials_file_that_is_not_utf8_json_is_bad_input(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: bytes, said: str
) -> None:
    path = tmp_path / "creds.json"
    path.write_bytes(content)
    path.chmod(0o600)
    code, text = run(["validate", "--method", "oauth", "--credentials", str(path)], capsys)
    assert code == 2 and said in text


@pytest.mark.parametrize("where", ["missing-dir", "a-directory"])
def test_connect_output_that_cannot_be_written_fails_before_anything_runs(
    identity: IdentityPlatform,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    where: str,
) -> None:
    monkeypatch.setenv("CS", CANARY_SECRET)
    target = tmp_path / "nope" / "creds.json" if where == "missing-dir" else tmp_path
    code, text = run(["connect", "client-secret", *IDS, "--client-secret-env", "CS", "--output", str(target)], capsys)
    assert code == 2 and "--output" in text and "Traceback" not in text
    assert identity.token_requests == []  # refused before validation: nothing half-done
    assert sorted(p.name for p in tmp_path.iterdir()) == []


def test_connect_output_is_written_when_it_can_be(
    identity: IdentityPlatform, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("CS", CANARY_SECRET)
    target = tmp_path / "creds.json"
    code, _ = run(["connect", "client-secret", *IDS, "--client-secret-env", "CS", "--output", str(target)], capsys)
    assert code == 0 and json.loads(target.read_text())["clientSecret"] == CANARY_SECRET


# --- finding 6: rejected values that may hold secrets are redacted ------------------------------------


@pytest.mark.parametrize(
    "endpoint",
    [
        f"https://user:{SECRET_KEY}@contoso.azconfig.io",
        f"Endpoint=https://contoso.azconfig.io;Id=abcd;Secret={SECRET_KEY}",
        f"https://contoso.azconfig.io/?sv=2024&sig={SECRET_KEY}",
        f"https://contoso.azconfig.io?sig={SECRET_KEY}",
    ],
    ids=["userinfo", "connection-string", "sas-path", "sas"],
)
def test_rejected_endpoints_are_shown_redacted(
    endpoint: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(AppConnectionError) as caught:
        parse_endpoint(endpoint)
    assert SECRET_KEY not in str(caught.value) and SECRET_KEY not in json.dumps(caught.value.to_dict())
    monkeypatch.setenv("CS", CANARY_SECRET)
    for extra in ([], ["--json"]):
        code, text = run(
            [
                "validate",
                "--method",
                "client-secret",
                *IDS,
                "--client-secret-env",
                "CS",
                "--endpoint",
                endpoint,
                *extra,
            ],
            capsys,
        )
        assert code == 2
        assert SECRET_KEY not in text and CANARY_SECRET not in text
        assert "***" in text or "not shown" in text


# --- finding 10: an empty endpoint is bad input --------------------------------------------------------


def test_an_empty_endpoint_is_bad_input(
    identity: IdentityPlatform, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("CS", CANARY_SECRET)
    code, text = run(
        ["validate", "--method", "client-secret", *IDS, "--client-secret-env", "CS", "--endpoint", ""], capsys
    )
    assert code == 2 and "empty" in text
    assert identity.token_requests == []


# --- finding 9: the loopback callback ----------------------------------------------------------------


def _get(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=5) as resp:
            return resp.status, resp.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def test_a_wrong_state_gets_an_error_page_and_the_wait_goes_on() -> None:
    port = free_port()
    base = f"http://127.0.0.1:{port}/organization/app-connections/azure/oauth/callback"
    with CallbackServer("127.0.0.1", port, state="the-real-state") as server:
        status, page = _get(f"{base}?code=evil&state=forged")
        assert status == 400 and b"still waiting" in page
        status, _ = _get(f"{base}?code=evil")
        assert status == 400
        assert server.wait(0.2) is None  # still waiting
        status, page = _get(f"{base}?code=real&state=the-real-state")
        assert status == 200 and b"You can close this window" in page
        params = server.wait(1)
    assert params is not None and params["code"] == ["real"] and server.refused == 2


def test_connect_oauth_survives_a_wrong_state_request(
    identity: IdentityPlatform, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    port = free_port()
    env = azure_fakes.fake_instance_env(f"http://127.0.0.1:{port}")
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    target = tmp_path / "oauth.json"
    out = io.StringIO()
    result: dict[str, Any] = {}
    argv = [
        "connect",
        "oauth",
        "--tenant-id",
        fakes.FAKE_TENANT_ID,
        "--no-browser",
        "--timeout",
        "20",
        "--output",
        str(target),
    ]
    worker = threading.Thread(target=lambda: result.setdefault("code", main(argv, out=out, err=io.StringIO())))
    worker.start()
    deadline = time.time() + 10
    while "state=" not in out.getvalue() and time.time() < deadline:
        time.sleep(0.01)
    q = parse_qs(urlsplit(out.getvalue().strip().splitlines()[0]).query)
    identity.pending_nonce = q["nonce"][0]
    callback = q["redirect_uri"][0]
    assert _get(f"{callback}?code=evil&state=forged")[0] == 400
    assert _get(f"{callback}?code=real&state={q['state'][0]}")[0] == 200
    worker.join(20)
    assert result.get("code") == 0, capsys.readouterr()
    assert json.loads(target.read_text())["tenantId"] == fakes.FAKE_TENANT_ID


def test_a_taken_loopback_port_is_a_clear_error(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        for k, v in azure_fakes.fake_instance_env(f"http://127.0.0.1:{port}").items():
            monkeypatch.setenv(k, v)
        code, text = run(
            ["connect", "oauth", "--no-browser", "--timeout", "1", "--output", str(tmp_path / "o.json")], capsys
        )
    assert code == 2 and "already in use" in text and "Traceback" not in text


def test_loopback_port_in_use_raises_invalid_input() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        with pytest.raises(InvalidInput):
            CallbackServer("127.0.0.1", taken.getsockname()[1])


def test_a_request_to_another_path_is_404_and_the_wait_goes_on() -> None:
    port = free_port()
    root = f"http://127.0.0.1:{port}"
    with CallbackServer("127.0.0.1", port, state="the-real-state") as server:
        status, _ = _get(f"{root}/favicon.ico")
        assert status == 404
        status, _ = _get(f"{root}/organization/app-connections/azure/oauth/callback/extra?code=x&state=the-real-state")
        assert status == 404
        assert server.wait(0.2) is None and server.refused == 0
