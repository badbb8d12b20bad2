"""Per-method form input: JSON Schema, parsing into typed records, stored credentials.

JSON property names are camelCase (``tenantId``, ``clientId``, ``clientSecret``, ``cloud``).
"""

from __future__ import annotations

import difflib
from typing import Any, Callable, Mapping

import attrs

from .clouds import CLOUDS, DEFAULT_CLOUD
from .errors import FieldError, InvalidInput
from .formats import GUID_PATTERN, SECRET_MAX_LENGTH, TENANT_PATTERN, is_guid, is_tenant, secret_problem

JSON_SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"
SCHEMA_ID_BASE = "https://schemas.azure-appconfig-plugin.dev/azure-app-configuration"

TENANT_FIELD: dict[str, Any] = {
    "type": "string",
    "title": "Tenant ID",
    "description": (
        "Directory (tenant) ID of your Microsoft Entra tenant: a GUID, or a verified domain "
        "such as contoso.onmicrosoft.com."
    ),
    "pattern": f"^(?:{TENANT_PATTERN})$",
    "maxLength": 253,
    "examples": ["00000000-0000-0000-0000-000000000000", "contoso.onmicrosoft.com"],
}
CLIENT_ID_FIELD: dict[str, Any] = {
    "type": "string",
    "title": "Client ID",
    "description": "Application (client) ID of the service principal's app registration (a GUID).",
    "pattern": GUID_PATTERN,
}
CLIENT_SECRET_FIELD: dict[str, Any] = {
    "type": "string",
    "title": "Client secret",
    "description": "The client secret's Value (not its Secret ID), from Certificates & secrets.",
    "minLength": 1,
    "maxLength": SECRET_MAX_LENGTH,
    "writeOnly": True,
    "format": "password",
}
CLOUD_FIELD: dict[str, Any] = {
    "type": "string",
    "title": "Azure cloud",
    "description": "The Azure cloud the tenant and store live in.",
    "enum": list(CLOUDS),
    "default": DEFAULT_CLOUD.slug,
}


def _object_schema(method: str, title: str, description: str, props: dict[str, Any], required: list[str]) -> dict[str, Any]:
    return {
        "$schema": JSON_SCHEMA_DIALECT,
        "$id": f"{SCHEMA_ID_BASE}/{method}.json",
        "title": title,
        "description": description,
        "type": "object",
        "properties": props,
        "required": required,
        "additionalProperties": False,
    }


def oauth_schema() -> dict[str, Any]:
    tenant = dict(
        TENANT_FIELD,
        description=TENANT_FIELD["description"]
        + " Optional: leave empty to let the user sign in with any work or school account.",
    )
    return _object_schema(
        "oauth",
        "Azure App Configuration: OAuth",
        "Sign in with a Microsoft work or school account through the instance's app registration.",
        {"tenantId": tenant, "cloud": dict(CLOUD_FIELD)},
        [],
    )


def client_secret_schema() -> dict[str, Any]:
    return _object_schema(
        "client-secret",
        "Azure App Configuration: client secret",
        "Authenticate as a service principal with a client secret.",
        {
            "tenantId": dict(TENANT_FIELD),
            "clientId": dict(CLIENT_ID_FIELD),
            "clientSecret": dict(CLIENT_SECRET_FIELD),
            "cloud": dict(CLOUD_FIELD),
        },
        ["tenantId", "clientId", "clientSecret"],
    )


# --- records -----------------------------------------------------------------------------


@attrs.frozen
class OAuthInput:
    """What the oauth form collects; ``begin`` turns it into an authorization URL."""

    tenant_id: str | None = None
    cloud: str = DEFAULT_CLOUD.slug
    method: str = attrs.field(default="oauth", init=False)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"method": self.method, "cloud": self.cloud}
        if self.tenant_id:
            out["tenantId"] = self.tenant_id
        return out


@attrs.frozen
class ClientSecretCredentials:
    tenant_id: str
    client_id: str
    client_secret: str = attrs.field(repr=False)
    cloud: str = DEFAULT_CLOUD.slug
    method: str = attrs.field(default="client-secret", init=False)

    def to_dict(self) -> dict[str, Any]:
        return {
            "method": self.method,
            "tenantId": self.tenant_id,
            "clientId": self.client_id,
            "clientSecret": self.client_secret,
            "cloud": self.cloud,
        }


