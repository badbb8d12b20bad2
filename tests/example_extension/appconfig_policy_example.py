"""Example extension: adds a policy check and an auth method to `azure-app-configuration`.

Written only against the public contract (hookimpl marker, records); imports nothing heavy.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import attrs

from app_connections.declared import DeclaredAuthMethod
from app_connections.fields import Field, Rule
from app_connections.hostspec import hookimpl
from app_connections.reports import Check, CheckStatus, ValidationRequest

APP_CONNECTIONS_CONTRACT = "3.0"
TYPE = "azure-app-configuration"
REQUIRED_PREFIX = "contoso-"


@attrs.frozen
class StaticTokenCredentials:
    access_token: str = attrs.field(repr=False)
    expires_on: int
    cloud: str = "public"
    method: str = attrs.field(default="static-token", init=False)

    def to_dict(self) -> dict[str, Any]:
        return {
            "method": self.method,
            "accessToken": self.access_token,
            "expiresOn": self.expires_on,
            "cloud": self.cloud,
        }


class _StaticCredential:
    def __init__(self, creds: StaticTokenCredentials) -> None:
        self._creds = creds

    def get_token(self, *scopes: str, **kwargs: Any) -> Any:
        from azure.core.credentials import AccessToken

        return AccessToken(self._creds.access_token, self._creds.expires_on)


def _in_future(value: int) -> bool:
    return value > time.time()


class StaticTokenMethod(DeclaredAuthMethod):
    """Use an access token obtained elsewhere (e.g. `az account get-access-token`)."""

    slug = "static-token"
    name = "Static access token"
    description = "A bearer token for the store, obtained elsewhere."
    connection_type = TYPE
    identity_provider = "a token obtained elsewhere (az account get-access-token)"
    credentials_type = StaticTokenCredentials
    input_fields = (
        Field(
            "accessToken",
            title="Access token",
            description="A bearer token for the store.",
            required=True,
            secret=True,
            min_length=1,
            max_length=16384,
        ),
        Field(
            "expiresOn",
            type="integer",
            title="Expires on",
            description="Unix time the token expires.",
            required=True,
            minimum=0,
            rules=[Rule(_in_future, "must be a future Unix time")],
        ),
        Field(
            "cloud",
            title="Azure cloud",
            description="The cloud of the store.",
            enum=("public", "usgov", "china"),
            default="public",
        ),
    )

    def credentials_from(self, values: dict[str, Any]) -> StaticTokenCredentials:
        return StaticTokenCredentials(**values)

    def token_credential(self, credentials: Any, *, on_rotate: Callable[[Any], None] | None = None, **_: Any) -> Any:
        return _StaticCredential(credentials)


@hookimpl
def register_auth_methods(register: Any) -> None:
    register.add(TYPE, StaticTokenMethod())


@hookimpl
def validate_connection(request: ValidationRequest) -> list[Check]:
    if request.connection_type != TYPE:
        return []
    if not request.endpoint:
        return [Check("policy: store naming", CheckStatus.SKIPPED, "no endpoint given")]
    host = request.endpoint.split("//", 1)[-1]
    if host.startswith(REQUIRED_PREFIX):
        return [Check("policy: store naming", CheckStatus.OK, f"{host} follows the {REQUIRED_PREFIX}* naming policy")]
    return [
        Check(
            "policy: store naming",
            CheckStatus.FAILED,
            f"{host} does not start with {REQUIRED_PREFIX}",
            f"Use a store whose name starts with {REQUIRED_PREFIX} (company policy).",
        )
    ]
