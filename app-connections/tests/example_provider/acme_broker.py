"""An example provider written against ``app_connections`` only (no Azure): connections to an Acme
broker, which exchanges a user's PIN (sent in the ``X-Acme-Pin`` header) for a broker token.

The tests install it as a distribution with a real ``app_connections`` entry point."""

from __future__ import annotations

import json
import os
import ssl
import time
import urllib.request
from collections.abc import Mapping
from typing import NamedTuple

from app_connections.declared import DeclaredAuthMethod
from app_connections.errors import InvalidInput
from app_connections.fields import Field
from app_connections.hostspec import CONTRACT_VERSION, hookimpl
from app_connections.records import ConnectionType, Credentials, RotateCallback
from app_connections.reports import Check, CheckStatus, ValidationRequest

APP_CONNECTIONS_CONTRACT = CONTRACT_VERSION
SLUG = "acme-broker"
PIN_HEADER = "X-Acme-Pin"
CA_BUNDLE_ENV = "REQUESTS_CA_BUNDLE"  # what the kit's local HTTPS server sets for its test CA

BROKER_URL = Field(
    "brokerUrl", title="Broker URL", description="https://... of the broker.", required=True, pattern=r"https://\S+"
)
USER = Field("user", title="User", description="The broker user.", required=True, min_length=1)
PIN = Field(
    "pin", title="PIN", description="The user's PIN.", required=True, secret=True, min_length=4, header=PIN_HEADER
)
BROKER_TOKEN = Field("brokerToken", title="Broker token", description="The token the broker issued.", secret=True)


class AccessToken(NamedTuple):
    token: str
    expires_on: int


class PinCredentials:
    method = "pin"

    def __init__(self, broker_url: str, user: str, pin: str, broker_token: str | None = None) -> None:
        self.broker_url, self.user, self.pin, self.broker_token = broker_url, user, pin, broker_token

    def __repr__(self) -> str:
        return f"PinCredentials(user={self.user!r}, pin=<hidden>)"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, PinCredentials) and other.to_dict() == self.to_dict()

    def to_dict(self) -> dict[str, object]:
        out: dict[str, object] = {
            "method": self.method,
            "brokerUrl": self.broker_url,
            "user": self.user,
            "pin": self.pin,
        }
        if self.broker_token:
            out["brokerToken"] = self.broker_token
        return out


class BrokerCredential:
    """Exchanges the PIN for a broker token (one bounded HTTPS request)."""

    def __init__(self, credentials: PinCredentials) -> None:
        self.credentials = credentials

    def get_token(self, *scopes: str, **kwargs: object) -> AccessToken:
        c = self.credentials
        request = urllib.request.Request(
            c.broker_url.rstrip("/") + "/token",
            data=json.dumps({"user": c.user, "scopes": list(scopes)}).encode(),
            headers={PIN_HEADER: c.pin, "Content-Type": "application/json"},
            method="POST",
        )
        context = ssl.create_default_context(cafile=os.environ.get(CA_BUNDLE_ENV) or None)
        with urllib.request.urlopen(request, timeout=5, context=context) as answer:
            body = json.loads(answer.read(65536))
        c.broker_token = body["broker_token"]
        return AccessToken(body["broker_token"], int(time.time()) + int(body["expires_in"]))


class PinMethod(DeclaredAuthMethod):
    slug, name, connection_type = "pin", "PIN", SLUG
    description = "A broker user and PIN."
    identity_provider = "the Acme broker"
    input_fields = (BROKER_URL, USER, PIN)
    stored_fields = (BROKER_URL, USER, PIN, BROKER_TOKEN)

    def credentials_from(self, values: dict[str, object]) -> Credentials:
        return PinCredentials(
            str(values["broker_url"]),
            str(values["user"]),
            str(values["pin"]),
            values.get("broker_token") and str(values["broker_token"]),
        )

    def token_credential(
        self, credentials: Credentials, *, on_rotate: RotateCallback | None = None, **options: object
    ) -> BrokerCredential:
        return BrokerCredential(self.checked(credentials, PinCredentials))


def checks(request: ValidationRequest) -> None:
    """The type's own checks: the input parses, then the broker issues a token."""
    if request.connection_type != SLUG:
        return
    data = request.data
    try:
        creds = PinMethod().load(data) if isinstance(data, Mapping) and "method" in data else PinMethod().parse(data)
    except InvalidInput as exc:
        request.add(Check("input", CheckStatus.FAILED, str(exc)))
        return
    request.credentials, request.method = creds, creds.method
    request.add(Check("input", CheckStatus.OK, "the input parses"))
    credential = PinMethod().token_credential(creds)
    try:
        credential.get_token("acme.read")
    except OSError as exc:
        detail = f"the broker did not issue a token: {type(exc).__name__}"
        request.add(Check("token", CheckStatus.FAILED, detail, "Check the broker URL and the PIN."))
        return
    request.token_credential = credential
    request.add(Check("token", CheckStatus.OK, "the Acme broker issued a token"))


def build_connection_type() -> ConnectionType:
    return ConnectionType(SLUG, "Acme broker", {"pin": PinMethod()}, checks=checks)


@hookimpl
def register_connection_types(register):  # type: ignore[no-untyped-def]  # pluggy passes the registrar
    register.add(build_connection_type())


@hookimpl(tryfirst=True)
def validate_connection(request):  # type: ignore[no-untyped-def]  # pluggy passes the request
    checks(request)
    return []
