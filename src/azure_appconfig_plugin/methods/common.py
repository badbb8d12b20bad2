"""The field declarations of the Azure App Configuration methods (each field declared once).

Imported at registration by the method modules (the kit's ``fields`` only), and by ``auth.oauth``
for the cloud's default.
"""

from __future__ import annotations

from app_connections.fields import Field

CLOUD_SLUGS = ("public", "usgov", "china")
"""The slugs of ``clouds.CLOUDS`` (kept here so registration does not import attrs; a test keeps them equal)."""

GUID = r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
DOMAIN = r"(?:[a-zA-Z0-9](?:[a-zA-Z0-9\-]{0,61}[a-zA-Z0-9])?\.)+[a-zA-Z]{2,63}"

TENANT = Field(
    "tenantId",
    title="Tenant ID",
    description=(
        "Directory (tenant) ID of your Microsoft Entra tenant: a GUID, or a verified domain "
        "such as contoso.onmicrosoft.com."
    ),
    required=True,
    strip=True,
    pattern=f"{GUID}|{DOMAIN}",
    pattern_message="must be a tenant GUID or a verified domain such as contoso.onmicrosoft.com",
    max_length=253,
    examples=("00000000-0000-0000-0000-000000000000", "contoso.onmicrosoft.com"),
)
CLIENT_ID = Field(
    "clientId",
    title="Client ID",
    description="Application (client) ID of the service principal's app registration (a GUID).",
    required=True,
    strip=True,
    pattern=GUID,
    pattern_message="must be a GUID: the Application (client) ID from the app registration's Overview page",
    max_length=64,
)
CLOUD = Field(
    "cloud",
    title="Azure cloud",
    description="The Azure cloud the tenant and store live in.",
    enum=CLOUD_SLUGS,
    default="public",
)
SECRET_MAX_LENGTH = 1024
CLIENT_SECRET = Field(
    "clientSecret",
    title="Client secret",
    description="The client secret's Value (not its Secret ID), from Certificates & secrets.",
    required=True,
    secret=True,
    min_length=1,
    max_length=SECRET_MAX_LENGTH,
    pattern=r"(?!\s)[^\x00-\x1f\x7f]*(?<!\s)",
    pattern_message=("must be the secret's Value exactly: no leading or trailing whitespace, no control characters"),
)

# --- oauth ---------------------------------------------------------------------------------------

OPTIONAL_TENANT = TENANT.replace(
    required=False,
    description=TENANT.description + " Optional: leave empty to let the user sign in with any work or school account.",
)
REFRESH_TOKEN = Field(
    "refreshToken",
    title="Refresh token",
    description="The refresh token of the user's grant.",
    required=True,
    secret=True,
    min_length=1,
    max_length=16384,
)
ACCESS_TOKEN = Field(
    "accessToken",
    title="Access token",
    description="The last access token (cached).",
    secret=True,
    min_length=1,
    max_length=16384,
)
EXPIRES_ON = Field(
    "expiresOn", type="integer", title="Expires on", description="Unix time the cached access token expires.", minimum=0
)
INSTANCE_CLIENT_ID = CLIENT_ID.replace(
    description="Application (client) ID of the instance app registration the grant was issued to."
)

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
