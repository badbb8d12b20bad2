"""``workload-identity``: workload identity federation (e.g. AKS): the platform writes a signed
token to a file, which MSAL presents as the client assertion. Import-light."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any, Mapping

from ..fields import CrossRule, Field
from ..records import Credentials, RotateCallback
from .base import DeclaredAuthMethod
from .common import CLIENT_ID, CLOUD, CONNECTION_TYPE, MICROSOFT_ENTRA, TENANT

if TYPE_CHECKING:  # pragma: no cover
    from azure.core.credentials import TokenCredential

    from ..auth.workload_identity import WorkloadIdentityCredentials

ENV_DEFAULTS = {"tenantId": "AZURE_TENANT_ID", "clientId": "AZURE_CLIENT_ID", "tokenFilePath": "AZURE_FEDERATED_TOKEN_FILE"}
"""Where an absent field is read from (what the AKS workload identity webhook injects)."""

TOKEN_FILE_PATH = Field(
    "tokenFilePath",
    title="Federated token file",
    description=("Absolute path of the file holding the federated (service account) token; it is re-read for every "
                 "token request, as the platform rotates it. Default: AZURE_FEDERATED_TOKEN_FILE."),
    required=True,
    strip=True,
    pattern=r"(?:/|[A-Za-z]:[\\/])[^\x00-\x1f]*",
    pattern_message="must be an absolute path (e.g. /var/run/secrets/azure/tokens/azure-identity-token)",
    max_length=4096,
)
STORED_FIELDS = (
    TENANT,
    CLIENT_ID.replace(description="Application (client) ID of the app registration (or user-assigned managed identity) "
                                  "that trusts the federated token."),
    TOKEN_FILE_PATH,
    CLOUD,
)


def _optional(field: Field) -> Field:
    return field.replace(required=False, description=f"{field.description} Default: {ENV_DEFAULTS[field.name]}."
                         if "Default:" not in field.description else field.description)


INPUT_FIELDS = tuple(_optional(f) if f.name in ENV_DEFAULTS else f for f in STORED_FIELDS)
REQUIRED = "is required: give it, or set {env} in the environment"
BAD_ENV = "is not valid as set in the environment"
_MESSAGES = tuple(REQUIRED.format(env=env) for env in ENV_DEFAULTS.values()) + (BAD_ENV,)


def env_defaults(values: dict[str, Any], env: Mapping[str, str] | None = None) -> tuple[dict[str, Any], tuple[str, str] | None]:
    """``values`` with the absent fields read from the environment, and the first problem."""
    env = os.environ if env is None else env
    out = dict(values)
    by_name = {f.name: f for f in STORED_FIELDS}
    for name, var in ENV_DEFAULTS.items():
        field = by_name[name]
        if out.get(field.attr) is not None:
            continue
        raw = env.get(var)
        if raw is None or raw.strip() == "":
            return out, (name, REQUIRED.format(env=var))
        problem, value = field.problem(raw)
        if problem:
            return out, (name, f"{BAD_ENV} ({var} {problem})")
        out[field.attr] = value
    return out, None


ENV_RULE = CrossRule(lambda values: env_defaults(values)[1], _MESSAGES)


class WorkloadIdentityMethod(DeclaredAuthMethod):
    """Workload identity federation: a platform-issued token (file) is exchanged for an Entra ID token."""

    slug = "workload-identity"
    name = "Workload identity"
    description = ("Authenticate with workload identity federation (AKS and other OIDC issuers): the federated token "
                   "file is exchanged for a Microsoft Entra ID token; no secret is stored.")
    connection_type = CONNECTION_TYPE
    identity_provider = MICROSOFT_ENTRA
    input_fields = INPUT_FIELDS
    stored_fields = STORED_FIELDS
    input_rules = (ENV_RULE,)

    @property
    def credentials_type(self) -> type:
        from ..auth.workload_identity import WorkloadIdentityCredentials

        return WorkloadIdentityCredentials

    def credentials_from(self, values: dict[str, Any]) -> WorkloadIdentityCredentials:
        from ..auth.workload_identity import WorkloadIdentityCredentials
        from ..errors import FieldError, InvalidInput

        values, problem = env_defaults(values)
        if problem:  # the environment changed since the rule ran
            raise InvalidInput(errors=[FieldError(*problem)])
        return WorkloadIdentityCredentials(**values)

    def token_credential(
        self, credentials: Credentials, *, on_rotate: RotateCallback | None = None, **_: Any
    ) -> TokenCredential:
        from ..auth.workload_identity import WorkloadIdentityTokenCredential
        from ..errors import FieldError, InvalidInput

        if not isinstance(credentials, self.credentials_type):
            raise InvalidInput(errors=[FieldError("credentials", "workload-identity needs WorkloadIdentityCredentials "
                                                  f"(from parse() or load()), not {type(credentials).__name__}")])
        return WorkloadIdentityTokenCredential(credentials)  # type: ignore[arg-type]

    def principal(self, credentials: Any) -> str:
        return f"the identity of app {getattr(credentials, 'client_id', '?')} (workload identity federation)"
