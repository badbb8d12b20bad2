"""``StoredRecord``: a method's frozen credentials record, derived from its stored ``Field``s.

A subclass names the fields and the method's slug in its class statement and annotates the
attributes for the type checker (``tenant_id: str``, the fields' ``attr`` names, in order); the
class is refused when the annotations and the fields disagree. Derived from the fields: the
constructor (positional in field order, or by attribute; a field without default is required),
equality and hash over the stored values, a ``repr`` without secret or multiline fields,
``to_dict()`` (the JSON names, ``method`` first, an optional field omitted when None) and
``from_dict()``. Standard library only: method modules declare their records at registration.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar, TypeVar

from .fields import MISSING, Field
from .frozen import _Frozen
from .jsontypes import JSONInput, JSONObject

R = TypeVar("R", bound="StoredRecord")


def stored_body(slug: str, stored: JSONInput) -> Mapping[str, JSONInput]:
    """``stored`` (a ``to_dict()`` output) without its ``method`` key, or ``InvalidInput`` when it
    is not an object or names another method."""
    from .errors import FieldError, InvalidInput
    from .text import quoted_value

    if not isinstance(stored, Mapping):
        raise InvalidInput(
            errors=[FieldError("(credentials)", "must be an object: the output of credentials.to_dict()")]
        )
    method = stored.get("method")
    if method is not None and method != slug:
        message = f"is {quoted_value(method)}; these are not {slug} credentials"
        raise InvalidInput(errors=[FieldError("method", message)])
    return {k: v for k, v in stored.items() if k != "method"}


class StoredRecord(_Frozen):
    """Base of a frozen credentials record derived from a method's stored fields (``_Frozen``'s
    equality, hash and immutability over the stored values)."""

    method: ClassVar[str] = ""
    stored_fields: ClassVar[tuple[Field, ...]] = ()
    unstored: ClassVar[tuple[str, ...]] = ()
    """Keyword-only attributes beside the stored values (default None), never in ``to_dict``,
    equality, hash or ``repr`` (e.g. what the host policy decided when the record was parsed)."""

    def __init_subclass__(
        cls,
        *,
        fields: tuple[Field, ...] | None = None,
        method: str | None = None,
        unstored: tuple[str, ...] | None = None,
        **kwargs: object,
    ) -> None:
        super().__init_subclass__(**kwargs)
        if fields is not None:
            cls.stored_fields = tuple(fields)
        if method is not None:
            cls.method = method
        if unstored is not None:
            cls.unstored = tuple(unstored)
        cls._fields = tuple(f.attr for f in cls.stored_fields)
        expected = (*(f.attr for f in cls.stored_fields), *cls.unstored)
        annotated = tuple(cls.__annotations__)
        if annotated and annotated != expected:
            raise TypeError(f"{cls.__name__} annotates {annotated}; its fields and unstored names give {expected}")

    def __init__(self, *args: object, **kwargs: object) -> None:
        fields = self.stored_fields
        if len(args) > len(fields):
            raise TypeError(f"{type(self).__name__}() takes at most {len(fields)} positional arguments")
        given: dict[str, object] = {f.attr: value for f, value in zip(fields, args, strict=False)}
        for name, value in kwargs.items():
            if name in given:
                raise TypeError(f"{type(self).__name__}() got multiple values for {name!r}")
            if name not in self.unstored and all(f.attr != name for f in fields):
                raise TypeError(f"{type(self).__name__}() got an unexpected keyword argument {name!r}")
            given[name] = value
        for field in fields:
            if field.attr in given:
                continue
            if field.required and field.default is MISSING:
                raise TypeError(f"{type(self).__name__}() missing the required argument {field.attr!r}")
            given[field.attr] = None if field.default is MISSING else field.default
        for name in self.unstored:
            given.setdefault(name, None)
        self._init(**given)

    def __repr__(self) -> str:
        shown = [f"{f.attr}={getattr(self, f.attr)!r}" for f in self.stored_fields if not (f.secret or f.multiline)]
        return f"{type(self).__name__}({', '.join([*shown, f'method={self.method!r}'])})"

    def stored_values(self) -> JSONObject:
        """``{attr: value}`` of the stored fields (what ``fields.parse_fields`` returns)."""
        return {f.attr: getattr(self, f.attr) for f in self.stored_fields}

    def replace(self: R, **changes: object) -> R:
        """A copy with some attributes changed (unstored ones kept unless changed)."""
        values: dict[str, object] = {**self.stored_values(), **{n: getattr(self, n) for n in self.unstored}}
        values.update(changes)
        return type(self)(**values)

    def to_dict(self) -> JSONObject:
        """The JSON a host stores: ``method``, then each field by its JSON name (an optional field
        only when it is not None)."""
        out: JSONObject = {"method": self.method}
        for field in self.stored_fields:
            value = getattr(self, field.attr)
            if value is not None or field.required:
                out[field.name] = value
        return out

    @classmethod
    def from_dict(cls: type[R], stored: JSONInput) -> R:
        """The record from ``to_dict()`` output, each field checked (``InvalidInput`` names every bad one)."""
        from .fields import parse_fields

        values = parse_fields(cls.stored_fields, stored_body(cls.method, stored), what="(credentials)")
        return cls(**values)
