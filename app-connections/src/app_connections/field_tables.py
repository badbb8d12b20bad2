"""Markdown tables of declared fields, for the docs pages of auth methods and sync destinations."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .declared import DeclaredAuthMethod
    from .fields import Field


def docs_table(fields: Iterable[Field]) -> str:
    """A Markdown table of the fields (name, required, secret, description)."""
    rows = ["| field | required | secret | description |", "| --- | --- | --- | --- |"]
    for f in fields:
        rows.append(
            f"| `{f.name}` | {'yes' if f.required else 'no'} | {'yes' if f.secret else 'no'} | {f.description} |"
        )
    return "\n".join(rows)


def methods_markdown(methods: Iterable[DeclaredAuthMethod]) -> str:
    """The field tables of declared auth methods (each method's docs page holds its own): the form
    input and, where it differs, the stored credentials (``to_dict()``)."""
    parts = []
    for method in methods:
        parts.append(f"`{method.slug}` form input:\n\n{docs_table(method.input_fields)}")
        stored = method.stored_fields
        if stored is not None:
            parts.append(f"`{method.slug}` stored credentials (`to_dict()`, plus `method`):\n\n{docs_table(stored)}")
    return "\n\n".join(parts)
