"""``access-key``: a store's access key (connection string, or endpoint + id + secret): its fields,
the connection-string parser, its credentials record and the method. Requests are signed with
HMAC-SHA256 by the Azure SDK (``AzureKeyCredential`` + ``id_credential``); no token is involved.
Import-light."""

from __future__ import annotations

from typing import TYPE_CHECKING

from app_connections.declared import DeclaredAuthMethod
from app_connections.fields import MISSING, Field, OneOf, Rule
from app_connections.records import Credentials, RotateCallback
from app_connections.stored_record import StoredRecord

from .common import CLOUD
from .names import CONNECTION_TYPE

if TYPE_CHECKING:
    from azure.core.credentials import AzureKeyCredential, TokenCredential

BASE64 = r"[A-Za-z0-9+\/]+={0,2}"
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
    return (
        parts is not None
        and re.fullmatch(BASE64, parts["Secret"]) is not None
        and re.fullmatch(r"https://[^\s/?#;@]+/?", parts["Endpoint"]) is not None
    )


CONNECTION_STRING = Field(
    "connectionString",
    title="Connection string",
    description=(
        "The store's connection string, Endpoint=https://<store>.azconfig.io;Id=<id>;Secret=<secret> "
        "(Access settings > Access keys). Or give endpoint, id and secret."
    ),
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
    pattern=r"https://[^\s\/?#;@]+/?",
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
CONNECTION_STRING_OR_PARTS = OneOf(
    (CONNECTION_STRING.name,),
    (ENDPOINT.name, ACCESS_KEY_ID.name, ACCESS_KEY_SECRET.name),
    titles=("Connection string", "Endpoint, key ID and secret"),
)
STORED_FIELDS: tuple[Field, ...] = (
    ENDPOINT.replace(required=True),
    ACCESS_KEY_ID.replace(required=True),
    ACCESS_KEY_SECRET.replace(required=True),
    CLOUD,
)
INPUT_FIELDS: tuple[Field, ...] = (CONNECTION_STRING, ENDPOINT, ACCESS_KEY_ID, ACCESS_KEY_SECRET, ACCESS_KEY_CLOUD)
INPUT_CHOICES = (CONNECTION_STRING_OR_PARTS,)


class AccessKeyCredentials(StoredRecord, fields=STORED_FIELDS, method="access-key"):
    """One access key of one store."""

    endpoint: str
    id: str
    secret: str
    cloud: str

    def hmac_credential(self) -> tuple[AzureKeyCredential, str]:
        """``(AzureKeyCredential(secret), id)``: what ``AzureAppConfigurationClient`` signs requests with."""
        from azure.core.credentials import AzureKeyCredential

        return AzureKeyCredential(self.secret), self.id


class AccessKeyMethod(DeclaredAuthMethod):
    """A store's access key. Microsoft recommends Microsoft Entra ID; a store may disable access keys."""

    slug = "access-key"
    name = "Access key"
    description = (
        "Use one of the store's access keys (connection string). Requests are signed with HMAC-SHA256; "
        "Microsoft recommends Microsoft Entra ID methods instead."
    )
    connection_type = CONNECTION_TYPE
    identity_provider = "the store's access keys (HMAC-SHA256)"
    input_fields = INPUT_FIELDS
    stored_fields: tuple[Field, ...] | None = STORED_FIELDS
    input_choices = INPUT_CHOICES
    record = AccessKeyCredentials

    def credentials_from(self, values: dict[str, object]) -> AccessKeyCredentials:
        """The record: a connection string split into its parts; the cloud, when not given, from the
        endpoint's domain (else public)."""
        connection_string = values.pop(CONNECTION_STRING.attr, None)
        if isinstance(connection_string, str):
            parts = split_connection_string(connection_string) or {}
            for field, segment in zip((ENDPOINT, ACCESS_KEY_ID, ACCESS_KEY_SECRET), SEGMENTS, strict=True):
                values[field.attr] = parts[segment]
        endpoint = str(values[ENDPOINT.attr]).rstrip("/")
        values[ENDPOINT.attr] = endpoint
        if CLOUD.attr not in values:
            from ..clouds import cloud_for_host

            host = endpoint.split("://", 1)[-1].split(":", 1)[0].lower()
            found = cloud_for_host(host)
            values[CLOUD.attr] = found.slug if found is not None else CLOUD.default
        return AccessKeyCredentials(**values)

    def request_credential(self, credentials: Credentials) -> object:
        """What ``store.make_client`` signs requests with (the credentials record itself)."""
        return self.checked(credentials, AccessKeyCredentials)

    def token_credential(
        self, credentials: Credentials, *, on_rotate: RotateCallback | None = None, **_: object
    ) -> TokenCredential:
        """Refused: an access key yields no token (``InvalidInput``), the store client signs with it."""
        from ..errors import FieldError, InvalidInput

        self.checked(credentials, AccessKeyCredentials)
        raise InvalidInput(
            errors=[
                FieldError(
                    "method",
                    "access-key yields no token: requests are signed with the key; "
                    "use ConnectionType.client(credentials) for an AzureAppConfigurationClient",
                )
            ]
        )

    def principal(self, credentials: Credentials) -> str:
        """``the access key <id>``."""
        record = self.own(credentials, AccessKeyCredentials)
        return f"the access key {record.id if record else '?'}"

    def cloud_of(self, credentials: Credentials) -> str | None:
        """The record's cloud slug (None for another method's record)."""
        record = self.own(credentials, AccessKeyCredentials)
        return record.cloud if record else None

    def endpoint_of(self, credentials: Credentials) -> str | None:
        """The store endpoint the key belongs to (None for another method's record)."""
        record = self.own(credentials, AccessKeyCredentials)
        return record.endpoint if record else None
