"""Throw-away plugin distributions laid out like installed wheels (real RECORD files), for the
trust tests. Each plugin module records its own import (a marker file and a ``sys.modules``
flag), so a test can prove that a blocked or refused plugin was never imported. tests/conftest.py
registers this module as a plugin, so any test module can request the ``site`` fixture by name."""

from __future__ import annotations

import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from app_connections import trust
from app_connections.testing import wheels
from app_connections.testing.distributions import activate, deactivate


def plugin_source(slug: str, marker: Path) -> str:
    return textwrap.dedent(f"""
        import sys
        sys.modules[__name__].IMPORTED = True
        with open({str(marker)!r}, "a") as fh:
            fh.write(__name__ + "\\n")
        from app_connections.hostspec import hookimpl
        from app_connections.records import ConnectionType

        @hookimpl
        def register_connection_types(register):
            register.add(ConnectionType(slug={slug!r}, name={slug.title()!r}, methods={{}}))
    """)


class Site:
    """A site directory on ``sys.path`` for one test, holding wheel-like installs."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.marker = root.parent / "imported.txt"
        self.modules: list[str] = []

    def install(
        self,
        name: str,
        version: str = "1.0",
        *,
        module: str | None = None,
        slug: str | None = None,
        extra: dict[str, str] | None = None,
        editable: bool = False,
    ) -> str:
        """A plugin distribution whose package ``module`` registers connection type ``slug``."""
        module = module or name.replace("-", "_") + "_mod"
        files = {
            f"{module}/__init__.py": plugin_source(slug or name + "-type", self.marker),
            f"{module}/helpers.py": "VALUE = 1\n",
            **(extra or {}),
        }
        wheels.install(
            self.root,
            name,
            version,
            files=files,
            entry_points={"app_connections": {name: module}},
            editable_url="file:///src/" + name if editable else None,
        )
        self.modules.append(module)
        activate(self.root)
        return module

    def dist(self, name: str) -> Any:
        return wheels.find(self.root, name)

    def digest(self, name: str) -> str:
        digest = trust.record_digest(self.dist(name))
        assert digest is not None and len(digest) == 64
        return digest

    def pin(self, name: str, version: str = "1.0") -> str:
        return f"{name}=={version}@sha256:{self.digest(name)}"

    def imported(self) -> list[str]:
        found = self.marker.read_text().split() if self.marker.exists() else []
        return sorted(set(found) | {m for m in self.modules if m in sys.modules})


@pytest.fixture
def site(tmp_path: Path) -> Iterator[Site]:
    s = Site(tmp_path / "site")
    yield s
    deactivate(s.root, [m for mod in s.modules for m in list(sys.modules) if m == mod or m.startswith(mod + ".")])
