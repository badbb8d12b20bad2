"""Builds the ``azure-app-configuration`` connection type (import-light)."""

from __future__ import annotations

from typing import Any

from .methods import ClientSecretMethod, OAuthMethod
from .records import ConnectionType, Credentials, ValidationReport
from .settings import INSTANCE_SETTINGS

SLUG = "azure-app-configuration"
NAME = "Azure App Configuration"


def _validate(credentials: Credentials, **options: Any) -> ValidationReport:
    from .validation import validate_credentials

    return validate_credentials(credentials, **options)


def build_connection_type() -> ConnectionType:
    return ConnectionType(
        slug=SLUG,
        name=NAME,
        methods={m.slug: m for m in (OAuthMethod(), ClientSecretMethod())},
        settings=INSTANCE_SETTINGS,
        validator=_validate,
    )
