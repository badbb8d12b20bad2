"""Prove a connection works: offline checks, a token, then the store's permissions.

The stages live in ``checks/`` (this plugin's ``validate_connection`` implementation); this module
keeps the earlier entry point, which runs the type's own checks only (no other plugin's).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from app_connections.records import ConnectionType, Credentials
from app_connections.reports import ValidationReport

from .checks.store import ROLE_DELAY, STORE_CHECKS  # noqa: F401 - re-exported for earlier callers
from .checks.store import interpret as _interpret  # noqa: F401 - re-exported for callers of the earlier API


def validate_credentials(
    data: Mapping[str, Any] | Credentials,
    *,
    method: str | None = None,
    endpoint: str | None = None,
    connection_type: ConnectionType | None = None,
    **options: Any,
) -> ValidationReport:
    """Validate form input, stored credentials or a record with this type's own checks; never raises
    for Azure's answers or bad input. Options: ``write_probe``, ``token_credential``, ``settings``,
    ``env``, ``probe_label``, ``client_options``, ``on_rotate``."""
    if connection_type is None:
        from .connection import build_connection_type

        connection_type = build_connection_type()
    return connection_type.validate(data, method=method, endpoint=endpoint, **options)
