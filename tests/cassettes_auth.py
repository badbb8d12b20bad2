"""Identity-platform cassettes (client credentials, authorization code, refresh, clouds)."""

from __future__ import annotations

import hashlib
from typing import Any

from app_connections.testing import fakes
from cassette_factory import (
    PUBLIC,
    TENANT,
    client_credentials_error,
    client_credentials_ok,
    openid_configuration,
    openid_configuration_error,
    user_token_error,
    user_token_ok,
    write,
)

# Deterministic "random" tokens for begin(): state, nonce, and two halves of the PKCE verifier.
OAUTH_TOKENS = ("S" * 43, "N" * 43, "V" * 43, "W" * 43)
OAUTH_STATE = OAUTH_TOKENS[0]
OAUTH_NONCE = OAUTH_TOKENS[1]
NONCE_HASH = hashlib.sha256(OAUTH_NONCE.encode()).hexdigest()
REDIRECT_URI = fakes.FAKE_SITE_URL + "/organization/app-connections/azure/oauth/callback"
UNKNOWN_TENANT = fakes.FAKE_UNKNOWN_TENANT_ID
CODE = {"code": fakes.REDACTED, "redirect_uri": REDIRECT_URI, "code_verifier": fakes.REDACTED}
REFRESH = {"refresh_token": fakes.FAKE_REFRESH_TOKEN + "-1"}


