"""The field declarations and the environment-default rule of ``workload-identity`` (each declared
once). Imported when a schema or parser is first needed, not at registration."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from app_connections import policy as policies
from app_connections.fields import CrossRule, Field

from .common import CLIENT_ID, CLOUD, TENANT

ENV_DEFAULTS = {
    "tenantId": "AZURE_TENANT_ID",
    "clientId": "AZURE_CLIENT_ID",
    "tokenFilePath": "AZURE_FEDERATED_TOKEN_FILE",
}
"""Where an absent field is read from (what the AKS workload identity webhook injects)."""

TOKEN_FILE_PATH = Field(
    "tokenFilePath",
    title="Federated token file",
    description=(
        "Absolute path of the file holding the federated (service account) token; it is re-read for every "
        "token request, as the platform rotates it. Default: AZURE_FEDERATED_TOKEN_FILE."
    ),
    required=True,
    strip=True,
    max_length=4096,
    # no pattern: the host policy checks the path (absolute, in an allowed directory) with one message
    # for every refusal, a relative path included (app_connections.paths.PATH_REFUSED)
)
STORED_FIELDS = (
    TENANT,
    CLIENT_ID.replace(
        description="Application (client) ID of the app registration (or user-assigned managed identity) "
        "that trusts the federated token."
    ),
    TOKEN_FILE_PATH,
    CLOUD,
)


def _optional(field: Field) -> Field:
    return field.replace(
        required=False,
        description=f"{field.description} Default: {ENV_DEFAULTS[field.name]}."
        if "Default:" not in field.description
        else field.description,
    )


INPUT_FIELDS = tuple(_optional(f) if f.name in ENV_DEFAULTS else f for f in STORED_FIELDS)
REQUIRED = "is required: give it, or set {env} in the environment"
REQUIRED_HERE = "is required: this host does not lend its own identity, so the form gives every field"
BAD_ENV = "is not valid as set in the environment"
_MESSAGES = (*(REQUIRED.format(env=env) for env in ENV_DEFAULTS.values()), REQUIRED_HERE, BAD_ENV)


def env_defaults(values: dict[str, Any]) -> tuple[dict[str, Any], tuple[str, str] | None]:
    """``values`` with the absent fields read from the environment, and the first problem. The
    environment is the host policy's, when it lends the host's identity
    (``HostPolicy.ambient_identity``); without it, an absent field is a problem."""
    policy = policies.current()
    env: Mapping[str, str] | None = policy.env if policy.ambient_identity else None
    out = dict(values)
    by_name = {f.name: f for f in STORED_FIELDS}
    for name, var in ENV_DEFAULTS.items():
        field = by_name[name]
        if out.get(field.attr) is not None:
            continue
        if env is None:
            return out, (name, REQUIRED_HERE)
        raw = env.get(var)
        if raw is None or raw.strip() == "":
            return out, (name, REQUIRED.format(env=var))
        problem, value = field.problem(raw)
        if problem:
            return out, (name, f"{BAD_ENV} ({var} {problem})")
        out[field.attr] = value
    return out, None


ENV_RULE = CrossRule(lambda values: env_defaults(values)[1], _MESSAGES)
INPUT_RULES = (ENV_RULE,)
