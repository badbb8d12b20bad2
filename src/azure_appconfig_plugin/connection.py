"""Builds the ``azure-app-configuration`` connection type (import-light)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .envvars import INSTANCE_SETTINGS
from .methods import CertificateMethod, ClientSecretMethod, OAuthMethod, WorkloadIdentityMethod
from .methods.common import CONNECTION_TYPE
from .records import ConnectionType

if TYPE_CHECKING:  # pragma: no cover
    from .reports import ValidationRequest

SLUG = CONNECTION_TYPE
NAME = "Azure App Configuration"


def _checks(request: ValidationRequest) -> Any:
    from .checks import run_checks

    return run_checks(request)


def build_connection_type() -> ConnectionType:
    return ConnectionType(
        slug=SLUG,
        name=NAME,
        methods={m.slug: m for m in (OAuthMethod(), ClientSecretMethod(), CertificateMethod(), WorkloadIdentityMethod())},
        settings=INSTANCE_SETTINGS,
        checks=_checks,
    )
