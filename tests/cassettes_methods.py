"""Cassettes of the certificate, workload-identity, managed-identity and access-key methods.

Token requests of the certificate and workload-identity methods are client-credentials grants
with a client assertion (``client_assertion_type=urn:ietf:params:oauth:client-assertion-type:jwt-bearer``);
the assertion is ``REDACTED`` as the sanitizer writes it. Access-key requests carry no token:
the SDK signs each one (``Authorization: HMAC-SHA256 ...``, dropped from cassettes like every
``Authorization`` header).
"""

from __future__ import annotations

from typing import Any

from app_connections.testing import fakes
from cassette_factory import (
    PUBLIC,
    TENANT,
    aad_error_body,
    openid_configuration,
    token_request_body,
    token_response,
    write,
)
from cassettes_store import ACCESS_JWT, delete_precondition, put_precondition, read

SCOPE = "https://azconfig.io/.default"
JWT_BEARER = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"


def assertion_request() -> str:
    return token_request_body(
        "client_credentials",
        fakes.FAKE_CLIENT_ID,
        SCOPE,
        client_assertion=fakes.REDACTED,
        client_assertion_type=JWT_BEARER,
    )


def assertion_ok(token: str = fakes.FAKE_ACCESS_TOKEN) -> dict[str, Any]:
    body = {"token_type": "Bearer", "expires_in": 3599, "ext_expires_in": 3599, "access_token": token}
    return token_response(PUBLIC, TENANT, body, assertion_request())


def assertion_error(status: int, error: str, code: int, text: str) -> dict[str, Any]:
    message = {400: "Bad Request", 401: "Unauthorized"}[status]
    return token_response(PUBLIC, TENANT, aad_error_body(error, code, text), assertion_request(), status, message)


def build() -> None:
    cid = fakes.FAKE_CLIENT_ID
    # --- certificate ----------------------------------------------------------------------------
    write("certificate_token.yaml", [openid_configuration(), assertion_ok()])
    write(
        "certificate_not_uploaded.yaml",
        [
            openid_configuration(),
            assertion_error(
                401,
                "invalid_client",
                700027,
                "Client assertion contains an invalid signature. [Reason - The key was not found., Thumbprint of key "
                "used by "
                "client: 'FAKE0THUMBPRINT0000000000000000000000000', Please visit the Azure Portal, Graph Explorer "
                "or directly "
                f"use MS Graph to see configured keys for app Id '{cid}'. Review the documentation at "
                "https://docs.microsoft.com/en-us/graph/deployments to determine the corresponding service endpoint "
                "and "
                "https://docs.microsoft.com/en-us/graph/api/application-get?view=graph-rest-1.0&tabs=http to build a "
                "query "
                f"request URL, such as 'https://graph.microsoft.com/beta/applications/{cid}']",
            ),
        ],
    )
    write(
        "certificate_clock_skew.yaml",
        [
            openid_configuration(),
            assertion_error(
                400,
                "invalid_client",
                700024,
                "Client assertion is not within its valid time range. Current time: 2026-11-27T09:00:00.0000000Z, "
                "assertion "
                "valid from 2026-11-27T10:00:00.0000000Z, expiry time of assertion 2026-11-27T10:10:00.0000000Z. "
                "Review the "
                "documentation at "
                "https://docs.microsoft.com/azure/active-directory/develop/active-directory-certificate-credentials .",
            ),
        ],
    )
    write(
        "certificate_store_healthy.yaml",
        [openid_configuration(), assertion_ok(ACCESS_JWT), read(), put_precondition(412), delete_precondition(412)],
    )

    # --- workload identity ------------------------------------------------------------------------
    write("workload_identity_token.yaml", [openid_configuration(), assertion_ok()])
    write(
        "workload_identity_token_twice.yaml",
        [openid_configuration(), assertion_ok(), assertion_ok("fake-access-token-2")],
    )
    write(
        "workload_identity_no_match.yaml",
        [
            openid_configuration(),
            assertion_error(
                400,
                "invalid_request",
                70021,
                "No matching federated identity record found for presented assertion. Assertion Issuer: "
                "'https://oidc.prod-aks.azure.com/00000000-0000-0000-0000-0000000000aa/'. Assertion Subject: "
                "'system:serviceaccount:default:workload-identity-sa'. Assertion Audience: "
                "'api://AzureADTokenExchange'. "
                "https://docs.microsoft.com/en-us/azure/active-directory/develop/workload-identity-federation",
            ),
        ],
    )
    write(
        "workload_identity_expired.yaml",
        [
            openid_configuration(),
            assertion_error(
                400,
                "invalid_client",
                700024,
                "Client assertion is not within its valid time range. Current time: 2026-11-27T09:00:00.0000000Z, "
                "assertion "
                "valid from 2026-11-27T07:00:00.0000000Z, expiry time of assertion 2026-11-27T08:00:00.0000000Z. "
                "Review the "
                "documentation at "
                "https://docs.microsoft.com/azure/active-directory/develop/active-directory-certificate-credentials .",
            ),
        ],
    )
    write(
        "workload_identity_store_healthy.yaml",
        [openid_configuration(), assertion_ok(ACCESS_JWT), read(), put_precondition(412), delete_precondition(412)],
    )

    # --- access key (HMAC-SHA256; no identity platform) ---------------------------------------------
    write("access_key_store_healthy.yaml", [read(), put_precondition(412), delete_precondition(412)])
    write("access_key_read_only.yaml", [read(), put_precondition(403), delete_precondition(403)])
    write(
        "access_key_rejected.yaml",
        [
            read(
                401,
                {
                    "WWW-Authenticate": 'HMAC-SHA256 error="invalid_token", '
                    'error_description="Invalid Credential", Bearer'
                },
            )
        ],
    )
