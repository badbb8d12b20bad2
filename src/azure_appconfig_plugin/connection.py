"""Builds the ``azure-app-configuration`` connection type (import-light)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .methods import ClientSecretMethod, OAuthMethod
from .envvars import INSTANCE_SETTINGS
from .records import ConnectionType, Credentials

if TYPE_CHECKING:  # pragma: no cover
    from .reports import ValidationReport

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
