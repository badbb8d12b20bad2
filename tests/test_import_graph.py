"""The import graph of both packages: no cycles in the kit, few and small ones in the provider.

Every ``import`` statement that runs counts, wherever it stands: at module level, inside a function
or a method, absolute or relative. A function-level import only defers a cycle, it does not remove
it, so the graph is read from the source with ``ast`` rather than from ``sys.modules`` after importing.

One kind is left out, on purpose: imports under ``if TYPE_CHECKING:``, which never run. They name
the types of annotations, and a record and the functions that take it (``records.ConnectionType``
and ``aio``) name each other's types by design; ``mypy --strict`` checks that graph.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PROVIDER = ROOT / "src" / "azure_appconfig_plugin"
KIT = ROOT / "app-connections" / "src" / "app_connections"


def _modules(package_dir: Path) -> dict[str, Path]:
    """Every module of the package at ``package_dir``, by dotted name (a package by its own name)."""
    top = package_dir.name
    found: dict[str, Path] = {}
    for path in sorted(package_dir.rglob("*.py")):
        parts = [top, *path.relative_to(package_dir).with_suffix("").parts]
        if parts[-1] == "__init__":
            parts.pop()
        found[".".join(parts)] = path
    return found


def _is_package(path: Path) -> bool:
    return path.name == "__init__.py"


def _resolve(name: str, known: Mapping[str, Path]) -> str | None:
    """The known module ``name`` stands for: itself, else its longest known parent, else None."""
    while name:
        if name in known:
            return name
        name, _, _ = name.rpartition(".")
    return None


def _type_checking_only(node: ast.AST) -> bool:
    return isinstance(node, ast.If) and ast.unparse(node.test) in {"TYPE_CHECKING", "typing.TYPE_CHECKING"}


def _statements(tree: ast.AST) -> Iterator[ast.AST]:
    """Every node of ``tree`` but the bodies of ``if TYPE_CHECKING:`` (their ``else:`` runs)."""
    for child in ast.iter_child_nodes(tree):
        if _type_checking_only(child):
            assert isinstance(child, ast.If)
            for node in child.orelse:
                yield node
                yield from _statements(node)
            continue
        yield child
        yield from _statements(child)


def _imports(module: str, path: Path, known: Mapping[str, Path]) -> Iterator[str]:
    """The known modules ``module`` imports anywhere in its source, outside ``if TYPE_CHECKING:``."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    package = module if _is_package(path) else module.rpartition(".")[0]
    for node in _statements(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                target = _resolve(alias.name, known)
                if target is not None:
                    yield target
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base_parts = package.split(".")
                if node.level > 1:
                    base_parts = base_parts[: -(node.level - 1)]
                base = ".".join([*base_parts, node.module] if node.module else base_parts)
            else:
                base = node.module or ""
            for alias in node.names:
                # ``from pkg import sub`` imports the submodule when ``sub`` is one.
                submodule = f"{base}.{alias.name}"
                target = submodule if submodule in known else _resolve(base, known)
                if target is not None:
                    yield target


def import_graph(package_dirs: Iterable[Path]) -> dict[str, set[str]]:
    """Module -> the modules of ``package_dirs`` it imports (self-imports dropped)."""
    known: dict[str, Path] = {}
    for package_dir in package_dirs:
        known.update(_modules(package_dir))
    return {
        module: {target for target in _imports(module, path, known) if target != module}
        for module, path in known.items()
    }


def cycles(graph: Mapping[str, set[str]]) -> list[frozenset[str]]:
    """The strongly connected components of more than one module (Tarjan's algorithm, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    found: list[frozenset[str]] = []
    counter = 0
    for start in sorted(graph):
        if start in index:
            continue
        work: list[tuple[str, Iterator[str]]] = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, successors = work[-1]
            advanced = False
            for successor in successors:
                if successor not in graph:
                    continue
                if successor not in index:
                    index[successor] = low[successor] = counter
                    counter += 1
                    stack.append(successor)
                    on_stack.add(successor)
                    work.append((successor, iter(sorted(graph[successor]))))
                    advanced = True
                    break
                if successor in on_stack:
                    low[node] = min(low[node], index[successor])
            if advanced:
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                component: set[str] = set()
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.add(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(frozenset(component))
    return found


def _describe(components: Iterable[frozenset[str]]) -> str:
    return "\n".join(", ".join(sorted(component)) for component in components)


def test_the_checker_finds_a_cycle_through_a_function_level_relative_import(tmp_path: Path) -> None:
    package = tmp_path / "pkg"
    (package / "sub").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "a.py").write_text("from .sub import b\n")
    (package / "sub" / "__init__.py").write_text("")
    (package / "sub" / "b.py").write_text("def f():\n    from .. import c\n")
    (package / "c.py").write_text("import pkg.a\n")
    (package / "d.py").write_text(
        "from typing import TYPE_CHECKING\nfrom pkg import a\nif TYPE_CHECKING:\n    from pkg import c\n"
        "else:\n    class K:\n        def m(self):\n            import pkg.sub\n"
    )
    graph = import_graph([package])
    assert graph["pkg.sub.b"] == {"pkg.c"}
    assert graph["pkg.d"] == {"pkg.a", "pkg.sub"}
    assert cycles(graph) == [frozenset({"pkg.a", "pkg.sub.b", "pkg.c"})]


@pytest.fixture(scope="module")
def graph() -> dict[str, set[str]]:
    return import_graph([PROVIDER, KIT])


def test_the_kit_has_no_import_cycle(graph: dict[str, set[str]]) -> None:
    kit_cycles = [c for c in cycles(graph) if any(m.startswith("app_connections") for m in c)]
    assert not kit_cycles, _describe(kit_cycles)


def test_the_kit_imports_nothing_from_the_provider(graph: dict[str, set[str]]) -> None:
    crossing = {
        module: sorted(t for t in targets if t.startswith("azure_appconfig_plugin"))
        for module, targets in graph.items()
        if module.startswith("app_connections")
    }
    assert not {module: targets for module, targets in crossing.items() if targets}


def test_the_provider_has_no_import_cycle(graph: dict[str, set[str]]) -> None:
    provider_cycles = [c for c in cycles(graph) if any(m.startswith("azure_appconfig_plugin") for m in c)]
    assert not provider_cycles, _describe(provider_cycles)
