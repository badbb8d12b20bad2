"""``workload-identity``: workload identity federation (e.g. AKS): the platform writes a signed
token to a file, which MSAL presents as the client assertion. Import-light."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from app_connections.declared import DeclaredAuthMethod
from app_connections.records import Credentials, RotateCallback

from .names import CONNECTION_TYPE, MICROSOFT_ENTRA

if TYPE_CHECKING:
    from azure.core.credentials import TokenCredential

    from ..auth.workload_identity import WorkloadIdentityCredentials


class WorkloadIdentityMethod(DeclaredAuthMethod):
    """Workload identity federation: a platform-issued token (file) is exchanged for an Entra ID token."""

    slug = "workload-identity"
    name = "Workload identity"
    description = (
        "Authenticate with workload identity federation (AKS and other OIDC issuers): the federated token "
        "file is exchanged for a Microsoft Entra ID token; no secret is stored."
    )
    connection_type = CONNECTION_TYPE
    declarations = ".workload_identity_fields"
    identity_provider = MICROSOFT_ENTRA
    ambient_identity = "fallback"  # absent fields (and the token file) come from the host's environment
    path_fields: tuple[str, ...] = ("tokenFilePath",)

    @property
    def credentials_type(self) -> type:
        from ..auth.workload_identity import WorkloadIdentityCredentials

        return WorkloadIdentityCredentials

    def credentials_from(self, values: dict[str, Any]) -> WorkloadIdentityCredentials:
        """The record, its token file checked against the host policy in effect: the host's own
        file (``AZURE_FEDERATED_TOKEN_FILE``, when the policy lends the host's identity), else a file
        in a directory the policy allows (refused before any file-system access otherwise)."""
        from app_connections import policy as policies

        from ..auth.workload_identity import WorkloadIdentityCredentials, token_file_scope
        from ..errors import FieldError, InvalidInput
        from .workload_identity_fields import env_defaults

        values, problem = env_defaults(values)
        if problem:  # pragma: no cover - a race: the environment changed between parse()'s ENV_RULE and here
            raise InvalidInput(errors=[FieldError(*problem)])
        scope = token_file_scope(values["token_file_path"], policies.current())
        return WorkloadIdentityCredentials(**values, allowed_dirs=scope)

    def token_credential(
        self, credentials: Credentials, *, on_rotate: RotateCallback | None = None, **_: Any
    ) -> TokenCredential:
        from ..auth.workload_identity import WorkloadIdentityCredentials, WorkloadIdentityTokenCredential

        return WorkloadIdentityTokenCredential(self.checked(credentials, WorkloadIdentityCredentials))

    def _record(self, credentials: object) -> WorkloadIdentityCredentials | None:
        from ..auth.workload_identity import WorkloadIdentityCredentials

        return self.own(credentials, WorkloadIdentityCredentials)

    def principal(self, credentials: Credentials) -> str:
        record = self._record(credentials)
        return f"the identity of app {record.client_id if record else '?'} (workload identity federation)"

    def cloud_of(self, credentials: Credentials) -> str | None:
        record = self._record(credentials)
        return record.cloud if record else None

    def tenant_of(self, credentials: Credentials) -> str | None:
        record = self._record(credentials)
        return record.tenant_id if record else None
