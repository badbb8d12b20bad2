"""The hand-written records (records.py): frozen, compared by value, and strict about how methods are keyed."""

from __future__ import annotations

from typing import Any

import pytest

from app_connections.records import AuthMethod, ConnectionType, InstanceSetting
from azure_appconfig_plugin.errors import InvalidInput


class _Method(AuthMethod):
    name = "Static"

    def __init__(self, slug: str) -> None:
        self._slug = slug

    @property
    def slug(self) -> str:
        return self._slug

    def input_schema(self) -> dict[str, Any]:
        return {"type": "object", "properties": {}}

    def parse(self, data: Any) -> Any:
        raise NotImplementedError


class _Interactive(_Method):
    """Interactive but without load(): it cannot be restored from storage."""

    interactive = True


def _setting(**kw: Any) -> InstanceSetting:
    return InstanceSetting("MY_ENV", "Title", "What it is", **kw)


def test_a_record_is_frozen() -> None:
    s = _setting()
    with pytest.raises(AttributeError, match="InstanceSetting is frozen; cannot set 'title'"):
        s.title = "other"
    with pytest.raises(AttributeError, match="InstanceSetting is frozen; cannot delete 'title'"):
        del s.title
    assert s.title == "Title"


def test_records_compare_and_hash_by_value() -> None:
    assert _setting() == _setting()
    assert hash(_setting()) == hash(_setting())
    assert _setting() != _setting(secret=True)
    assert _setting() != ("MY_ENV", "Title", "What it is", False, ())  # another type is never equal
    assert len({_setting(), _setting(), _setting(secret=True)}) == 2
    ct = ConnectionType("t", "T", {"a": _Method("a")})
    assert hash(ct) == hash(ConnectionType("t", "T", ct.methods))  # a dict field hashes by its keys


def test_a_method_keyed_under_another_slug_is_refused() -> None:
    with pytest.raises(ValueError, match="method registered as 'a' has slug 'b'"):
        ConnectionType("t", "T", {"a": _Method("b")})


def test_an_interactive_method_without_load_cannot_load_stored_credentials() -> None:
    ct = ConnectionType("t", "T", {"live": _Interactive("live")})
    with pytest.raises(InvalidInput) as caught:
        ct.load({"method": "live"})
    assert "auth method 'live' cannot load stored credentials (it has no load())" in str(caught.value)
