"""``managed-identity``: the Azure host's own identity (system-assigned), or one user-assigned
identity by clientId, resourceId or objectId. No secret. Import-light."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from app_connections.declared import DeclaredAuthMethod
from app_connections.records import Credentials, RotateCallback

from .names import CONNECTION_TYPE

if TYPE_CHECKING:
    from azure.core.credentials import TokenCredential

    from ..auth.managed_identity import ManagedIdentityCredentials


class ManagedIdentityMethod(DeclaredAuthMethod):
    """The host's managed identity (MSAL's managed-identity client). Works only on Azure hosts."""

    slug = "managed-identity"
    name = "Managed identity"
    description = (
        "Authenticate as the Azure host's managed identity: system-assigned (no field), or user-assigned by "
        "clientId, resourceId or objectId. Works only where Azure provides an identity endpoint."
    )
    connection_type = CONNECTION_TYPE
    declarations = ".managed_identity_fields"
    identity_provider = "the host's managed identity endpoint"
    ambient_identity = "always"  # any identity it names is one the host holds

    @property
    def credentials_type(self) -> type:
        from ..auth.managed_identity import ManagedIdentityCredentials

        return ManagedIdentityCredentials

    def credentials_from(self, values: dict[str, Any]) -> ManagedIdentityCredentials:
        from app_connections import policy as policies

        from ..auth.managed_identity import ManagedIdentityCredentials

        return ManagedIdentityCredentials(**values, env=policies.current().env)

    def token_credential(
        self, credentials: Credentials, *, on_rotate: RotateCallback | None = None, timeout: Any = None, **_: Any
    ) -> TokenCredential:
        """``timeout``: ``(connect, read)`` seconds for the identity endpoint (default 2 s / 15 s)."""
        from ..auth.managed_identity import ManagedIdentityCredentials, ManagedIdentityTokenCredential

        checked = self.checked(credentials, ManagedIdentityCredentials)
        if not timeout:
            return ManagedIdentityTokenCredential(checked, env=checked.env)
        connect, read = timeout
        return ManagedIdentityTokenCredential(checked, timeout=(float(connect), float(read)), env=checked.env)

    def _record(self, credentials: object) -> ManagedIdentityCredentials | None:
        from ..auth.managed_identity import ManagedIdentityCredentials

        return self.own(credentials, ManagedIdentityCredentials)

    def principal(self, credentials: Credentials) -> str:
        record = self._record(credentials)
        return record.describe() if record else "the managed identity"

    def cloud_of(self, credentials: Credentials) -> str | None:
        record = self._record(credentials)
        return record.cloud if record else None
