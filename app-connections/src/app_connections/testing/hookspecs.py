"""The pytest hook the kit's pytest plugin adds, so a provider ships its secret rules to every session.

Implement it in your ``conftest.py``, or in your own ``pytest11`` plugin module so every
project that installs your package gets your rules:

    def pytest_app_connections_secret_rules(config):
        from app_connections.testing.rules import SecretRules
        return SecretRules(headers=["X-Contoso-Key"], fields=["contosoRef"])

Every implementation's result is added to the default rules and the fields providers declare
secret; the ``connections_secret_rules`` fixture (and through it ``connections_sanitizer``,
``connections_vcr`` and ``connections_secret_scan``) uses them. Declare here only what no field
declares (a header your provider adds on its own, a value format).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from .rules import SecretRules


@pytest.hookspec
def pytest_app_connections_secret_rules(config: pytest.Config) -> SecretRules | list[SecretRules] | None:
    """Return a ``SecretRules`` (or a list of them, or ``None``) to add to the default rules."""
