"""Names of the environment variables and the fixed OAuth callback path (import-light)."""

from __future__ import annotations

from app_connections.records import InstanceSetting

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

# Shared stores for hosts with several replicas; optional, read by azure_appconfig_plugin.stores.
REDIS_URL_ENV = "INF_APP_CONNECTION_AZURE_APP_CONFIGURATION_REDIS_URL"
REDIS_KEY_ENV = "INF_APP_CONNECTION_AZURE_APP_CONFIGURATION_REDIS_ENCRYPTION_KEY"
REDIS_SETTINGS: tuple[InstanceSetting, ...] = (
    InstanceSetting(
        REDIS_URL_ENV,
        "Redis URL (several replicas)",
        "redis:// or rediss:// URL of a Redis server shared by every replica: OAuth flows and app-only tokens are "
        "kept there. Unset: a single replica with in-memory flows.",
    ),
    InstanceSetting(
        REDIS_KEY_ENV,
        "Redis encryption key",
        "Comma-separated base64url 32-byte keys sealing what is kept in Redis; the first seals, all open. "
        "Required when the Redis URL is set.",
        secret=True,
    ),
)
INSTANCE_SETTINGS = INSTANCE_SETTINGS + REDIS_SETTINGS
