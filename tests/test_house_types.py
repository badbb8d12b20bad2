"""Types and docstrings that help: explicit ``Any`` is rare in the provider, and every public
definition of either package says in a line or two what it is."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PROVIDER = ROOT / "src" / "azure_appconfig_plugin"
KIT = ROOT / "app-connections" / "src" / "app_connections"
MAX_ANY = {PROVIDER: 50, KIT: 80}
"""A ratchet a little above today's counts (40 and 72, imports included): ``Any`` stays for arbitrary
JSON and keyword pass-through, and does not grow back."""


def _modules(package: Path) -> dict[str, ast.Module]:
    return {
        path.relative_to(ROOT).as_posix(): ast.parse(path.read_text(encoding="utf-8"))
        for path in sorted(package.rglob("*.py"))
    }


def _any_uses(tree: ast.Module) -> int:
    """``Any`` written as a name or as ``typing.Any`` (imports and uses alike; prose does not count)."""
    names = sum(isinstance(node, ast.Name) and node.id == "Any" for node in ast.walk(tree))
    imported = sum(
        alias.name == "Any" for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) for alias in node.names
    )
    dotted = sum(isinstance(node, ast.Attribute) and node.attr == "Any" for node in ast.walk(tree))
    return names + imported + dotted


def _undocumented(tree: ast.Module, module: str) -> list[str]:
    """Public classes and functions (module level and in public classes) without a docstring."""
    missing: list[str] = []

    def visit(body: list[ast.stmt], prefix: str) -> None:
        for node in body:
            if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) or node.name.startswith("_"):
                continue
            decorators = {d.attr if isinstance(d, ast.Attribute) else getattr(d, "id", "") for d in node.decorator_list}
            if decorators & {"overload", "setter", "deleter"}:
                continue  # documented once, on the definition they belong to
            if ast.get_docstring(node) is None:
                missing.append(f"{module}:{node.lineno} {prefix}{node.name}")
            if isinstance(node, ast.ClassDef):
                visit(node.body, f"{prefix}{node.name}.")

    visit(tree.body, "")
    return missing


@pytest.mark.parametrize("package", [PROVIDER, KIT], ids=["provider", "kit"])
def test_each_package_writes_any_rarely(package: Path) -> None:
    modules = _modules(package)
    assert len(modules) > 30
    counts = {name: n for name, tree in modules.items() if (n := _any_uses(tree))}
    assert sum(counts.values()) <= MAX_ANY[package], sorted(counts.items(), key=lambda item: -item[1])


def test_every_public_definition_has_a_docstring() -> None:
    missing = [
        line
        for package in (PROVIDER, KIT)
        for name, tree in _modules(package).items()
        if not Path(name).name.startswith("_") or Path(name).name == "__init__.py"
        for line in _undocumented(tree, name)
    ]
    assert not missing, missing


def test_the_counters_see_what_they_count() -> None:
    tree = ast.parse(
        "from typing import Any\nimport typing\n"
        "def f(x: Any) -> typing.Any: ...\n"
        "class C:\n    def m(self) -> None: ...\n    def _p(self) -> None: ...\n"
        "def g() -> None:\n    '''Documented.'''\n"
    )
    assert _any_uses(tree) == 3  # the import, the annotation, the dotted return
    assert _undocumented(tree, "m.py") == ["m.py:3 f", "m.py:4 C", "m.py:5 C.m"]
