"""``access-key``: a store's access key (connection string, or endpoint + id + secret). Requests are
signed with HMAC-SHA256 by the Azure SDK; no token is involved. Import-light."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..fields import MISSING, Field, OneOf, Rule
from ..records import Credentials, RotateCallback
from .base import DeclaredAuthMethod
from .common import CLOUD, CONNECTION_TYPE

if TYPE_CHECKING:  # pragma: no cover
    from ..auth.access_key import AccessKeyCredentials

BASE64 = r"[A-Za-z0-9+/]+={0,2}"
SEGMENTS = ("Endpoint", "Id", "Secret")


def split_connection_string(value: str) -> dict[str, str] | None:
    """``{"Endpoint": ..., "Id": ..., "Secret": ...}`` when each appears exactly once, else None."""
    found: dict[str, str] = {}
    for segment in value.split(";"):
        segment = segment.strip(" \t\r\n")
        name, sep, rest = segment.partition("=")
        if not sep or name not in SEGMENTS or name in found or not rest:
            return None
        found[name] = rest
    return found if len(found) == 3 else None


def _connection_string_ok(value: str) -> bool:
    import re

    parts = split_connection_string(value)
    return parts is not None and re.fullmatch(BASE64, parts["Secret"]) is not None \
        and re.fullmatch(r"https://[^\s/?#;@]+/?", parts["Endpoint"]) is not None


CONNECTION_STRING = Field(
    "connectionString",
    title="Connection string",
    description=("The store's connection string, Endpoint=https://<store>.azconfig.io;Id=<id>;Secret=<secret> "
                 "(Access settings > Access keys). Or give endpoint, id and secret."),
    secret=True,
    strip=True,
    min_length=1,
    max_length=2048,
    pattern=r"[^;]+;[^;]+;[^;]+",
    pattern_message="must be Endpoint=...;Id=...;Secret=... (three segments separated by ';')",
    rules=(Rule(_connection_string_ok, "must hold Endpoint=https://..., Id=... and Secret=<base64>, each once"),),
)
ENDPOINT = Field(
    "endpoint",
    title="Store endpoint",
    description="The store's endpoint, https://<store>.azconfig.io (with id and secret, instead of connectionString).",
    strip=True,
    pattern=r"https://[^\s/?#;@]+/?",
    pattern_message="must be the store's https endpoint, e.g. https://mystore.azconfig.io",
    max_length=512,
)
ACCESS_KEY_ID = Field(
    "id",
    title="Access key ID",
    description="The access key's Id (with endpoint and secret).",
    strip=True,
    pattern=r"[^\s;]+",
    pattern_message="must be the key's Id: no spaces or ';'",
    max_length=256,
)
ACCESS_KEY_SECRET = Field(
    "secret",
    title="Access key secret",
    description="The access key's Secret (base64; with endpoint and id).",
    secret=True,
    min_length=1,
    max_length=1024,
    pattern=BASE64,
    pattern_message="must be the key's Secret exactly (base64, no spaces)",
)
ACCESS_KEY_CLOUD = CLOUD.replace(
    default=MISSING,
    description="The Azure cloud the store lives in. Default: the cloud of the endpoint's domain (else public).",
)
CONNECTION_STRING_OR_PARTS = OneOf(("connectionString",), ("endpoint", "id", "secret"))
STORED_FIELDS = (ENDPOINT.replace(required=True), ACCESS_KEY_ID.replace(required=True),
                 ACCESS_KEY_SECRET.replace(required=True), CLOUD)


class AccessKeyMethod(DeclaredAuthMethod):
    """A store's access key. Microsoft recommends Microsoft Entra ID; a store may disable access keys."""

    slug = "access-key"
    name = "Access key"
    description = ("Use one of the store's access keys (connection string). Requests are signed with HMAC-SHA256; "
                   "Microsoft recommends Microsoft Entra ID methods instead.")
    connection_type = CONNECTION_TYPE
    identity_provider = "the store's access keys (HMAC-SHA256)"
    input_fields = (CONNECTION_STRING, ENDPOINT, ACCESS_KEY_ID, ACCESS_KEY_SECRET, ACCESS_KEY_CLOUD)
    input_choices = (CONNECTION_STRING_OR_PARTS,)
    stored_fields = STORED_FIELDS

    @property
    def credentials_type(self) -> type:
        from ..auth.access_key import AccessKeyCredentials

        return AccessKeyCredentials

    def credentials_from(self, values: dict[str, Any]) -> AccessKeyCredentials:
        from ..auth.access_key import AccessKeyCredentials

        connection_string = values.pop("connection_string", None)
        if connection_string is not None:
            parts = split_connection_string(connection_string) or {}
            values.update(endpoint=parts["Endpoint"], id=parts["Id"], secret=parts["Secret"])
        values["endpoint"] = values["endpoint"].rstrip("/")
        if "cloud" not in values:
            from ..clouds import cloud_for_host

            host = values["endpoint"].split("://", 1)[-1].split(":", 1)[0].lower()
            found = cloud_for_host(host)
            values["cloud"] = found.slug if found is not None else "public"
        return AccessKeyCredentials(**values)

    def request_credential(self, credentials: Credentials) -> Any:
        """What ``store.make_client`` signs requests with (the credentials record itself)."""
        self._check(credentials)
        return credentials

    def token_credential(self, credentials: Credentials, *, on_rotate: RotateCallback | None = None, **_: Any) -> Any:
        from ..errors import FieldError, InvalidInput

        self._check(credentials)
        raise InvalidInput(errors=[FieldError("method", "access-key yields no token: requests are signed with the key; "
                                              "use ConnectionType.client(credentials) for an AzureAppConfigurationClient")])

    def _check(self, credentials: Any) -> None:
        from ..errors import FieldError, InvalidInput

        if not isinstance(credentials, self.credentials_type):
            raise InvalidInput(errors=[FieldError("credentials", "access-key needs AccessKeyCredentials "
                                                  f"(from parse() or load()), not {type(credentials).__name__}")])

    def principal(self, credentials: Any) -> str:
        return f"the access key {getattr(credentials, 'id', '?')}"
