"""``access-key``: the credentials record. The Azure SDK signs each request with it
(``AzureKeyCredential`` + ``id_credential``: HMAC-SHA256); nothing here signs by hand."""

from __future__ import annotations

from typing import Any

import attrs

from ..clouds import DEFAULT_CLOUD


@attrs.frozen
class AccessKeyCredentials:
    """One access key of one store."""

    endpoint: str
    id: str
    secret: str = attrs.field(repr=False)
    cloud: str = DEFAULT_CLOUD.slug
    method: str = attrs.field(default="access-key", init=False)

    def hmac_credential(self) -> tuple[Any, str]:
        """``(AzureKeyCredential(secret), id)``: what ``AzureAppConfigurationClient`` signs requests with."""
        from azure.core.credentials import AzureKeyCredential

        return AzureKeyCredential(self.secret), self.id

    def to_dict(self) -> dict[str, Any]:
        return {
            "method": self.method,
            "endpoint": self.endpoint,
            "id": self.id,
            "secret": self.secret,
            "cloud": self.cloud,
        }
