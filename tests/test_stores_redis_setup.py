"""Setting up the Redis stores: the errors an operator can hit before any Redis command runs (stores/redis.py)."""

from __future__ import annotations

import os
import sys
from typing import Any

import pytest

from app_connections.stores.errors import SealKeyError, SharedStoreError
from app_connections.stores.redis import RedisFlowStore, connect, describe_client, make_sealer
from app_connections.stores.sealing import generate_key
from azure_appconfig_plugin.envvars import REDIS_KEY_ENV


def test_without_redis_py_the_error_says_which_extra_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "redis", None)  # what `import redis` sees when redis-py is not installed
    with pytest.raises(SharedStoreError) as caught:
        connect("redis://127.0.0.1:6379/0")
    assert caught.value.code == "redis_missing"
    assert 'pip install "app-connections[redis]"' in str(caught.value)


def test_a_client_that_is_not_redis_py_is_described_without_details() -> None:
    assert describe_client(object()) == "Redis"


def test_a_redis_py_client_is_described_by_address_only() -> None:
    client = connect("redis://:canary-password@127.0.0.1:6390/3")
    try:
        assert describe_client(client) == "Redis at 127.0.0.1:6390/3"
    finally:
        client.close()


def test_the_kit_reads_no_environment_for_keys(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(REDIS_KEY_ENV, generate_key())  # the provider's setting: not the kit's to read
    with pytest.raises(SealKeyError) as caught:
        make_sealer(None)
    assert caught.value.field == "keys" and "pass keys=" in str(caught.value)


def test_the_provider_token_cache_reads_its_key_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    from unittest.mock import MagicMock

    from app_connections import policy as policies
    from app_connections.policy import HostPolicy
    from azure_appconfig_plugin.stores.token_cache import RedisTokenCache

    monkeypatch.setenv(REDIS_KEY_ENV, generate_key())
    with pytest.raises(SealKeyError):  # os.environ is not read behind the host's back
        RedisTokenCache(MagicMock())
    with policies.use(HostPolicy.library(env=os.environ)):  # the host's own choice
        assert repr(RedisTokenCache(MagicMock()))
        monkeypatch.delenv(REDIS_KEY_ENV)
        with pytest.raises(SealKeyError) as caught:
            RedisTokenCache(MagicMock())
    assert REDIS_KEY_ENV in str(caught.value)


@pytest.mark.parametrize("keys", [[os.urandom(32)], generate_key()], ids=["key-bytes", "setting-string"])
def test_the_sealer_accepts_key_bytes_and_a_setting_string(keys: Any) -> None:
    sealer = make_sealer(keys)
    assert sealer.open(sealer.seal(b"x", context=b"c"), context=b"c") == b"x"
    assert make_sealer(sealer) is sealer


@pytest.mark.parametrize("ttl", [0, -5])
def test_a_flow_store_lifetime_must_be_positive(ttl: int) -> None:
    with pytest.raises(ValueError, match="ttl_seconds must be positive"):
        RedisFlowStore(object(), keys=generate_key(), ttl_seconds=ttl)


@pytest.mark.parametrize("value", ["soon", "1x", ""], ids=["word", "unit", "blank"])
def test_a_timeout_option_that_is_not_a_number_is_named_before_connecting(value: str) -> None:
    with pytest.raises(SharedStoreError) as caught:
        connect(f"redis://:canary-password@127.0.0.1:6390/0?socket_timeout={value}")
    assert caught.value.code == "redis_url_invalid"
    assert "has option socket_timeout that is not seconds, more than 0 and at most 300" in str(caught.value)
    assert "canary-password" not in str(caught.value)


def test_a_url_redis_py_refuses_is_a_typed_error_without_the_password(monkeypatch: pytest.MonkeyPatch) -> None:
    """A URL the kit's checks pass but redis-py refuses (a newer redis-py may check more) is still
    ``redis_url_invalid``, and redis-py's own message, which may quote the URL, is not shown."""
    import redis

    url = "redis://:canary-password@127.0.0.1:6390/0"

    def refuse(cls: Any, given: str, **options: Any) -> Any:
        raise ValueError(f"redis-py refuses {given}")

    monkeypatch.setattr(redis.Redis, "from_url", classmethod(refuse))
    with pytest.raises(SharedStoreError) as caught:
        connect(url)
    assert caught.value.code == "redis_url_invalid"
    assert str(caught.value).startswith("Redis URL redis://***@127.0.0.1:6390/0 is refused by redis-py (ValueError)")
    assert "canary-password" not in str(caught.value)
