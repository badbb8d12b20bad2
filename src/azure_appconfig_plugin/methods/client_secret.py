"""``client-secret``: a service principal (tenant, client ID, client secret). Import-light."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from app_connections.declared import DeclaredAuthMethod
from app_connections.records import Credentials, RotateCallback

from .names import CONNECTION_TYPE, MICROSOFT_ENTRA

if TYPE_CHECKING:
    from azure.core.credentials import TokenCredential

    from ..schema import ClientSecretCredentials


class ClientSecretMethod(DeclaredAuthMethod):
    """Authenticate as a service principal (tenant, client ID, client secret)."""

    slug = "client-secret"
    name = "Client secret"
    description = "Authenticate as a service principal with a client secret."
    connection_type = CONNECTION_TYPE
    declarations = ".client_secret_fields"
    title = "Azure App Configuration: client secret"
    identity_provider = MICROSOFT_ENTRA

    @property
    def credentials_type(self) -> type:
        from ..schema import ClientSecretCredentials

        return ClientSecretCredentials

    def credentials_from(self, values: dict[str, Any]) -> ClientSecretCredentials:
        from ..schema import ClientSecretCredentials

        return ClientSecretCredentials(**values)

    def token_credential(
        self, credentials: Credentials, *, on_rotate: RotateCallback | None = None, **_: Any
    ) -> TokenCredential:
        from ..auth.credential import ClientSecretTokenCredential
        from ..schema import ClientSecretCredentials

        return ClientSecretTokenCredential(self.checked(credentials, ClientSecretCredentials))

    def _record(self, credentials: object) -> ClientSecretCredentials | None:
        from ..schema import ClientSecretCredentials

        return self.own(credentials, ClientSecretCredentials)

    def principal(self, credentials: Credentials) -> str:
        record = self._record(credentials)
        return f"the service principal of app {record.client_id if record else '?'}"

    def cloud_of(self, credentials: Credentials) -> str | None:
        record = self._record(credentials)
        return record.cloud if record else None

    def tenant_of(self, credentials: Credentials) -> str | None:
        record = self._record(credentials)
        return record.tenant_id if record else None
