"""``access-key``: a store's access key (connection string, or endpoint + id + secret). Requests are
signed with HMAC-SHA256 by the Azure SDK; no token is involved. Import-light."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from app_connections.declared import DeclaredAuthMethod
from app_connections.records import Credentials, RotateCallback

from .names import CONNECTION_TYPE

if TYPE_CHECKING:
    from ..auth.access_key import AccessKeyCredentials


class AccessKeyMethod(DeclaredAuthMethod):
    """A store's access key. Microsoft recommends Microsoft Entra ID; a store may disable access keys."""

    slug = "access-key"
    name = "Access key"
    description = (
        "Use one of the store's access keys (connection string). Requests are signed with HMAC-SHA256; "
        "Microsoft recommends Microsoft Entra ID methods instead."
    )
    connection_type = CONNECTION_TYPE
    declarations = ".access_key_fields"
    identity_provider = "the store's access keys (HMAC-SHA256)"

    @property
    def credentials_type(self) -> type:
        from ..auth.access_key import AccessKeyCredentials

        return AccessKeyCredentials

    def credentials_from(self, values: dict[str, Any]) -> AccessKeyCredentials:
        from ..auth.access_key import AccessKeyCredentials

        connection_string = values.pop("connection_string", None)
        if connection_string is not None:
            from .access_key_fields import split_connection_string

            parts = split_connection_string(connection_string) or {}
            values.update(endpoint=parts["Endpoint"], id=parts["Id"], secret=parts["Secret"])
        values["endpoint"] = values["endpoint"].rstrip("/")
        if "cloud" not in values:
            from ..clouds import cloud_for_host

            host = values["endpoint"].split("://", 1)[-1].split(":", 1)[0].lower()
            found = cloud_for_host(host)
            values["cloud"] = found.slug if found is not None else "public"
        return AccessKeyCredentials(**values)

    def request_credential(self, credentials: Credentials) -> object:
        """What ``store.make_client`` signs requests with (the credentials record itself)."""
        self._check(credentials)
        return credentials

    def token_credential(self, credentials: Credentials, *, on_rotate: RotateCallback | None = None, **_: Any) -> Any:
        from ..errors import FieldError, InvalidInput

        self._check(credentials)
        raise InvalidInput(
            errors=[
                FieldError(
                    "method",
                    "access-key yields no token: requests are signed with the key; "
                    "use ConnectionType.client(credentials) for an AzureAppConfigurationClient",
                )
            ]
        )

    def _check(self, credentials: Any) -> None:
        from ..auth.access_key import AccessKeyCredentials

        self.checked(credentials, AccessKeyCredentials)

    def _record(self, credentials: object) -> AccessKeyCredentials | None:
        from ..auth.access_key import AccessKeyCredentials

        return self.own(credentials, AccessKeyCredentials)

    def principal(self, credentials: Credentials) -> str:
        record = self._record(credentials)
        return f"the access key {record.id if record else '?'}"

    def cloud_of(self, credentials: Credentials) -> str | None:
        record = self._record(credentials)
        return record.cloud if record else None

    def endpoint_of(self, credentials: Credentials) -> str | None:
        record = self._record(credentials)
        return record.endpoint if record else None
