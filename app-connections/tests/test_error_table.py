"""The error-class table generator (``app_connections.error_table``) on a package of its own."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from app_connections.error_table import error_classes
from app_connections.errors import AppConnectionError

PACKAGE = "canary_error_table_pkg"


@pytest.fixture
def package(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    root = tmp_path / PACKAGE
    (root / "inner").mkdir(parents=True)
    (root / "__init__.py").write_text("")
    (root / "inner" / "__init__.py").write_text("")
    (root / "inner" / "late.py").write_text(
        "from app_connections.errors import AppConnectionError\n\n"
        "class LateError(AppConnectionError):\n    'Defined in a module nothing imported yet.'\n"
    )
    (root / "__main__.py").write_text("raise SystemExit('a package main module must not be imported')\n")
    (root / "inner" / "__main__.py").write_text("raise SystemExit('nor a subpackage main module')\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    yield PACKAGE
    for name in [m for m in sys.modules if m == PACKAGE or m.startswith(f"{PACKAGE}.")]:
        del sys.modules[name]


def test_every_module_but_main_is_imported_so_a_late_class_is_found(package: str) -> None:
    classes = error_classes(package)
    assert [f"{c.__module__}.{c.__qualname__}" for c in classes] == [f"{package}.inner.late.LateError"]
    assert issubclass(classes[0], AppConnectionError)
    assert f"{package}.inner.late" in sys.modules
    assert f"{package}.__main__" not in sys.modules and f"{package}.inner.__main__" not in sys.modules
