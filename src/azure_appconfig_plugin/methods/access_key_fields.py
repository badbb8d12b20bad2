"""The field declarations of ``access-key`` and its connection-string parser (each declared once).
Imported when a schema or parser is first needed, not at registration."""

from __future__ import annotations

from app_connections.fields import MISSING, Field, OneOf, Rule

from .common import CLOUD

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
    ("connectionString",), ("endpoint", "id", "secret"), titles=("Connection string", "Endpoint, key ID and secret")
)
STORED_FIELDS = (
    ENDPOINT.replace(required=True),
    ACCESS_KEY_ID.replace(required=True),
    ACCESS_KEY_SECRET.replace(required=True),
    CLOUD,
)
INPUT_FIELDS = (CONNECTION_STRING, ENDPOINT, ACCESS_KEY_ID, ACCESS_KEY_SECRET, ACCESS_KEY_CLOUD)
INPUT_CHOICES = (CONNECTION_STRING_OR_PARTS,)
