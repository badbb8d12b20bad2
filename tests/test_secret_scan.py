"""The cassette secret scan: our cassettes are clean, and every kind of leak is caught."""

from __future__ import annotations

import base64
import json
import subprocess
import sys
from pathlib import Path

import pytest

from app_connections.testing import fakes
from app_connections.testing.secret_scan import main, scan_text

CASSETTES = Path(__file__).parent / "cassettes"


def b64(obj: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(obj).encode()).rstrip(b"=").decode()


SIGNED_JWT = f"{b64({'typ': 'JWT', 'alg': 'RS256', 'kid': 'abc'})}.{b64({'aud': 'x'})}.c2lnbmF0dXJlLWJ5dGVz"


def test_our_cassettes_are_clean() -> None:
    assert list(CASSETTES.glob("*.yaml")), "no cassettes found"
    assert main([str(CASSETTES)]) == 0


def test_the_script_ci_runs(tmp_path: Path) -> None:
    bad = tmp_path / "leak.yaml"
    bad.write_text("body: client_id=x&client_secret=Zq8~realSecretValue123\n")
    ok = subprocess.run(
        [sys.executable, "-m", "app_connections.testing.secret_scan", str(CASSETTES)],
        capture_output=True,
        text=True,
    )
    leak = subprocess.run(
        [sys.executable, "-m", "app_connections.testing.secret_scan", str(bad)], capture_output=True, text=True
    )
    assert ok.returncode == 0 and "0 finding(s)" in ok.stdout
    assert leak.returncode == 1 and "client_secret" in leak.stdout and "realSecretValue123" not in leak.stdout


@pytest.mark.parametrize(
    ("text", "rule", "where"),
    [
        (f'string: \'{{"id_token": "{SIGNED_JWT}"}}\'', "token", "id_token"),
        (f"note: {SIGNED_JWT}", "jwt", "line 1"),
        ("body: client_id=a&client_secret=Zq8~realSecretValue&scope=x", "secret", "client_secret"),
        ("body: grant_type=refresh_token&refresh_token=0.AXoA-real-refresh", "token", "refresh_token"),
        ("body: grant_type=authorization_code&code=0.AXoA-real-code", "authorization-code", "code"),
        ("body: code_verifier=real-verifier-abc", "pkce-verifier", "code_verifier"),
        ('string: \'{"refresh_token": "0.AXoA-real-refresh"}\'', "token", "refresh_token"),
        ('string: \'{"access_token": "opaque-real-token"}\'', "token", "access_token"),
        ('string: \'{"apiKey": "opaque-real-key"}\'', "api-key", "apiKey"),
        ('string: \'{"password": "hunter2hunter2"}\'', "password", "password"),
        ("Endpoint=https://x.azconfig.io;Id=abc;Secret=c2VjcmV0LXZhbHVl", "connection-string", "line 1"),
        ("uri: https://login.microsoftonline.com/72f988bf-86f1-41af-91ab-2d7cd011db47/v2.0", "guid", "line 1"),
        ("url: https://deploy:hunter2@git.example.com/repo", "url-userinfo", "line 1"),
        ("      Authorization:\n      - Bearer abc.def", "authorization", "Authorization"),
        ("      Cookie:\n      - fpc=AsjBzdusnntBo5pk", "cookie", "Cookie"),
        ("      Set-Cookie: [fpc=AsjBzdus]", "cookie", "Set-Cookie"),
        ("      X-Api-Key:\n      - 8d3f0c1e9a7b", "api-key", "X-Api-Key"),
        ("      Ocp-Apim-Subscription-Key: [0a9b8c7d6e5f]", "subscription-key", "Ocp-Apim-Subscription-Key"),
        ("      X-Auth-Token: [opaque-session]", "token", "X-Auth-Token"),
    ],
)
def test_each_kind_of_leak_is_caught(text: str, rule: str, where: str) -> None:
    findings = list(scan_text(text, "leak.txt"))
    assert any(f.rule == rule and where in f.where for f in findings), findings
    assert all(f.path == "leak.txt" for f in findings)


@pytest.mark.parametrize(
    "text",
    [
        f'string: \'{{"id_token": "{fakes.fake_id_token()}"}}\'',
        "body: client_id=a&client_secret=REDACTED&refresh_token=fake-refresh-token-1&code=REDACTED",
        f"uri: https://login.microsoftonline.com/{fakes.FAKE_TENANT_ID}/oauth2/v2.0/token",
        "x-ms-correlation-request-id: 00000000-0000-0000-0000-00000000002a",
        "error_uri: https://login.microsoftonline.com/error?code=7000215",
        "      Authorization:\n      - Sanitized",
    ],
)
def test_known_fakes_pass(text: str) -> None:
    assert list(scan_text(text)) == []


