"""The roots of untyped exceptions the fuzz suite found, one test each: Redis URL options (also on the
way to a token), Redis replies of the wrong type, the sync host API's secrets and tags, a federated
token whose ``exp`` has no calendar date, and JSON nested deeper than the interpreter's stack."""

from __future__ import annotations

import base64
import io
import json
import time
from pathlib import Path
from typing import Any

import pytest
from azure.core.credentials import AccessTokenInfo

from app_connections.stores.errors import SharedStoreError
from app_connections.stores.redis import QUERY_OPTIONS, RedisFlowStore, connect, reply_bytes, url_problem
from app_connections.stores.sealing import generate_key
from app_connections.testing import fakes
from azure_appconfig_plugin.auth.workload_identity import read_assertion
from azure_appconfig_plugin.connection import build_connection_type
from azure_appconfig_plugin.envvars import REDIS_KEY_ENV, REDIS_URL_ENV
from azure_appconfig_plugin.errors import InvalidFederatedToken, InvalidInput
from azure_appconfig_plugin.stores import shared
from azure_appconfig_plugin.stores.token_cache import RedisTokenCache, TokenKey
from azure_appconfig_plugin.sync.entries import Secret, desired_entries
from azure_appconfig_plugin.sync.secret_files import read_secrets

CT = build_connection_type()
SEAL_KEY = generate_key()
PASSWORD = "canary-redis-pw-K1"


@pytest.mark.parametrize(
    ("url", "words"),
    [
        ("redis://h?db=x", "option db"),
        ("redis://h?max_connections=-5", "option max_connections"),
        ("redis://h?socket_timeout=inf", "option socket_timeout"),
        ("redis://h?db=\u00b2", "option db"),
        ("redis://h?db=" + "9" * 5000, "option db"),
        ("redis://h/x", "database number"),
        ("redis://h?bogus\x1b[2J=1", "unknown option 'bogus'"),
        (f"redis://:{PASSWORD}@h?password=x", "unknown option 'password'"),
    ],
)
def test_redis_url_options_are_checked_before_redis_py_sees_them(url: str, words: str) -> None:
    problem = url_problem(url)
    assert problem is not None and words in problem and PASSWORD not in problem and "\x1b" not in problem
    with pytest.raises(SharedStoreError) as err:
        connect(url)
    assert err.value.code == "redis_url_invalid" and PASSWORD not in str(err.value)


def test_every_option_redis_py_knows_that_is_allowed_passes() -> None:
    from redis.connection import URL_QUERY_ARGUMENT_PARSERS

    assert set(QUERY_OPTIONS) <= set(URL_QUERY_ARGUMENT_PARSERS)
    url = "rediss://h:6380/2?socket_timeout=2&timeout=1.5&max_connections=4&protocol=3&retry_on_timeout=false"
    assert url_problem(url) is None
    connect(url)  # redis-py connects lazily


