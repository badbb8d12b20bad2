"""The error classes of one or more packages, as hosts read them: each class's category,
suggested HTTP status and ``retryable`` (``AppConnectionError`` class attributes), as Markdown
tables for the docs. Every module of each package is imported first (``pkgutil.walk_packages``),
so a class defined anywhere is found."""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Iterator

from .errors import CATEGORIES, AppConnectionError


def _subclasses(cls: type[AppConnectionError]) -> Iterator[type[AppConnectionError]]:
    yield cls
    for sub in cls.__subclasses__():
        yield from _subclasses(sub)


def error_classes(*packages: str) -> list[type[AppConnectionError]]:
    """Every ``AppConnectionError`` class defined in ``packages`` (importable names), base first,
    then by module and name. Each module of each package is imported; one that fails to import
    raises (a class it defines would otherwise be missed)."""
    for name in packages:
        package = importlib.import_module(name)
        for module in pkgutil.walk_packages(package.__path__, f"{name}."):
            if module.name.rsplit(".", 1)[-1] != "__main__":
                importlib.import_module(module.name)
    wanted = tuple(f"{name}." for name in packages)
    found = {
        cls
        for cls in _subclasses(AppConnectionError)
        if cls.__module__ in packages or cls.__module__.startswith(wanted)
    }
    return sorted(found, key=lambda cls: (cls is not AppConnectionError, cls.__module__, cls.__qualname__))


def categories_markdown() -> str:
    """The table of categories: each one's usual HTTP status and meaning."""
    rows = ["| category | usual HTTP status | meaning |", "| --- | --- | --- |"]
    rows += [f"| `{name}` | {status} | {meaning} |" for name, (status, meaning) in CATEGORIES.items()]
    return "\n".join(rows)


def errors_markdown(classes: list[type[AppConnectionError]]) -> str:
    """The table of ``classes``: import path, parent, category, HTTP status, retryable, what it means."""
    rows = [
        "| error | is a | category | HTTP status | retryable | when |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for cls in classes:
        parent = next((b.__name__ for b in cls.__bases__ if issubclass(b, AppConnectionError)), "Exception")
        doc = " ".join((cls.__doc__ or "").strip().split("\n\n", 1)[0].split()).replace("``", "`")
        rows.append(
            f"| `{cls.__module__}.{cls.__qualname__}` | `{parent}` | `{cls.category}` | {cls.http_status} "
            f"| {'yes' if cls.retryable else 'no'} | {doc.replace('|', '/')} |"
        )
    return "\n".join(rows)
