"""Names of the environment variables and the fixed OAuth callback path (import-light)."""

from __future__ import annotations

from .records import InstanceSetting

CLIENT_ID_ENV = "INF_APP_CONNECTION_AZURE_APP_CONFIGURATION_CLIENT_ID"
CLIENT_SECRET_ENV = "INF_APP_CONNECTION_AZURE_APP_CONFIGURATION_CLIENT_SECRET"
SITE_URL_ENV = "SITE_URL"
ENDPOINT_ALLOWLIST_ENV = "INF_APP_CONNECTION_AZURE_APP_CONFIGURATION_ALLOWED_HOSTS"
CALLBACK_PATH = "/organization/app-connections/azure/oauth/callback"
PERMISSIONS = ("KeyValue.Read", "KeyValue.Write", "KeyValue.Delete")

INSTANCE_SETTINGS: tuple[InstanceSetting, ...] = (
    InstanceSetting(
        CLIENT_ID_ENV,
        "App registration client ID",
        "Application (client) ID of the instance's Azure app registration (a GUID).",
        required_by=("oauth",),
    ),
    InstanceSetting(
        CLIENT_SECRET_ENV,
        "App registration client secret",
        "A client secret Value of that app registration.",
        secret=True,
        required_by=("oauth",),
    ),
    InstanceSetting(
        SITE_URL_ENV,
        "Site URL",
        "Public base URL of this instance; the OAuth redirect URI is built from it.",
        required_by=("oauth",),
    ),
)
