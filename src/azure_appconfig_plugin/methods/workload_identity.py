"""``workload-identity``: workload identity federation (e.g. AKS): the platform writes a signed
token to a file, which MSAL presents as the client assertion. Its fields, the environment-default
rule, its credentials record and the method. Import-light."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from app_connections.declared import DeclaredAuthMethod
from app_connections.fields import CrossRule, Field
from app_connections.records import Credentials, RotateCallback
from app_connections.stored_record import StoredRecord

from .common import CLIENT_ID, CLOUD, TENANT, TOKEN_FILE_PATH
from .names import CONNECTION_TYPE, MICROSOFT_ENTRA

if TYPE_CHECKING:
    from azure.core.credentials import TokenCredential

    from app_connections.jsontypes import JSONObject

ENV_DEFAULTS = {
    TENANT.name: "AZURE_TENANT_ID",
    CLIENT_ID.name: "AZURE_CLIENT_ID",
    TOKEN_FILE_PATH.name: "AZURE_FEDERATED_TOKEN_FILE",
}
"""Where an absent field is read from (what the AKS workload identity webhook injects)."""
STORED_FIELDS: tuple[Field, ...] = (
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


INPUT_FIELDS: tuple[Field, ...] = tuple(_optional(f) if f.name in ENV_DEFAULTS else f for f in STORED_FIELDS)
REQUIRED = "is required: give it, or set {env} in the environment"
REQUIRED_HERE = "is required: this host does not lend its own identity, so the form gives every field"
BAD_ENV = "is not valid as set in the environment"
_MESSAGES = (*(REQUIRED.format(env=env) for env in ENV_DEFAULTS.values()), REQUIRED_HERE, BAD_ENV)


def env_defaults(values: JSONObject) -> tuple[JSONObject, tuple[str, str] | None]:
    """``values`` with the absent fields read from the environment, and the first problem. The
    environment is the host policy's, when it lends the host's identity
    (``HostPolicy.ambient_identity``); without it, an absent field is a problem."""
    from app_connections import policy as policies

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


class WorkloadIdentityCredentials(
    StoredRecord, fields=STORED_FIELDS, method="workload-identity", unstored=("allowed_dirs",)
):
    """An app registration (or user-assigned managed identity) that trusts a federated token. No
    secret. ``allowed_dirs`` (not stored): where the token file may be read from, as the host policy
    decided at parse or load; None (a record a host built itself): the file's own directory."""

    tenant_id: str
    client_id: str
    token_file_path: str
    cloud: str
    allowed_dirs: tuple[str, ...] | None


class WorkloadIdentityMethod(DeclaredAuthMethod):
    """Workload identity federation: a platform-issued token (file) is exchanged for an Entra ID token."""

    slug = "workload-identity"
    name = "Workload identity"
    description = (
        "Authenticate with workload identity federation (AKS and other OIDC issuers): the federated token "
        "file is exchanged for a Microsoft Entra ID token; no secret is stored."
    )
    connection_type = CONNECTION_TYPE
    identity_provider = MICROSOFT_ENTRA
    ambient_identity = "fallback"  # absent fields (and the token file) come from the host's environment
    path_fields: tuple[str, ...] = (TOKEN_FILE_PATH.name,)
    input_fields = INPUT_FIELDS
    stored_fields: tuple[Field, ...] | None = STORED_FIELDS
    input_rules = INPUT_RULES
    record = WorkloadIdentityCredentials

    def credentials_from(self, values: dict[str, object]) -> WorkloadIdentityCredentials:
        """The record, its token file checked against the host policy in effect: the host's own
        file (``AZURE_FEDERATED_TOKEN_FILE``, when the policy lends the host's identity), else a file
        in a directory the policy allows (refused before any file-system access otherwise)."""
        from app_connections import policy as policies

        from ..auth.workload_identity import token_file_scope
        from ..errors import FieldError, InvalidInput

        values, problem = env_defaults(values)
        if problem:  # pragma: no cover - a race: the environment changed between parse()'s ENV_RULE and here
            raise InvalidInput(errors=[FieldError(*problem)])
        scope = token_file_scope(str(values[TOKEN_FILE_PATH.attr]), policies.current())
        return WorkloadIdentityCredentials(**values, allowed_dirs=scope)

    def token_credential(
        self, credentials: Credentials, *, on_rotate: RotateCallback | None = None, **_: object
    ) -> TokenCredential:
        """MSAL's client-assertion credential reading the federated token file on each request."""
        from ..auth.workload_identity import WorkloadIdentityTokenCredential

        return WorkloadIdentityTokenCredential(self.checked(credentials, WorkloadIdentityCredentials))

    def principal(self, credentials: Credentials) -> str:
        """``the identity of app <client ID> (workload identity federation)``."""
        record = self.own(credentials, WorkloadIdentityCredentials)
        return f"the identity of app {record.client_id if record else '?'} (workload identity federation)"

    def cloud_of(self, credentials: Credentials) -> str | None:
        """The record's cloud slug (None for another method's record)."""
        record = self.own(credentials, WorkloadIdentityCredentials)
        return record.cloud if record else None

    def tenant_of(self, credentials: Credentials) -> str | None:
        """The record's tenant (None for another method's record)."""
        record = self.own(credentials, WorkloadIdentityCredentials)
        return record.tenant_id if record else None