def build() -> None:
    # --- client credentials -----------------------------------------------------------------
    write("client_secret_token.yaml", [openid_configuration(), client_credentials_ok()])
    write(
        "client_secret_invalid_secret.yaml",
        [
            openid_configuration(),
            client_credentials_error(
                401,
                "Unauthorized",
                "invalid_client",
                7000215,
                "Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '22222222-2222-2222-2222-222222222222'.",
            ),
        ],
    )
    write(
        "client_secret_expired_secret.yaml",
        [
            openid_configuration(),
            client_credentials_error(
                401,
                "Unauthorized",
                "invalid_client",
                7000222,
                "The provided client secret keys for app '22222222-2222-2222-2222-222222222222' are expired. Visit the Azure portal to create new keys for your app: https://aka.ms/NewClientSecret, or consider using certificate credentials for added security: https://aka.ms/certCreds.",
            ),
        ],
    )
    write(
        "client_secret_app_not_found.yaml",
        [
            openid_configuration(),
            client_credentials_error(
                400,
                "Bad Request",
                "unauthorized_client",
                700016,
                f"Application with identifier '{fakes.FAKE_CLIENT_ID}' was not found in the directory 'Contoso'. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You may have sent your authentication request to the wrong tenant.",
            ),
        ],
    )
    write("client_secret_tenant_not_found.yaml", [openid_configuration_error(PUBLIC, UNKNOWN_TENANT)])
    write(
        "client_secret_throttled.yaml",
        [
            openid_configuration(),
            client_credentials_error(
                429,
                "Too Many Requests",
                "temporarily_unavailable",
                90055,
                "The service is temporarily unavailable because of too many incoming requests. Please retry later.",
                extra_headers={"Retry-After": "0"},
            ),
        ],
    )
    write(
        "client_secret_server_error.yaml",
        [
            openid_configuration(),
            client_credentials_error(
                503,
                "Service Unavailable",
                "temporarily_unavailable",
                90033,
                "A transient error has occurred. Please try again.",
                extra_headers={"Retry-After": "0"},
            ),
        ],
    )
    write(
        "client_secret_usgov.yaml",
        [
            openid_configuration("login.microsoftonline.us"),
            _cloud_token("login.microsoftonline.us", "https://azconfig.azure.us/.default"),
        ],
    )
    write(
        "client_secret_china.yaml",
        [
            openid_configuration("login.partner.microsoftonline.cn"),
            _cloud_token("login.partner.microsoftonline.cn", "https://azconfig.azure.cn/.default"),
        ],
    )

    # --- authorization code -----------------------------------------------------------------
    write(
        "oauth_complete_organizations.yaml",
        [
            openid_configuration(tenant="organizations"),
            user_token_ok(
                "authorization_code",
                tenant_path="organizations",
                nonce=NONCE_HASH,
                access="fake-access-token-1",
                refresh="fake-refresh-token-1",
                **CODE,
            ),
        ],
    )
    write(
        "oauth_complete_tenant.yaml",
        [
            openid_configuration(),
            user_token_ok(
                "authorization_code",
                tenant_path=TENANT,
                nonce=NONCE_HASH,
                access="fake-access-token-1",
                refresh="fake-refresh-token-1",
                **CODE,
            ),
        ],
    )
    write(
        "oauth_complete_wrong_nonce.yaml",
        [
            openid_configuration(),
            user_token_ok(
                "authorization_code",
                tenant_path=TENANT,
                nonce=hashlib.sha256(b"another-flow").hexdigest(),
                access="fake-access-token-1",
                refresh="fake-refresh-token-1",
                **CODE,
            ),
        ],
    )
    write(
        "oauth_code_redeemed.yaml",
        [
            openid_configuration(),
            user_token_error(
                "authorization_code",
                tenant_path=TENANT,
                status=400,
                error="invalid_grant",
                aadsts=54005,
                text="OAuth2 Authorization code was already redeemed, please retry with a new valid code or use an existing refresh token.",
                with_uri=False,
                **CODE,
            ),
        ],
    )
    write(
        "oauth_code_expired.yaml",
        [
            openid_configuration(),
            user_token_error(
                "authorization_code",
                tenant_path=TENANT,
                status=400,
                error="invalid_grant",
                aadsts=70008,
                text="The provided authorization code or refresh token has expired due to inactivity. Send a new interactive authorization request for this user and resource.",
                **CODE,
            ),
        ],
    )
    write(
        "oauth_code_consent_required.yaml",
        [
            openid_configuration(),
            user_token_error(
                "authorization_code",
                tenant_path=TENANT,
                status=400,
                error="invalid_grant",
                aadsts=65001,
                text=f"The user or administrator has not consented to use the application with ID '{fakes.FAKE_INSTANCE_CLIENT_ID}' named 'Secrets Platform'. Send an interactive authorization request for this user and resource.",
                suberror="consent_required",
                **CODE,
            ),
        ],
    )
    write(
        "oauth_code_redirect_mismatch.yaml",
        [
            openid_configuration(),
            user_token_error(
                "authorization_code",
                tenant_path=TENANT,
                status=400,
                error="invalid_request",
                aadsts=50011,
                text=f"The redirect URI '{REDIRECT_URI}' specified in the request does not match the redirect URIs configured for the application '{fakes.FAKE_INSTANCE_CLIENT_ID}'. Make sure the redirect URI sent in the request matches one added to your application in the Azure portal. Navigate to https://aka.ms/redirectUriMismatchError to learn more about how to fix this.",
                **CODE,
            ),
        ],
    )

    # --- refresh ------------------------------------------------------------------------------
    write(
        "oauth_refresh_rotates.yaml",
        [
            openid_configuration(),
            user_token_ok(
                "refresh_token",
                tenant_path=TENANT,
                nonce=None,
                access="fake-access-token-2",
                refresh="fake-refresh-token-2",
                **REFRESH,
            ),
        ],
    )
    for name, code, text, sub in (
        (
            "oauth_refresh_expired.yaml",
            700082,
            "The refresh token has expired due to inactivity. The token was issued on 2026-08-01T09:00:00.0000000Z and was inactive for 90.00:00:00.",
            None,
        ),
        (
            "oauth_refresh_code_expired.yaml",
            70008,
            "The provided authorization code or refresh token has expired due to inactivity. Send a new interactive authorization request for this user and resource.",
            None,
        ),
        (
            "oauth_refresh_consent_revoked.yaml",
            65001,
            f"The user or administrator has not consented to use the application with ID '{fakes.FAKE_INSTANCE_CLIENT_ID}' named 'Secrets Platform'. Send an interactive authorization request for this user and resource.",
            "consent_required",
        ),
        (
            "oauth_refresh_revoked.yaml",
            50173,
            "The provided grant has expired due to it being revoked, a fresh auth token is needed. The user might have changed or reset their password.",
            "bad_token",
        ),
    ):
        write(
            name,
            [
                openid_configuration(),
                user_token_error(
                    "refresh_token",
                    tenant_path=TENANT,
                    status=400,
                    error="invalid_grant",
                    aadsts=code,
                    text=text,
                    suberror=sub,
                    **REFRESH,
                ),
            ],
        )


def _cloud_token(host: str, scope: str) -> dict[str, Any]:
    return client_credentials_ok(host=host, scope=scope)