def test_the_script_takes_a_plugins_rules(tmp_path: Path) -> None:
    (tmp_path / "contoso_rules.py").write_text(
        "from app_connections.testing.rules import SecretRules\n"
        "RULES = SecretRules(headers=['X-Contoso-Key'])\n"
        "OTHER = 1\n"
    )
    leak = tmp_path / "leak.yaml"
    leak.write_text(
        "interactions:\n"
        "- request: {uri: 'https://h/x', method: GET, body: null, headers: {X-Contoso-Key: [opaque-1234]}}\n"
        "  response: {status: {code: 200}, headers: {}, body: {string: ''}}\n"
    )
    env = {**__import__("os").environ, "PYTHONPATH": str(tmp_path)}

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "app_connections.testing.secret_scan", *args],
            capture_output=True,
            text=True,
            env=env,
        )

    assert run(str(leak)).returncode == 0  # X-Contoso-Key is not a secret-looking name
    flagged = run("--rules", "contoso_rules:RULES", str(leak))
    assert flagged.returncode == 1
    assert "interaction 0: request header X-Contoso-Key: rule declared header X-Contoso-Key" in flagged.stdout
    assert "opaque-1234" not in flagged.stdout
    for bad in ("contoso_rules:OTHER", "contoso_rules", "no_such_module:RULES"):
        result = run("--rules", bad, str(leak))
        assert result.returncode == 2 and "secret scan:" in result.stderr, bad


def test_a_secret_environment_variable_in_a_cassette_is_flagged_by_the_script(tmp_path: Path) -> None:
    leak = tmp_path / "leak.yaml"
    leak.write_text(
        "interactions:\n- request: {uri: 'https://h/x', method: GET, body: null, headers: {}}\n"
        "  response: {status: {code: 200}, headers: {}, body: {string: 'hello s3cr3t-from-env-0099'}}\n"
    )
    env = {**__import__("os").environ, "DEPLOY_PASSWORD": "s3cr3t-from-env-0099"}
    result = subprocess.run(
        [sys.executable, "-m", "app_connections.testing.secret_scan", str(leak)],
        capture_output=True,
        text=True,
        env=env,
    )
    assert (
        result.returncode == 1
        and "rule env DEPLOY_PASSWORD" in result.stdout
        and "s3cr3t-from-env" not in result.stdout
    )


def test_a_secret_in_a_bytes_form_body_is_found() -> None:
    from app_connections.testing.secret_scan import scan_cassette

    secret = "Zq8~Kx9PqR2sT5vW8yB1dF4gH7jL0nM3pQ6"
    body = f"client_secret={secret}&grant_type=client_credentials".encode()
    request = {"method": "POST", "uri": "https://login.example/t/oauth2/v2.0/token", "headers": {}, "body": body}
    response = {"status": {"code": 200}, "headers": {}, "body": {"string": b""}}
    findings = scan_cassette({"interactions": [{"request": request, "response": response}]})
    assert [str(f) for f in findings] == [
        "<cassette>: interaction 0: request body field client_secret: rule secret: Zq8~Kx\N{HORIZONTAL ELLIPSIS}"
    ]
    assert secret not in "".join(str(f) for f in findings)


def test_a_path_that_does_not_exist_is_a_usage_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    missing = tmp_path / "no-cassettes-here"
    assert main([str(tmp_path), str(missing)]) == 2
    assert capsys.readouterr().err == f"secret scan: no such path: {missing}\n"


def test_a_yaml_key_with_an_underscore_is_checked_when_the_cassette_does_not_parse() -> None:
    text = "interactions:\n- request:\n    client_secret: canary-unparsed-s3cret\n  bad: [unclosed\n"
    findings = list(scan_text(text, "broken.yaml"))
    assert [f.where for f in findings if "client_secret" in f.where], findings


def test_a_secret_field_in_a_cut_off_json_body_is_found() -> None:
    cassette = {
        "interactions": [
            {
                "request": {"uri": "https://login.example/token", "method": "POST", "body": None, "headers": {}},
                "response": {
                    "status": {"code": 200, "message": "OK"},
                    "headers": {"Content-Type": ["application/json"]},
                    "body": {"string": '{"refresh_token": "canary-cut-off-refresh", "expi'},
                },
            }
        ]
    }
    import yaml

    findings = list(scan_text(yaml.safe_dump(cassette), "cut.yaml"))
    assert any("refresh_token" in f.where for f in findings), findings
