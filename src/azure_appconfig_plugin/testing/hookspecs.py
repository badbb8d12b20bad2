"""The pytest hook the Azure test-kit plugin adds, so a plugin ships its secret rules to every session.

Implement it in your ``conftest.py``, or in your own ``pytest11`` plugin module so every
project that installs your package gets your rules:

    def pytest_azure_appconfig_secret_rules(config):
        from app_connections.testing.rules import SecretRules
        return SecretRules(headers=["X-Contoso-Key"], fields=["contosoRef"])

Every implementation's result is added to the default rules (with the kit's
``pytest_app_connections_secret_rules`` and the fields providers declare secret); the ``azure_secret_rules``
fixture (and through it ``azure_sanitizer``, ``azure_vcr`` and ``azure_secret_scan``) uses them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from app_connections.testing.rules import SecretRules


@pytest.hookspec
def pytest_azure_appconfig_secret_rules(config: pytest.Config) -> SecretRules | list[SecretRules] | None:
    """Return a ``SecretRules`` (or a list of them, or ``None``) to add to the default rules."""
