"""``managed-identity``: the Azure host's own identity (system-assigned), or one user-assigned
identity by clientId, resourceId or objectId: its fields, credentials record and the method. No
secret. Import-light."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from app_connections.declared import DeclaredAuthMethod
from app_connections.fields import Field, OneOf
from app_connections.records import Credentials, RotateCallback
from app_connections.stored_record import StoredRecord

from .common import CLIENT_ID, CLOUD, GUID
from .names import CONNECTION_TYPE

if TYPE_CHECKING:
    from azure.core.credentials import TokenCredential

_ONE = " Give at most one of clientId, resourceId and objectId; none means the system-assigned identity."
MI_CLIENT_ID = CLIENT_ID.replace(
    required=False,
    description="Client ID of a user-assigned managed identity assigned to this host (its Overview page)." + _ONE,
    pattern_message="must be a GUID: the Client ID on the managed identity's Overview page",
)
RESOURCE_ID = Field(
    "resourceId",
    title="Resource ID",
    description=(
        "Resource ID of a user-assigned managed identity: /subscriptions/<id>/resourceGroups/<group>/providers/"
        "Microsoft.ManagedIdentity/userAssignedIdentities/<name>." + _ONE
    ),
    strip=True,
    pattern=(
        r"/subscriptions/[^\/\s]+/[Rr]esource[Gg]roups/[^\/\s]+/providers/[Mm]icrosoft\.[Mm]anaged[Ii]dentity/"
        r"[Uu]ser[Aa]ssigned[Ii]dentities/[^\/\s]+"
    ),
    pattern_message="must be a user-assigned identity's resource ID (/subscriptions/.../userAssignedIdentities/<name>)",
    max_length=1024,
)
OBJECT_ID = Field(
    "objectId",
    title="Object (principal) ID",
    description="Object (principal) ID of a user-assigned managed identity." + _ONE,
    strip=True,
    pattern=GUID,
    pattern_message="must be a GUID: the Object (principal) ID of the managed identity",
    max_length=64,
)
USER_ASSIGNED = (MI_CLIENT_ID, RESOURCE_ID, OBJECT_ID)
"""The ways to name a user-assigned identity (at most one is given)."""
AT_MOST_ONE = OneOf(
    *((f.name,) for f in USER_ASSIGNED),
    optional=True,
    titles=("User-assigned, by client ID", "User-assigned, by resource ID", "User-assigned, by object ID"),
    none_title="System-assigned identity",
)
INPUT_FIELDS: tuple[Field, ...] = (*USER_ASSIGNED, CLOUD)
INPUT_CHOICES = (AT_MOST_ONE,)


class ManagedIdentityCredentials(StoredRecord, fields=INPUT_FIELDS, method="managed-identity", unstored=("env",)):
    """The host's system-assigned identity (no field), or one user-assigned identity. ``env`` (not
    stored) names the identity endpoint: the host policy's when parsed or loaded; None: the policy
    in effect when the token credential is made."""

    client_id: str | None
    resource_id: str | None
    object_id: str | None
    cloud: str
    env: Mapping[str, str] | None

    @property
    def user_assigned(self) -> tuple[str, str] | None:
        """``(field, value)`` of the user-assigned identity, None for the system-assigned one."""
        for field in USER_ASSIGNED:
            value = getattr(self, field.attr)
            if value:
                return field.name, str(value)
        return None

    def describe(self) -> str:
        """The identity, for messages."""
        found = self.user_assigned
        return (
            f"the user-assigned managed identity ({found[0]} {found[1]})"
            if found
            else "the system-assigned managed identity of this host"
        )


class ManagedIdentityMethod(DeclaredAuthMethod):
    """The host's managed identity (MSAL's managed-identity client). Works only on Azure hosts."""

    slug = "managed-identity"
    name = "Managed identity"
    description = (
        "Authenticate as the Azure host's managed identity: system-assigned (no field), or user-assigned by "
        "clientId, resourceId or objectId. Works only where Azure provides an identity endpoint."
    )
    connection_type = CONNECTION_TYPE
    identity_provider = "the host's managed identity endpoint"
    ambient_identity = "always"  # any identity it names is one the host holds
    input_fields = INPUT_FIELDS
    input_choices = INPUT_CHOICES
    record = ManagedIdentityCredentials

    def credentials_from(self, values: dict[str, object]) -> ManagedIdentityCredentials:
        """The record, with the host policy's environment (where the identity endpoint is named)."""
        from app_connections import policy as policies

        return ManagedIdentityCredentials(**values, env=policies.current().env)

    def token_credential(
        self,
        credentials: Credentials,
        *,
        on_rotate: RotateCallback | None = None,
        timeout: object = None,
        **_: object,
    ) -> TokenCredential:
        """``timeout``: ``(connect, read)`` seconds for the identity endpoint (default 2 s / 15 s)."""
        from ..auth.managed_identity import ManagedIdentityTokenCredential

        checked = self.checked(credentials, ManagedIdentityCredentials)
        if not timeout:
            return ManagedIdentityTokenCredential(checked, env=checked.env)
        if not isinstance(timeout, (tuple, list)) or len(timeout) != 2:
            from ..errors import FieldError, InvalidInput

            raise InvalidInput(errors=[FieldError("timeout", "must be (connect, read): two numbers of seconds")])
        connect, read = timeout
        return ManagedIdentityTokenCredential(checked, timeout=(float(connect), float(read)), env=checked.env)

    def principal(self, credentials: Credentials) -> str:
        """The identity, described (``the system-assigned managed identity of this host``)."""
        record = self.own(credentials, ManagedIdentityCredentials)
        return record.describe() if record else "the managed identity"

    def cloud_of(self, credentials: Credentials) -> str | None:
        """The record's cloud slug (None for another method's record)."""
        record = self.own(credentials, ManagedIdentityCredentials)
        return record.cloud if record else None
