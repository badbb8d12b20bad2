"""Placeholder identities and fake tokens used in cassettes and tests."""

from __future__ import annotations

import base64
import json

from ..jsontypes import JSONInput, JSONObject

FAKE_TENANT_ID = "11111111-1111-1111-1111-111111111111"
FAKE_CLIENT_ID = "22222222-2222-2222-2222-222222222222"
"""The service principal of client-secret tests."""
FAKE_INSTANCE_CLIENT_ID = "33333333-3333-3333-3333-333333333333"
"""The instance app registration of oauth tests."""
FAKE_OBJECT_ID = "44444444-4444-4444-4444-444444444444"
FAKE_UNKNOWN_TENANT_ID = "55555555-5555-5555-5555-555555555555"
"""A tenant that does not exist (tenant-not-found cases)."""
FAKE_CLIENT_SECRET = "fake-client-secret"
FAKE_INSTANCE_CLIENT_SECRET = "fake-instance-client-secret"
FAKE_STORE_NAME = "contoso-appconfig"
FAKE_STORE_ENDPOINT = f"https://{FAKE_STORE_NAME}.azconfig.io"
FAKE_SITE_URL = "https://secrets.example.com"
FAKE_ACCESS_TOKEN = "fake-access-token"
FAKE_REFRESH_TOKEN = "fake-refresh-token"
FAKE_AUTH_CODE = "fake-authorization-code"
REDACTED = "REDACTED"

PLACEHOLDER_GUIDS = frozenset(
    {FAKE_TENANT_ID, FAKE_CLIENT_ID, FAKE_INSTANCE_CLIENT_ID, FAKE_OBJECT_ID, FAKE_UNKNOWN_TENANT_ID}
)
PLACEHOLDER_GUID_PREFIX = "00000000-0000-0000-0000-"
"""Sanitized correlation and trace IDs keep their uniqueness under this prefix."""


def is_placeholder_guid(value: str) -> bool:
    """True for a GUID the test kit uses as a fake (safe to keep in a cassette)."""
    value = value.lower()
    return value in PLACEHOLDER_GUIDS or value.startswith(PLACEHOLDER_GUID_PREFIX)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def fake_jwt(claims: JSONInput) -> str:
    """An unsigned JWT (``alg: none``, empty signature). Azure never issues unsigned tokens,
    so the secret scan can tell these fakes from real tokens."""
    header = {"typ": "JWT", "alg": "none"}
    encoded = (_b64(json.dumps(part, separators=(",", ":")).encode()) for part in (header, claims))
    return ".".join(encoded) + "."


def fake_client_info(uid: str = FAKE_OBJECT_ID, utid: str = FAKE_TENANT_ID) -> str:
    """A fake ``client_info`` (base64url JSON of ``uid`` and ``utid``) as Entra returns it."""
    return _b64(json.dumps({"uid": uid, "utid": utid}).encode())


def fake_id_token(
    *,
    tenant_id: str = FAKE_TENANT_ID,
    client_id: str = FAKE_INSTANCE_CLIENT_ID,
    nonce: str | None = None,
    login_host: str = "login.microsoftonline.com",
    issued_at: int = 1767225600,
) -> str:
    """A fake, unsigned ID token with the claims MSAL reads."""
    claims: JSONObject = {
        "aud": client_id,
        "iss": f"https://{login_host}/{tenant_id}/v2.0",
        "iat": issued_at,
        "nbf": issued_at,
        "exp": issued_at + 3600,
        "name": "Test User",
        "oid": FAKE_OBJECT_ID,
        "preferred_username": "test.user@contoso.example",
        "sub": "fake-subject",
        "tid": tenant_id,
        "ver": "2.0",
    }
    if nonce is not None:
        claims["nonce"] = nonce
    return fake_jwt(claims)
