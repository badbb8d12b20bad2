"""The declarations of the ``oauth`` method: its form and stored fields (declared in
``methods.common``) and the records derived from them, the sign-in input and the credentials.

They are here rather than in ``methods.oauth`` because ``auth.oauth`` builds the records and
``methods.oauth`` imports ``auth``: no module of ``auth`` imports one that imports it back.
``methods.oauth`` reads them on first use (``declarations = "..schema"``), not at registration.
"""

from __future__ import annotations

from app_connections.fields import Field
from app_connections.stored_record import StoredRecord

from .methods.common import ACCESS_TOKEN, CLOUD, EXPIRES_ON, INSTANCE_CLIENT_ID, OPTIONAL_TENANT, REFRESH_TOKEN, TENANT

INPUT_FIELDS: tuple[Field, ...] = (OPTIONAL_TENANT, CLOUD)
STORED_FIELDS: tuple[Field, ...] = (TENANT, INSTANCE_CLIENT_ID, REFRESH_TOKEN, ACCESS_TOKEN, EXPIRES_ON, CLOUD)


class OAuthInput(StoredRecord, fields=INPUT_FIELDS, method="oauth"):
    """What the oauth form collects; ``begin`` turns it into an authorization URL."""

    tenant_id: str | None
    cloud: str


class OAuthCredentials(StoredRecord, fields=STORED_FIELDS, method="oauth"):
    """What a completed OAuth flow yields and a host stores: the grant of the instance app
    registration (``client_id``); ``expires_on`` is the Unix time the access token expires."""

    tenant_id: str
    client_id: str
    refresh_token: str
    access_token: str | None
    expires_on: int | None
    cloud: str

    def with_tokens(self, refresh_token: str, access_token: str | None, expires_on: int | None) -> OAuthCredentials:
        """The same grant with rotated tokens."""
        return self.replace(refresh_token=refresh_token, access_token=access_token, expires_on=expires_on)
