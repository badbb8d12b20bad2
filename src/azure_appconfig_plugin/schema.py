"""Credentials records of the built-in client-secret and oauth methods.

The fields, JSON Schemas and parsers are declared in ``methods/`` (``fields.Field``); parse with
``ClientSecretMethod().parse`` / ``OAuthMethod().parse``. JSON property names are camelCase
(``tenantId``, ``clientId``, ``clientSecret``, ``cloud``).
"""

from __future__ import annotations

from typing import Any

import attrs

from .clouds import DEFAULT_CLOUD

# --- records -----------------------------------------------------------------------------


@attrs.frozen
class OAuthInput:
    """What the oauth form collects; ``begin`` turns it into an authorization URL."""

    tenant_id: str | None = None
    cloud: str = DEFAULT_CLOUD.slug
    method: str = attrs.field(default="oauth", init=False)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"method": self.method, "cloud": self.cloud}
        if self.tenant_id:
            out["tenantId"] = self.tenant_id
        return out


@attrs.frozen
class ClientSecretCredentials:
    """What the client-secret form yields and a host stores (the secret never in ``repr``)."""

    tenant_id: str
    client_id: str
    client_secret: str = attrs.field(repr=False)
    cloud: str = DEFAULT_CLOUD.slug
    method: str = attrs.field(default="client-secret", init=False)

    def to_dict(self) -> dict[str, Any]:
        return {
            "method": self.method,
            "tenantId": self.tenant_id,
            "clientId": self.client_id,
            "clientSecret": self.client_secret,
            "cloud": self.cloud,
        }


@attrs.frozen
class OAuthCredentials:
    """What a completed OAuth flow yields and a host stores."""

    tenant_id: str
    client_id: str
    """The instance app registration the grant was issued to."""
    refresh_token: str = attrs.field(repr=False)
    access_token: str | None = attrs.field(default=None, repr=False)
    expires_on: int | None = None
    """Unix time the access token expires."""
    cloud: str = DEFAULT_CLOUD.slug
    method: str = attrs.field(default="oauth", init=False)

    def with_tokens(self, refresh_token: str, access_token: str | None, expires_on: int | None) -> OAuthCredentials:
        return attrs.evolve(self, refresh_token=refresh_token, access_token=access_token, expires_on=expires_on)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "method": self.method,
            "tenantId": self.tenant_id,
            "clientId": self.client_id,
            "refreshToken": self.refresh_token,
            "cloud": self.cloud,
        }
        if self.access_token:
            out["accessToken"] = self.access_token
            out["expiresOn"] = self.expires_on
        return out
