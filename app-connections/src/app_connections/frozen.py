"""The frozen value base of the kit's hand-written records (standard library only, import-light)."""

from __future__ import annotations

from collections.abc import Iterator


class _Frozen:
    """Slotted, immutable value: equality and hash over ``_fields``, readable repr."""

    __slots__: tuple[str, ...] = ()
    _fields: tuple[str, ...] = ()
    _repr_fields: tuple[str, ...] = ()

    def _init(self, **values: object) -> None:
        for name, value in values.items():
            object.__setattr__(self, name, value)

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"{type(self).__name__} is frozen; cannot set {name!r}")

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"{type(self).__name__} is frozen; cannot delete {name!r}")

    def _values(self) -> Iterator[object]:
        return (getattr(self, f) for f in self._fields)

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        return tuple(self._values()) == tuple(other._values())

    def __hash__(self) -> int:
        return hash(tuple(v if not isinstance(v, dict) else tuple(v) for v in self._values()))

    def __repr__(self) -> str:
        inner = ", ".join(f"{f}={getattr(self, f)!r}" for f in self._repr_fields or self._fields)
        return f"{type(self).__name__}({inner})"
