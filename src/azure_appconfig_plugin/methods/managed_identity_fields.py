"""The field declarations of ``managed-identity`` (each declared once). Imported when a schema or
parser is first needed, not at registration."""

from __future__ import annotations

from app_connections.fields import Field, OneOf

from .common import CLIENT_ID, CLOUD, GUID

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
AT_MOST_ONE = OneOf(
    ("clientId",),
    ("resourceId",),
    ("objectId",),
    optional=True,
    titles=("User-assigned, by client ID", "User-assigned, by resource ID", "User-assigned, by object ID"),
    none_title="System-assigned identity",
)
INPUT_FIELDS = (MI_CLIENT_ID, RESOURCE_ID, OBJECT_ID, CLOUD)
INPUT_CHOICES = (AT_MOST_ONE,)
