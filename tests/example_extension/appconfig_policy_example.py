"""Example extension: adds a policy check and an auth method to `azure-app-configuration`.

Written only against the public contract (hookimpl marker, records); imports nothing heavy.
"""

from __future__ import annotations

import time
from typing import Any, Callable, Mapping

import attrs

from azure_appconfig_plugin.errors import FieldError, InvalidInput
from azure_appconfig_plugin.hostspec import hookimpl
from azure_appconfig_plugin.reports import Check, CheckStatus, ValidationRequest

TYPE = "azure-app-configuration"
REQUIRED_PREFIX = "contoso-"


@attrs.frozen
class StaticTokenCredentials:
    access_token: str = attrs.field(repr=False)
    expires_on: int
    cloud: str = "public"
    method: str = attrs.field(default="static-token", init=False)

    def to_dict(self) -> dict[str, Any]:
        return {"method": self.method, "accessToken": self.access_token, "expiresOn": self.expires_on, "cloud": self.cloud}


class _StaticCredential:
    def __init__(self, creds: StaticTokenCredentials) -> None:
        self._creds = creds

    def get_token(self, *scopes: str, **kwargs: Any) -> Any:
        from azure.core.credentials import AccessToken

        return AccessToken(self._creds.access_token, self._creds.expires_on)


class StaticTokenMethod:
    """Use an access token obtained elsewhere (e.g. `az account get-access-token`)."""

    slug = "static-token"
    name = "Static access token"

    def input_schema(self) -> dict[str, Any]:
        return {
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "type": "object",
            "properties": {
                "accessToken": {"type": "string", "title": "Access token", "description": "A bearer token for the store.",
                                "minLength": 1, "writeOnly": True, "format": "password"},
                "expiresOn": {"type": "integer", "title": "Expires on", "description": "Unix time the token expires."},
            },
            "required": ["accessToken", "expiresOn"],
            "additionalProperties": False,
        }

    def parse(self, data: Mapping[str, Any]) -> StaticTokenCredentials:
        errors = []
        token, expires = data.get("accessToken"), data.get("expiresOn")
        if not isinstance(token, str) or not token:
            errors.append(FieldError("accessToken", "is required"))
        if not isinstance(expires, int) or expires <= time.time():
            errors.append(FieldError("expiresOn", "must be a future Unix time"))
        unknown = set(data) - {"accessToken", "expiresOn"}
        errors.extend(FieldError(k, "is not a known field") for k in sorted(unknown))
        if errors:
            raise InvalidInput(errors=errors)
        return StaticTokenCredentials(token, expires)  # type: ignore[arg-type]

    def token_credential(self, credentials: Any, *, on_rotate: Callable[[Any], None] | None = None, **_: Any) -> Any:
        return _StaticCredential(credentials)


@hookimpl
def register_auth_methods(register: Callable[[str, Any], None]) -> None:
    register(TYPE, StaticTokenMethod())


@hookimpl
def validate_connection(request: ValidationRequest) -> list[Check]:
    if request.connection_type != TYPE:
        return []
    if not request.endpoint:
        return [Check("policy: store naming", CheckStatus.SKIPPED, "no endpoint given")]
    host = request.endpoint.split("//", 1)[-1]
    if host.startswith(REQUIRED_PREFIX):
        return [Check("policy: store naming", CheckStatus.OK, f"{host} follows the {REQUIRED_PREFIX}* naming policy")]
    return [Check("policy: store naming", CheckStatus.FAILED, f"{host} does not start with {REQUIRED_PREFIX}",
                  f"Use a store whose name starts with {REQUIRED_PREFIX} (company policy).")]