def test_a_bad_redis_url_on_the_way_to_a_token_falls_back(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(REDIS_URL_ENV, "redis://127.0.0.1?max_connections=-5")
    monkeypatch.setenv(REDIS_KEY_ENV, SEAL_KEY)
    monkeypatch.setattr(shared, "_cached", {})
    credentials = CT.parse(
        "client-secret",
        {"tenantId": fakes.FAKE_TENANT_ID, "clientId": fakes.FAKE_CLIENT_ID, "clientSecret": "canary-cs"},
    )
    credential = CT.token_credential(credentials)
    token = AccessTokenInfo("direct", int(time.time()) + 3600)
    monkeypatch.setattr(type(credential), "_acquire", lambda self, claims: token)
    assert credential.get_token(credential.cloud.scope).token == "direct"


class OneReply:
    def __init__(self, reply: Any) -> None:
        self.reply = reply

    def register_script(self, script: str) -> Any:
        return lambda **_: 1

    def get(self, key: str) -> Any:
        return self.reply

    getdel = get

    def set(self, key: str, value: Any, **_: Any) -> Any:
        return True

    def delete(self, key: str) -> Any:
        return 1


KEY = TokenKey.for_client_secret("https://login.microsoftonline.com/t", "c", "https://azconfig.io/.default", "s")


@pytest.mark.parametrize("reply", [10**15, [b"a", b"b"], {"a": 1}, 3.5, b"x" * (2 << 20), "\ud800"])
def test_a_redis_reply_of_the_wrong_type_falls_back_to_the_identity_platform(reply: Any) -> None:
    fetched = AccessTokenInfo("fetched", int(time.time()) + 3600)
    cache = RedisTokenCache(OneReply(reply), keys=SEAL_KEY)
    assert cache.get_or_fetch(KEY, lambda: fetched) is fetched
    with pytest.raises(SharedStoreError):
        RedisFlowStore(OneReply(reply), keys=SEAL_KEY).take("state")
    with pytest.raises(SharedStoreError, match=r"(not a|no) stored entry") as caught:
        reply_bytes(OneReply(reply), reply, "a read")
    assert caught.value.code == "redis_reply_invalid"


def test_a_sealed_entry_of_another_format_falls_back_too() -> None:
    from app_connections.stores.sealing import Sealer

    cache = RedisTokenCache(OneReply(None), keys=SEAL_KEY)
    rkey = cache._key(KEY)
    fetched = AccessTokenInfo("fetched", int(time.time()) + 3600)
    for entry in ([1], {"token": 5, "expires_on": 1}, {"token": "t", "expires_on": "soon"}, {"token": "t"}):
        blob = Sealer.from_setting(SEAL_KEY).seal(json.dumps(entry).encode(), context=rkey.encode())
        cache._client = OneReply(blob)
        assert cache.get_or_fetch(KEY, lambda: fetched) is fetched


@pytest.mark.parametrize(
    "secrets",
    [[1, 2], "AB", ["ab"], 5, None, [("A", "v", "extra")], {"A": {"value": "v", "tags": ["x"]}}],
    ids=["list of ints", "string", "list of strings", "int", "none", "triples", "tags as a list"],
)
def test_the_sync_host_api_refuses_secrets_of_another_shape(secrets: Any) -> None:
    from azure_appconfig_plugin.sync.config import parse_destination

    config = parse_destination({"endpoint": "https://contoso.azconfig.io"})
    with pytest.raises(InvalidInput) as err:
        desired_entries(secrets, config)
    assert err.value.errors[0].field.startswith("secrets")


def test_a_secret_with_tags_that_are_not_a_mapping_is_a_typed_error() -> None:
    with pytest.raises(InvalidInput, match="tags"):
        Secret("v", tags=["a"])  # type: ignore[arg-type]  # a host passing the wrong shape is the point


def _jwt(claims: dict[str, Any]) -> bytes:
    def part(value: Any) -> str:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")

    return f"{part({'alg': 'RS256'})}.{part(claims)}.c2ln".encode()


@pytest.mark.parametrize("exp", [-1e300, -(2**80), float("-inf")], ids=["-1e300", "-2^80", "-inf"])
def test_a_federated_token_whose_exp_has_no_calendar_date_is_still_expired(
    tmp_path: Path, exp: float, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "token"
    path.write_bytes(_jwt({"exp": exp}))  # json writes -inf as -Infinity, which it reads back
    logger = "azure_appconfig_plugin.auth.workload_identity"
    with caplog.at_level("WARNING", logger=logger), pytest.raises(InvalidFederatedToken) as caught:
        read_assertion(str(path))
    assert caught.value.code == "token_file_unusable"  # one message to the user; the reason in the log
    assert "expired at a time before any calendar date" in caplog.text


@pytest.mark.parametrize("opener", ["[", '{"a":'])
def test_json_nested_deeper_than_the_stack_is_a_usage_error(opener: str) -> None:
    with pytest.raises(InvalidInput, match="nests JSON too deeply"):
        read_secrets("-", fmt="json", stdin=io.BytesIO((opener * 200_000).encode()))
