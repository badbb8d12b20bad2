"""``managed-identity``: the Azure host's own identity (system-assigned), or one user-assigned
identity by clientId, resourceId or objectId. No secret. Import-light."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..fields import Field, OneOf
from ..records import Credentials, RotateCallback
from .base import DeclaredAuthMethod
from .common import CLIENT_ID, CLOUD, CONNECTION_TYPE, GUID

if TYPE_CHECKING:  # pragma: no cover
    from azure.core.credentials import TokenCredential

    from ..auth.managed_identity import ManagedIdentityCredentials

_ONE = " Give at most one of clientId, resourceId and objectId; none means the system-assigned identity."
MI_CLIENT_ID = CLIENT_ID.replace(
    required=False,
    description="Client ID of a user-assigned managed identity assigned to this host (its Overview page)." + _ONE,
    pattern_message="must be a GUID: the Client ID on the managed identity's Overview page",
)
RESOURCE_ID = Field(
    "resourceId",
    title="Resource ID",
    description=("Resource ID of a user-assigned managed identity: /subscriptions/<id>/resourceGroups/<group>/providers/"
                 "Microsoft.ManagedIdentity/userAssignedIdentities/<name>." + _ONE),
    strip=True,
    pattern=(r"/subscriptions/[^/\s]+/[Rr]esource[Gg]roups/[^/\s]+/providers/[Mm]icrosoft\.[Mm]anaged[Ii]dentity/"
             r"[Uu]ser[Aa]ssigned[Ii]dentities/[^/\s]+"),
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
AT_MOST_ONE = OneOf(("clientId",), ("resourceId",), ("objectId",), optional=True)


class ManagedIdentityMethod(DeclaredAuthMethod):
    """The host's managed identity (MSAL's managed-identity client). Works only on Azure hosts."""

    slug = "managed-identity"
    name = "Managed identity"
    description = ("Authenticate as the Azure host's managed identity: system-assigned (no field), or user-assigned by "
                   "clientId, resourceId or objectId. Works only where Azure provides an identity endpoint.")
    connection_type = CONNECTION_TYPE
    identity_provider = "the host's managed identity endpoint"
    input_fields = (MI_CLIENT_ID, RESOURCE_ID, OBJECT_ID, CLOUD)
    input_choices = (AT_MOST_ONE,)

    @property
    def credentials_type(self) -> type:
        from ..auth.managed_identity import ManagedIdentityCredentials

        return ManagedIdentityCredentials

    def credentials_from(self, values: dict[str, Any]) -> ManagedIdentityCredentials:
        from ..auth.managed_identity import ManagedIdentityCredentials

        return ManagedIdentityCredentials(**values)

    def token_credential(
        self, credentials: Credentials, *, on_rotate: RotateCallback | None = None, timeout: Any = None, **_: Any
    ) -> TokenCredential:
        """``timeout``: ``(connect, read)`` seconds for the identity endpoint (default 2 s / 15 s)."""
        from ..auth.managed_identity import ManagedIdentityTokenCredential
        from ..errors import FieldError, InvalidInput

        if not isinstance(credentials, self.credentials_type):
            raise InvalidInput(errors=[FieldError("credentials", "managed-identity needs ManagedIdentityCredentials "
                                                  f"(from parse() or load()), not {type(credentials).__name__}")])
        return ManagedIdentityTokenCredential(credentials, **({"timeout": tuple(timeout)} if timeout else {}))  # type: ignore[arg-type]

    def principal(self, credentials: Any) -> str:
        describe = getattr(credentials, "describe", None)
        return describe() if callable(describe) else "the managed identity"
