"""Declarations over several fields of a form, re-exported by ``fields``: ``OneOf`` (a choice
between groups of fields, in both the schema and the parser) and ``CrossRule`` (a check JSON
Schema cannot express). Standard library only."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING

from .frozen import _Frozen

if TYPE_CHECKING:
    from .fields import Field
    from .jsontypes import JSONObject


class OneOf(_Frozen):
    """A choice between groups of fields: exactly one group is given, completely, and no field of
    another group (``optional=True``: or no field of any group). Feeds both the schema (``oneOf``
    of mutually exclusive, titled branches a form renders as alternatives) and the parser. Group
    fields are optional fields without a default; a field is *given* when it is present, not null
    and (for ``strip`` fields) not blank. ``titles`` name the groups (default: their fields' titles
    joined by "and"); ``none_title`` names the branch where no group is given (``optional=True``).
    """

    __slots__ = ("groups", "optional", "titles", "none_title")
    _fields = __slots__
    groups: tuple[tuple[str, ...], ...]
    optional: bool
    titles: tuple[str, ...]
    none_title: str

    def __init__(
        self,
        *groups: tuple[str, ...],
        optional: bool = False,
        titles: Iterable[str] = (),
        none_title: str = "None of these",
    ) -> None:
        titles = tuple(titles)
        if titles and len(titles) != len(groups):
            raise ValueError(f"OneOf: {len(titles)} titles for {len(groups)} groups")
        self._init(groups=tuple(tuple(g) for g in groups), optional=optional, titles=titles, none_title=none_title)

    @property
    def names(self) -> tuple[str, ...]:
        """Every field name the groups mention, in order."""
        return tuple(n for g in self.groups for n in g)

    def describe(self) -> str:
        """``privateKey and certificate, or pkcs12``."""
        return ", or ".join(" and ".join(g) for g in self.groups)

    def group_titles(self, by_name: Mapping[str, Field]) -> tuple[str, ...]:
        """The title of each group: declared, or its fields' titles joined by "and"."""
        return self.titles or tuple(" and ".join(by_name[n].title for n in g) for g in self.groups)

    def json_schema(self, by_name: Mapping[str, Field]) -> JSONObject:
        """``{"oneOf": [...]}``: one titled branch per group (its fields ``required``, the other
        groups' fields not given), plus the titled empty branch when the choice is optional."""

        def given(name: str) -> JSONObject:
            f = by_name[name]
            prop: JSONObject = {"type": f.type}
            if f.strip and f.type == "string":
                prop["pattern"] = r"[^ \t\r\n]"
            return prop

        def none_of(names: Iterable[str]) -> JSONObject:
            return {"not": {"anyOf": [{"required": [n], "properties": {n: given(n)}} for n in names]}}

        branches = []
        for title, group in zip(self.group_titles(by_name), self.groups, strict=True):
            others = [n for n in self.names if n not in group]
            branch: JSONObject = {"title": title, "required": list(group)}
            branch["properties"] = {n: given(n) for n in group}
            if others:
                branch.update(none_of(others))
            branches.append(branch)
        if self.optional:
            branches.append({"title": self.none_title, **none_of(self.names)})
        return {"oneOf": branches}

    def problem(self, given: set[str]) -> tuple[str, str] | None:
        """``(field, message)`` when the given fields break the choice, else None."""
        touched = [g for g in self.groups if given & set(g)]
        choose = f"give {self.describe()}"
        if not touched:
            return None if self.optional else (self.groups[0][0], f"is required: {choose}")
        if len(touched) > 1:
            extra = next(n for n in touched[1] if n in given)
            first = next(n for n in touched[0] if n in given)
            return extra, f"cannot be combined with {first}: {choose}, not both"
        missing = [n for n in touched[0] if n not in given]
        if missing:
            return missing[0], f"is required with {', '.join(n for n in touched[0] if n in given)}"
        return None


class CrossRule(_Frozen):
    """A check over several fields that JSON Schema cannot express (e.g. a key matches its
    certificate). ``test(values)`` (parsed values by attribute) returns None when fine, or
    ``(field, message)`` where ``message`` starts with one of ``messages`` (the declared texts; a
    detail may follow in parentheses). Runs only when every field parsed."""

    __slots__ = ("test", "messages")
    _fields = __slots__
    test: Callable[[JSONObject], tuple[str, str] | None]
    messages: tuple[str, ...]

    def __init__(self, test: Callable[[JSONObject], tuple[str, str] | None], messages: Iterable[str]) -> None:
        self._init(test=test, messages=tuple(messages))