@attrs.frozen
class OAuthCredentials:
    """What a completed OAuth flow yields and a host stores."""

    tenant_id: str
    client_id: str
    """The instance app registration the grant was issued to."""
    refresh_token: str = attrs.field(repr=False)
    access_token: str | None = attrs.field(default=None, repr=False)
    expires_on: int | None = None
    """Unix time the access token expires."""
    cloud: str = DEFAULT_CLOUD.slug
    method: str = attrs.field(default="oauth", init=False)

    def with_tokens(self, refresh_token: str, access_token: str | None, expires_on: int | None) -> OAuthCredentials:
        return attrs.evolve(self, refresh_token=refresh_token, access_token=access_token, expires_on=expires_on)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "method": self.method,
            "tenantId": self.tenant_id,
            "clientId": self.client_id,
            "refreshToken": self.refresh_token,
            "cloud": self.cloud,
        }
        if self.access_token:
            out["accessToken"] = self.access_token
            out["expiresOn"] = self.expires_on
        return out


# --- parsing -------------------------------------------------------------------------------

_Check = Callable[[Any], "str | None"]


def _tenant_problem(value: Any) -> str | None:
    if not isinstance(value, str) or not value.strip():
        return "must be a non-empty string"
    if not is_tenant(value.strip()):
        return "must be a tenant GUID or a verified domain such as contoso.onmicrosoft.com"
    return None


def _client_id_problem(value: Any) -> str | None:
    if not isinstance(value, str) or not value.strip():
        return "must be a non-empty string"
    if not is_guid(value.strip()):
        return "must be a GUID: the Application (client) ID from the app registration's Overview page"
    return None


def _cloud_problem(value: Any) -> str | None:
    if not isinstance(value, str) or value not in CLOUDS:  # a list/object is not hashable (#13 finding 5)
        return f"must be one of: {', '.join(CLOUDS)}"
    return None


def _collect(
    data: Mapping[str, Any], fields: dict[str, _Check], required: set[str]
) -> dict[str, Any]:
    if not isinstance(data, Mapping):
        raise InvalidInput(errors=[FieldError("(input)", "must be an object of form fields")])
    errors: list[FieldError] = []
    for key in data:
        if key not in fields:
            guess = difflib.get_close_matches(str(key), list(fields), n=1)
            hint = f"; did you mean {guess[0]!r}?" if guess else f"; allowed: {', '.join(fields)}"
            errors.append(FieldError(str(key), "is not a known field" + hint))
    values: dict[str, Any] = {}
    for name, check in fields.items():
        value = data.get(name)
        if value is None or (isinstance(value, str) and value.strip() == "" and name != "clientSecret"):
            if name in required:
                errors.append(FieldError(name, "is required"))
            continue
        problem = check(value)
        if problem:
            errors.append(FieldError(name, problem))
        else:
            values[name] = value.strip() if isinstance(value, str) and name != "clientSecret" else value
    if errors:
        raise InvalidInput(errors=errors)
    return values


def parse_oauth_input(data: Mapping[str, Any]) -> OAuthInput:
    values = _collect(data, {"tenantId": _tenant_problem, "cloud": _cloud_problem}, set())
    return OAuthInput(values.get("tenantId"), values.get("cloud", DEFAULT_CLOUD.slug))


def parse_client_secret(data: Mapping[str, Any]) -> ClientSecretCredentials:
    values = _collect(
        data,
        {
            "tenantId": _tenant_problem,
            "clientId": _client_id_problem,
            "clientSecret": secret_problem,
            "cloud": _cloud_problem,
        },
        {"tenantId", "clientId", "clientSecret"},
    )
    return ClientSecretCredentials(
        values["tenantId"], values["clientId"], values["clientSecret"], values.get("cloud", DEFAULT_CLOUD.slug)
    )


def _token_problem(value: Any) -> str | None:
    return None if isinstance(value, str) and value else "must be a non-empty string"


def _expires_problem(value: Any) -> str | None:
    return None if isinstance(value, int) and not isinstance(value, bool) else "must be a Unix time (integer)"


def load_credentials(data: Mapping[str, Any]) -> ClientSecretCredentials | OAuthCredentials:
    """Rebuild stored credentials (the output of ``to_dict``)."""
    if not isinstance(data, Mapping):
        raise InvalidInput(errors=[FieldError("(credentials)", "must be a JSON object")])
    method = data.get("method")
    rest = {k: v for k, v in data.items() if k != "method"}
    if method == "client-secret":
        return parse_client_secret(rest)
    if method == "oauth":
        values = _collect(
            rest,
            {
                "tenantId": _tenant_problem,
                "clientId": _client_id_problem,
                "refreshToken": _token_problem,
                "accessToken": _token_problem,
                "expiresOn": _expires_problem,
                "cloud": _cloud_problem,
            },
            {"tenantId", "clientId", "refreshToken"},
        )
        return OAuthCredentials(
            values["tenantId"],
            values["clientId"],
            values["refreshToken"],
            values.get("accessToken"),
            values.get("expiresOn"),
            values.get("cloud", DEFAULT_CLOUD.slug),
        )
    raise InvalidInput(errors=[FieldError("method", "must be 'oauth' or 'client-secret'")])
