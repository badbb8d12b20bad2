"""A plugin's auth method gets command-line flags derived from its declared input fields, in
`validate`, `connect` and `sync plan`, exactly as the built-in methods do; its secret is read from
the environment or stdin and never shown."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest

from cli_helpers import run
from standins.appconfig import StandIn

pytest_plugins = ["standins.fixtures"]

ALLOW = "INF_APP_CONNECTION_AZURE_APP_CONFIGURATION_ALLOWED_HOSTS"
TICKET = "canary-plugin-ticket-7Vd"
PLUGIN = """
import time

from app_connections.declared import DeclaredAuthMethod
from app_connections.fields import Field
from app_connections.hostspec import hookimpl

APP_CONNECTIONS_CONTRACT = "3.0"


class TicketCredentials:
    method = "ticket"

    def __init__(self, issuer_name, ticket_secret, lifetime_minutes):
        self.issuer_name, self.ticket_secret, self.lifetime_minutes = issuer_name, ticket_secret, lifetime_minutes

    def __repr__(self):
        return f"TicketCredentials(issuer_name={self.issuer_name!r})"

    def to_dict(self):
        return {"method": self.method, "issuerName": self.issuer_name, "ticketSecret": self.ticket_secret,
                "lifetimeMinutes": self.lifetime_minutes}


class TicketToken:
    def __init__(self, credentials):
        self.credentials = credentials

    def get_token(self, *scopes, **kwargs):
        from azure.core.credentials import AccessToken

        return AccessToken(self.credentials.ticket_secret, int(time.time()) + 60 * self.credentials.lifetime_minutes)


class TicketMethod(DeclaredAuthMethod):
    slug, name, connection_type = "ticket", "Ticket", "azure-app-configuration"
    description = "A plugin's method: an issuer's ticket sent as the bearer token."
    credentials_type = TicketCredentials
    input_fields = (
        Field("issuerName", title="Issuer", description="Who issued the ticket.", required=True, strip=True),
        Field("ticketSecret", title="Ticket", description="The ticket.", required=True, secret=True, min_length=8),
        Field("lifetimeMinutes", type="integer", title="Lifetime", description="Minutes.", minimum=1, default=60),
    )

    def credentials_from(self, values):
        return TicketCredentials(**values)

    def token_credential(self, credentials, *, on_rotate=None, **options):
        return TicketToken(self.checked(credentials, TicketCredentials))


@hookimpl
def register_auth_methods(register):
    register.add("azure-app-configuration", TicketMethod())
"""
FLAGS = ("--method", "ticket", "--issuer-name", "acme", "--ticket-secret-env", "TICKET", "--lifetime-minutes", "30")


@pytest.fixture
def store(standin: StandIn, monkeypatch: pytest.MonkeyPatch, plugin_distributions: Any) -> StandIn:
    plugin_distributions(
        "ticket-plugin",
        entry_points={"app_connections": {"ticket": "ticket_plugin"}},
        modules={"ticket_plugin.py": PLUGIN},
    )
    monkeypatch.setenv(ALLOW, standin.allow_list)
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", standin.ca_path)
    monkeypatch.setenv("TICKET", TICKET)
    return standin


def test_validate_takes_the_plugin_methods_derived_flags(store: StandIn, capsys: pytest.CaptureFixture[str]) -> None:
    code, text = run("validate", *FLAGS, "--endpoint", store.endpoint, "--json")
    checks = {c["name"]: c["status"] for c in json.loads(text)["checks"]}
    assert checks["input"] == "ok" and checks["token"] == "ok" and checks["KeyValue.Read"] == "ok", text
    assert store.bearer_tokens == {TICKET}  # the value read from $TICKET reached the store as the token
    assert TICKET not in text + capsys.readouterr().err
    assert code in (0, 1)


def test_connect_saves_what_the_plugin_methods_flags_gave(
    store: StandIn, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO(TICKET + "\nnot read\n"))
    code, text = run(
        "connect", "ticket", "--issuer-name", " acme ", "--ticket-secret-stdin", "--lifetime-minutes", "30",
        "--endpoint", store.endpoint, "--stdout", "--force",
    )  # fmt: skip
    assert code in (0, 1), capsys.readouterr().err
    assert json.loads(text) == {"method": "ticket", "issuerName": "acme", "ticketSecret": TICKET, "lifetimeMinutes": 30}
    assert TICKET not in capsys.readouterr().err


def test_sync_plan_takes_the_plugin_methods_derived_flags(
    store: StandIn, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    secrets = tmp_path / "secrets.json"
    secrets.write_text(json.dumps({"A": "one"}))
    code, text = run("sync", "plan", "--from", str(secrets), "--endpoint", store.endpoint, *FLAGS)
    assert code == 0, capsys.readouterr().err
    assert "1 create" in text and store.bearer_tokens == {TICKET}
    assert store.requests("PUT") == [] and TICKET not in text + capsys.readouterr().err


@pytest.mark.parametrize(
    ("flags", "error"),
    [
        (("--lifetime-minutes", "soon"), "--lifetime-minutes: must be a whole number, e.g. --lifetime-minutes 3"),
        (
            ("--ticket-secret-env", "NO_SUCH_VAR_4K"),
            "--ticket-secret-env: environment variable NO_SUCH_VAR_4K is not set",
        ),
        (("--tenant-id", "contoso.onmicrosoft.com"), "--tenant-id: is not used by ticket"),
    ],
    ids=["integer", "unset-env", "other-method"],
)
def test_bad_plugin_flags_are_usage_errors_before_any_request(
    store: StandIn, flags: tuple[str, ...], error: str, capsys: pytest.CaptureFixture[str]
) -> None:
    base = ["validate", "--method", "ticket", "--issuer-name", "acme", "--ticket-secret-env", "TICKET"]
    code, text = run(*base, *flags, "--endpoint", store.endpoint)
    assert (code, text) == (2, "")
    assert error in capsys.readouterr().err
    assert store.requests() == []


def test_a_plugin_secret_has_no_command_line_value_flag(store: StandIn, capsys: pytest.CaptureFixture[str]) -> None:
    code, _ = run("validate", "--method", "ticket", "--issuer-name", "acme", "--ticket-secret", TICKET)
    assert code == 2 and TICKET not in capsys.readouterr().err
    assert main_help_lists("--ticket-secret-env", "--ticket-secret-stdin", "--lifetime-minutes", capsys=capsys)


def main_help_lists(*flags: str, capsys: pytest.CaptureFixture[str]) -> bool:
    code, _ = run("connect", "ticket", "--help")
    out = capsys.readouterr().out
    return code == 0 and all(flag in out for flag in flags)


def test_sync_plan_takes_a_built_in_methods_derived_flags_too(
    store: StandIn, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """An access key's connection string beside the scope's --endpoint (it names the same store)."""
    import base64

    secret = base64.b64encode(b"canary-sync-access-secret").decode()
    monkeypatch.setenv("APPCONFIG_CS", f"Endpoint={store.endpoint};Id=sync-key-id;Secret={secret}")
    secrets = tmp_path / "secrets.json"
    secrets.write_text(json.dumps({"A": "one"}))
    code, text = run(
        "sync", "plan", "--from", str(secrets), "--endpoint", store.endpoint,
        "--method", "access-key", "--connection-string-env", "APPCONFIG_CS",
    )  # fmt: skip
    assert code == 0, capsys.readouterr().err
    assert "1 create" in text and store.hmac_credentials == {"sync-key-id"} and store.bearer_tokens == set()
    assert secret not in text + capsys.readouterr().err
