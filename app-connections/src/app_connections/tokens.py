"""Reading (never verifying) token-shaped text: base64url JSON segments and a JWT's claims.

For messages and sanitizing only: nothing here decides whether a token is valid.
"""

from __future__ import annotations

import base64
import json

JsonObject = dict[str, object]
"""A decoded JSON object."""


def b64url_json(segment: str) -> JsonObject | None:
    """Decode an unpadded base64url JSON object (a JWT segment, MSAL's client_info), or None."""
    try:
        value = json.loads(base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4)))
    except ValueError:  # binascii.Error and JSONDecodeError are ValueErrors
        return None
    return value if isinstance(value, dict) else None


def jwt_claims(token: str) -> JsonObject:
    """A JWT's payload claims, unverified (for messages only); {} when it is not a JWT."""
    parts = token.split(".")
    return (b64url_json(parts[1]) or {}) if len(parts) == 3 else {}
