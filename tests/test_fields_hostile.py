"""A Mapping that fails while being read gets the same typed error as a non-object, through the
public parse path of a built-in method (``ConnectionType.parse``)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

import pytest

from azure_appconfig_plugin.connection import build_connection_type
from azure_appconfig_plugin.errors import InvalidInput


class _FailingMapping(Mapping[str, Any]):
    def __getitem__(self, key: str) -> Any:
        raise KeyError(key)

    def __iter__(self) -> Iterator[str]:
        raise RuntimeError("a broken mapping: iterating it fails")

    def __len__(self) -> int:
        return 1


def test_a_mapping_that_cannot_be_iterated_is_refused_as_input() -> None:
    with pytest.raises(InvalidInput) as caught:
        build_connection_type().parse("client-secret", _FailingMapping())
    assert [(e.field, e.message) for e in caught.value.errors] == [
        ("(input)", "must be an object (a JSON object of fields)")
    ]
    assert "broken mapping" not in str(caught.value)
