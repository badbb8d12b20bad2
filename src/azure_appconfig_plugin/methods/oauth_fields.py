"""The declarations of ``oauth`` (its fields are declared in ``common``). Imported when a schema or
parser is first needed, not at registration."""

from __future__ import annotations

from .common import ACCESS_TOKEN, CLOUD, EXPIRES_ON, INSTANCE_CLIENT_ID, OPTIONAL_TENANT, REFRESH_TOKEN, TENANT

INPUT_FIELDS = (OPTIONAL_TENANT, CLOUD)
STORED_FIELDS = (TENANT, INSTANCE_CLIENT_ID, REFRESH_TOKEN, ACCESS_TOKEN, EXPIRES_ON, CLOUD)
