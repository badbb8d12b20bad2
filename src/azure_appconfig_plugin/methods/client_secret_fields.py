"""The declarations of ``client-secret`` (its fields are declared in ``common``). Imported when a
schema or parser is first needed, not at registration."""

from __future__ import annotations

from .common import CLIENT_ID, CLIENT_SECRET, CLOUD, TENANT

INPUT_FIELDS = (TENANT, CLIENT_ID, CLIENT_SECRET, CLOUD)
