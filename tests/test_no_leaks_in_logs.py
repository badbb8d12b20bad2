"""Secrets, codes and tokens never reach logs, even at DEBUG (ours, MSAL's or azure-core's)."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pytest

from app_connections.flow_store import InMemoryFlowStore
from app_connections.testing import fakes
from azure_appconfig_plugin.connection import build_connection_type
from azure_appconfig_plugin.errors import AppConnectionError
from azure_appconfig_plugin.methods.client_secret import ClientSecretCredentials
from azure_appconfig_plugin.methods.oauth import OAuthCredentials
from azure_appconfig_plugin.settings import InstanceSettings
from azure_appconfig_plugin.testing import fakes as azure_fakes

SECRET = "canary-log-secret-Xy7"
CODE = "canary-log-code-Qp2"
INSTANCE_SECRET = "canary-log-instance-secret-Lm4"


def logged(caplog: pytest.LogCaptureFixture) -> str:
    """Everything logged except vcrpy's own replay chatter (it echoes the cassette, which holds only fakes)."""
    return "\n".join(f"{r.name}: {r.getMessage()}" for r in caplog.records if not r.name.startswith("vcr"))


@pytest.mark.parametrize("cassette", ["store_healthy.yaml", "client_secret_invalid_secret.yaml"])
def test_client_secret_paths_log_no_secret(azure_vcr, caplog: pytest.LogCaptureFixture, cassette: str) -> None:
    caplog.set_level(logging.DEBUG)
    with azure_vcr.use_cassette(cassette):
        build_connection_type().validate(
            ClientSecretCredentials(fakes.FAKE_TENANT_ID, fakes.FAKE_CLIENT_ID, SECRET),
            endpoint=fakes.FAKE_STORE_ENDPOINT,
            env={},
            client_options={"retry_backoff_factor": 0},
        )
    text = logged(caplog)
    assert "msal" in text and "urllib3" in text, "expected DEBUG logging from the libraries"
    assert SECRET not in text


def test_oauth_paths_log_no_code_or_tokens(azure_vcr, caplog: pytest.LogCaptureFixture) -> None:
    import itertools

    from cassettes_auth import OAUTH_TOKENS

    caplog.set_level(logging.DEBUG)
    settings = InstanceSettings.from_env(
        {**azure_fakes.fake_instance_env(), "INF_APP_CONNECTION_AZURE_APP_CONFIGURATION_CLIENT_SECRET": INSTANCE_SECRET}
    )
    oauth = build_connection_type().methods["oauth"]
    store = InMemoryFlowStore()
    it = itertools.cycle(OAUTH_TOKENS)
    request = oauth.begin(
        oauth.parse({"tenantId": fakes.FAKE_TENANT_ID}),
        settings=settings,
        flow_store=store,
        token_factory=lambda: next(it),
    )
    with azure_vcr.use_cassette("oauth_complete_tenant.yaml"):
        creds = oauth.complete({"code": CODE, "state": request.state}, settings=settings, flow_store=store)
    stored = OAuthCredentials(fakes.FAKE_TENANT_ID, fakes.FAKE_INSTANCE_CLIENT_ID, "fake-refresh-token-1")
    with azure_vcr.use_cassette("oauth_refresh_expired.yaml"), pytest.raises(AppConnectionError):
        oauth.token_credential(stored, settings=settings).get_token("https://azconfig.io/.default")
    for value in (
        CODE,
        INSTANCE_SECRET,
        OAUTH_TOKENS[2],
        creds.refresh_token,
        creds.access_token,
        "fake-refresh-token-1",
    ):
        assert value not in logged(caplog), value


# --- certificate, workload-identity, access-key: key material never reaches logs, reports or cassettes ---


def _method_cases(tmp_path: Path) -> list[tuple[str, dict[str, Any], list[str], list[str]]]:
    import base64
    import time

    import certs

    pass_ = "canary-log-passphrase-Jk5"
    token_file = tmp_path / "token"
    token_file.write_text(fakes.fake_jwt({"exp": int(time.time()) + 3600, "jti": "canary-log-federated-Zx1"}))
    access = base64.b64encode(b"canary-log-access-key").decode()
    key = certs.key_pem(passphrase=pass_)
    ids = {"tenantId": fakes.FAKE_TENANT_ID, "clientId": fakes.FAKE_CLIENT_ID}
    return [
        (
            "certificate",
            {**ids, "privateKey": key, "certificate": certs.cert_pem(), "passphrase": pass_},
            ["certificate_store_healthy.yaml", "certificate_not_uploaded.yaml"],
            [key, pass_, certs.key_pem()],
        ),
        (
            "workload-identity",
            {**ids, "tokenFilePath": str(token_file)},
            ["workload_identity_store_healthy.yaml", "workload_identity_no_match.yaml"],
            [token_file.read_text()],
        ),
        (
            "access-key",
            {"connectionString": f"Endpoint={fakes.FAKE_STORE_ENDPOINT};Id=log-id;Secret={access}"},
            ["access_key_store_healthy.yaml", "access_key_rejected.yaml"],
            [access],
        ),
    ]


@pytest.mark.parametrize("case", [0, 1, 2], ids=["certificate", "workload-identity", "access-key"])
def test_new_methods_log_and_report_no_secret(
    azure_vcr: Any, caplog: pytest.LogCaptureFixture, tmp_path: Path, case: int
) -> None:
    import json

    caplog.set_level(logging.DEBUG)
    method, data, cassettes, secrets = _method_cases(tmp_path)[case]
    shown = []
    from azure_appconfig_plugin.auth import msal_apps

    for cassette in cassettes:
        msal_apps.reset()  # each cassette starts with no cached token
        with azure_vcr.use_cassette(cassette) as recorded:
            report = build_connection_type().validate(
                data,
                method=method,
                endpoint=fakes.FAKE_STORE_ENDPOINT,
                env={},
                client_options={"retry_backoff_factor": 0},
            )
        shown.append(json.dumps(report.to_dict()) + repr(report) + repr(report.credentials))
        shown.append(
            json.dumps(
                [
                    [dict(r.headers), r.body.decode() if isinstance(r.body, bytes) else str(r.body)]
                    for r in recorded.requests
                ]
            )
        )
    text = logged(caplog) + "\n".join(shown)
    assert "urllib3" in text or "azure" in text, "expected DEBUG logging from the libraries"
    for secret in secrets:
        assert secret not in text
    assert "PRIVATE KEY" not in text


def test_no_cassette_holds_key_material_or_a_real_assertion() -> None:
    from pathlib import Path

    for path in sorted((Path(__file__).parent / "cassettes").glob("*.yaml")):
        text = path.read_text()
        assert "PRIVATE KEY" not in text and "client_assertion=ey" not in text, path.name
