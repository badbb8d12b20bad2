"""``client-secret``: a service principal (tenant, client ID, client secret): its fields, its
credentials record and the method. Import-light."""

from __future__ import annotations

from typing import TYPE_CHECKING

from app_connections.declared import DeclaredAuthMethod
from app_connections.fields import Field
from app_connections.records import Credentials, RotateCallback
from app_connections.stored_record import StoredRecord

from .common import CLIENT_ID, CLIENT_SECRET, CLOUD, TENANT
from .names import CONNECTION_TYPE, MICROSOFT_ENTRA

if TYPE_CHECKING:
    from azure.core.credentials import TokenCredential

INPUT_FIELDS: tuple[Field, ...] = (TENANT, CLIENT_ID, CLIENT_SECRET, CLOUD)


class ClientSecretCredentials(StoredRecord, fields=INPUT_FIELDS, method="client-secret"):
    """What the client-secret form yields and a host stores (the secret never in ``repr``)."""

    tenant_id: str
    client_id: str
    client_secret: str
    cloud: str


class ClientSecretMethod(DeclaredAuthMethod):
    """Authenticate as a service principal (tenant, client ID, client secret)."""

    slug = "client-secret"
    name = "Client secret"
    description = "Authenticate as a service principal with a client secret."
    connection_type = CONNECTION_TYPE
    title = "Azure App Configuration: client secret"
    identity_provider = MICROSOFT_ENTRA
    input_fields = INPUT_FIELDS
    record = ClientSecretCredentials

    def token_credential(
        self, credentials: Credentials, *, on_rotate: RotateCallback | None = None, **_: object
    ) -> TokenCredential:
        """The service principal's token credential (MSAL client credentials with the secret)."""
        from ..auth.credential import ClientSecretTokenCredential

        return ClientSecretTokenCredential(self.checked(credentials, ClientSecretCredentials))

    def principal(self, credentials: Credentials) -> str:
        """``the service principal of app <client ID>``."""
        record = self.own(credentials, ClientSecretCredentials)
        return f"the service principal of app {record.client_id if record else '?'}"

    def cloud_of(self, credentials: Credentials) -> str | None:
        """The record's cloud slug (None for another method's record)."""
        record = self.own(credentials, ClientSecretCredentials)
        return record.cloud if record else None

    def tenant_of(self, credentials: Credentials) -> str | None:
        """The record's tenant (None for another method's record)."""
        record = self.own(credentials, ClientSecretCredentials)
        return record.tenant_id if record else None
