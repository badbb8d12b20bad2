"""Fuzz suite, part two: every auth method's parse/load/token credential (key material included),
the sync host API's ``secrets`` and ``tags``, Redis URLs and replies, federated token files and
``--from`` files. Each property: only typed errors (``AppConnectionError``), never an untyped
exception (``TypeError``, ``MemoryError``, ``RecursionError``, a library panic), no canary secret
in what is shown, bounded time per case. The profile decides how many cases (tests/hypothesis_profiles.py).
"""

from __future__ import annotations

import base64
import io
import json
import os
import time
from pathlib import Path
from typing import Any

import pytest
from asn1crypto import algos, core, keys, pem
from azure.core.credentials import AccessTokenInfo
from hypothesis import example, given
from hypothesis import strategies as st

import certs
from app_connections.stores.redis import RedisFlowStore, connect, redact_url, url_problem
from app_connections.stores.sealing import Sealer, generate_key
from app_connections.testing import fakes
from azure_appconfig_plugin.auth.workload_identity import read_assertion
from azure_appconfig_plugin.cli import main
from azure_appconfig_plugin.connection import build_connection_type
from azure_appconfig_plugin.errors import AppConnectionError
from azure_appconfig_plugin.stores import shared
from azure_appconfig_plugin.stores.token_cache import RedisTokenCache, TokenKey
from azure_appconfig_plugin.sync.destination import AppConfigurationDestination
from azure_appconfig_plugin.sync.entries import Secret
from azure_appconfig_plugin.sync.report import SyncReport
from azure_appconfig_plugin.sync.secret_files import read_secrets
from fuzz.test_fuzz import CANARY, CASE_SECONDS, fuzz, json_values, printable, text, typed_only
from hypothesis_profiles import examples, profile_settings

pytest_plugins = ["standins.fixtures"]  # the stand-in fixtures (standin, fake_token, sync_options)

CT = build_connection_type()
D = AppConfigurationDestination()
IDS = {"tenantId": fakes.FAKE_TENANT_ID, "clientId": fakes.FAKE_CLIENT_ID}
REDIS_URL = "INF_APP_CONNECTION_AZURE_APP_CONFIGURATION_REDIS_URL"
REDIS_KEY = "INF_APP_CONNECTION_AZURE_APP_CONFIGURATION_REDIS_ENCRYPTION_KEY"


# --- key material: valid, garbage, and hostile (built with asn1crypto) ------------------------------------


def _pbes2(iterations: int) -> Any:
    salt = algos.Pbkdf2Salt(name="specified", value=core.OctetString(b"saltsalt"))
    kdf = {"algorithm": "pbkdf2", "parameters": {"salt": salt, "iteration_count": iterations}}
    scheme = {"algorithm": "aes256_cbc", "parameters": core.OctetString(bytes(16))}
    return algos.EncryptionAlgorithm(
        {"algorithm": "pbes2", "parameters": {"key_derivation_func": kdf, "encryption_scheme": scheme}}
    )


def hostile_key(iterations: int) -> str:
    info = keys.EncryptedPrivateKeyInfo({"encryption_algorithm": _pbes2(iterations), "encrypted_data": b"\x00" * 64})
    return pem.armor("ENCRYPTED PRIVATE KEY", info.dump()).decode()


def _made_up_rsa(bits: int) -> Any:
    p, q = (int.from_bytes(os.urandom(bits // 8), "big") | 1 for _ in range(2))
    numbers = {"modulus": p * q, "public_exponent": 65537, "private_exponent": p, "prime1": p, "prime2": q}
    return keys.RSAPrivateKey({"version": 0, **numbers, "exponent1": 1, "exponent2": 1, "coefficient": 1})


def armored(label: str, data: bytes) -> str:
    return pem.armor(label, data).decode()


KEY_VALUES = st.one_of(
    st.sampled_from(
        [
            certs.key_pem(),
            certs.key_pem(passphrase=CANARY),
            certs.key_pem("ec"),
            hostile_key(2**31 - 1),
            hostile_key(2**32),
            hostile_key(2**64),
            armored("PRIVATE KEY", keys.PrivateKeyInfo.wrap(_made_up_rsa(20_000), "rsa").dump()),
            certs.cert_pem() + certs.key_pem(),
        ]
    ),
    st.builds(
        armored, st.sampled_from(["ENCRYPTED PRIVATE KEY", "PRIVATE KEY", "RSA PRIVATE KEY"]), st.binary(max_size=300)
    ),
    text,
)
CERT_VALUES = st.one_of(
    st.sampled_from([certs.cert_pem(), certs.cert_pem() + certs.key_pem(), certs.cert_pem(certs.cert("other"))]),
    st.builds(armored, st.just("CERTIFICATE"), st.binary(max_size=300)),
    text,
)
PKCS12_VALUES = st.one_of(
    st.sampled_from([certs.pkcs12_b64(), certs.pkcs12_b64(passphrase=CANARY)]),
    st.binary(max_size=400).map(lambda b: base64.b64encode(b"\x30\x82" + b).decode()),
    text,
)
JWT = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln"
FORM_VALUES = {
    **{name: st.one_of(st.just(value), text, json_values) for name, value in IDS.items()},
    "clientSecret": st.one_of(st.just(CANARY), json_values),
    "privateKey": KEY_VALUES,
    "certificate": CERT_VALUES,
    "pkcs12": PKCS12_VALUES,
    "passphrase": st.one_of(st.just(CANARY), text),
    "sendCertificateChain": st.one_of(st.booleans(), json_values),
    "tokenFilePath": st.one_of(st.sampled_from(["/nonexistent/token", "/" + JWT, "relative/path"]), text),
    "connectionString": st.one_of(
        st.just(f"Endpoint=https://contoso.azconfig.io;Id=x;Secret={CANARY}"), st.just(CANARY), text
    ),
    "cloud": st.one_of(st.sampled_from(["public", "usgov", "china"]), text),
    "endpoint": st.one_of(st.just("https://contoso.azconfig.io"), text),
}
forms = st.fixed_dictionaries({}, optional={**FORM_VALUES, "unknown\x1b[2J": json_values})
methods = st.one_of(st.sampled_from(sorted(CT.methods)), text)


def _credential_from(parsed: Any) -> None:
    if parsed is None or isinstance(parsed, AppConnectionError) or CT.is_interactive(parsed.method):
        return
    stored = parsed.to_dict()
    loaded = typed_only(lambda: CT.load(stored))
    if not isinstance(loaded, AppConnectionError) and loaded.method != "access-key":
        typed_only(lambda: CT.token_credential(loaded))  # built offline; no token is asked for


@fuzz(
    methods,
    forms,
    share=0.5,
    explicit=(
        ("certificate", {**IDS, "privateKey": certs.key_pem(), "certificate": certs.cert_pem()}),
        ("certificate", {**IDS, "pkcs12": certs.pkcs12_b64(passphrase=CANARY), "passphrase": CANARY}),
        ("certificate", {**IDS, "privateKey": hostile_key(2**32), "certificate": certs.cert_pem()}),
        ("certificate", {**IDS, "privateKey": certs.key_pem(), "certificate": certs.cert_pem() + certs.key_pem()}),
        ("client-secret", {**IDS, "clientSecret": CANARY}),
        ("workload-identity", {**IDS, "tokenFilePath": "/" + JWT}),
    ),
)
def test_every_method_parse_load_and_token_credential(method: Any, form: dict[str, Any]) -> None:
    parsed = typed_only(lambda: CT.parse(method, form))
    if isinstance(parsed, AppConnectionError):
        assert printable(str(parsed)) and JWT not in str(parsed)
    else:
        assert CANARY not in repr(parsed)
    _credential_from(parsed)


@fuzz(
    st.sampled_from(["certificate", "workload-identity", "access-key"]),
    forms,
    share=0.1,
    explicit=(("certificate", {**IDS, "privateKey": hostile_key(2**31 - 1), "certificate": certs.cert_pem()}),),
)
def test_validate_answers_with_a_report(method: str, form: dict[str, Any]) -> None:
    start = time.monotonic()
    report = CT.validate(form, method=method)
    assert time.monotonic() - start < CASE_SECONDS
    assert CANARY not in json.dumps(report.to_dict())


# --- the sync host API ------------------------------------------------------------------------------------

names = st.one_of(st.sampled_from(["DB_PASSWORD", "api.key", "x"]), text, st.integers(), st.none())
tags = st.one_of(st.dictionaries(text, text, max_size=2), json_values, st.lists(st.tuples(text, text), max_size=2))
raw_secrets = st.one_of(
    st.just(CANARY),
    json_values,
    st.fixed_dictionaries(
        {"value": st.one_of(st.just(CANARY), json_values)}, optional={"contentType": json_values, "tags": tags}
    ),
    st.builds(Secret, st.just(CANARY), st.one_of(st.none(), text), st.dictionaries(text, json_values, max_size=2)),
)
secrets_shapes = st.one_of(
    st.dictionaries(names, raw_secrets, max_size=4),
    st.lists(st.tuples(names, raw_secrets), max_size=3),
    st.lists(json_values, max_size=3),
    json_values,
    text,
)


def test_the_sync_host_api_takes_secrets_and_tags_of_any_shape(standin: Any, sync_options: dict[str, Any]) -> None:
    """``plan`` answers a report or a typed error (before any request) for every shape of secrets."""
    ran = 0

    @profile_settings(0.25)
    @given(secrets_shapes)
    def run(secrets: Any) -> None:
        nonlocal ran
        ran += 1
        result = typed_only(lambda: D.plan(None, {"endpoint": standin.endpoint}, secrets, **sync_options))
        assert isinstance(result, (AppConnectionError, SyncReport))

    run()
    assert ran >= examples(0.25)
    assert isinstance(D.plan(None, {"endpoint": standin.endpoint}, {"A": CANARY}, **sync_options), SyncReport)


# --- Redis URLs, settings and replies --------------------------------------------------------------------

redis_urls = st.one_of(
    text,
    st.builds(
        lambda scheme, auth, host, path, query: f"{scheme}{auth}{host}{path}{query}",
        st.sampled_from(["redis://", "rediss://", "", "http://", "redis:"]),
        st.sampled_from(["", f":{CANARY}@", f"user:{CANARY}@", "@"]),
        st.sampled_from(["localhost", "redis.internal:6379", "[::1]:6380", "h:99999", "h\x1b[2J", ""]),
        st.sampled_from(["", "/", "/0", "/x", "/1/2", "/-1"]),
        st.one_of(
            st.sampled_from(
                ["", "?db=x", "?max_connections=-5", "?socket_timeout=nan", "?foo=bar", "?db=1&protocol=3"]
            ),
            st.builds(lambda k, v: f"?{k}={v}", text, text),
        ),
    ),
)


@fuzz(
    redis_urls,
    explicit=(
        (f"redis://:{CANARY}@localhost:6379/0?db=x",),
        ("redis://h?max_connections=-5",),
        (f"u:{CANARY}@h:6379",),
    ),
)
def test_redis_urls_give_typed_errors_and_never_their_password(url: str) -> None:
    shown = redact_url(url) + str(url_problem(url))
    assert CANARY not in shown and printable(shown)
    client = typed_only(lambda: connect(url))  # redis-py connects lazily: no connection is opened here
    env = {REDIS_URL: url, REDIS_KEY: SEAL_KEY}
    typed_only(lambda: shared.configured(env))
    assert typed_only(lambda: shared.shared_token_cache(env)) is None or not isinstance(client, AppConnectionError)


SEAL_KEY = generate_key()
KEY = TokenKey.for_client_secret("https://login.microsoftonline.com/t", "c", "https://azconfig.io/.default", CANARY)


class Replies:
    """A Redis client whose every reply is the one drawn (and that never talks to a server)."""

    def __init__(self, reply: Any) -> None:
        self.reply = reply

    def register_script(self, script: str) -> Any:
        return lambda **_: self.reply

    def get(self, key: str) -> Any:
        return self.reply

    def getdel(self, key: str) -> Any:
        return self.reply

    def set(self, key: str, value: Any, **_: Any) -> Any:
        return self.reply

    def delete(self, key: str) -> Any:
        return self.reply


def sealed(plain: bytes, context: str) -> bytes:
    return Sealer.from_setting(SEAL_KEY).seal(plain, context=context.encode("utf-8"))


TOKEN_KEY = RedisTokenCache(Replies(None), keys=SEAL_KEY)._key(KEY)
replies = st.one_of(
    st.none(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.just(10**15),
    st.lists(st.binary(max_size=8), max_size=3),
    st.binary(max_size=64),
    text,
    st.dictionaries(text, text, max_size=2),
    json_values.map(lambda v: sealed(json.dumps(v).encode(), TOKEN_KEY)),
    st.builds(
        lambda token, exp: sealed(json.dumps({"token": token, "expires_on": exp}).encode(), TOKEN_KEY),
        json_values,
        json_values,
    ),
)


@fuzz(replies, explicit=((10**15,), ([b"a"],), ("text",), ("\ud800",), (sealed(b'{"token": 1}', TOKEN_KEY),)))
def test_a_redis_reply_of_any_type_falls_back_to_asking_directly(reply: Any) -> None:
    cache = RedisTokenCache(Replies(reply), keys=SEAL_KEY, wait_seconds=0.05, poll_seconds=0.01, sleep=lambda _: None)
    fetched = AccessTokenInfo("fetched", int(time.time()) + 3600)
    token = typed_only(lambda: cache.get_or_fetch(KEY, lambda: fetched))
    assert isinstance(token, AccessTokenInfo), token
    store = RedisFlowStore(Replies(reply), keys=SEAL_KEY)
    typed_only(lambda: store.take("some-state"))


# --- federated token files, --from files ------------------------------------------------------------------


def _jwt(claims: Any) -> bytes:
    def part(value: Any) -> str:
        return base64.urlsafe_b64encode(json.dumps(value, default=str).encode()).decode().rstrip("=")

    return f"{part({'alg': 'RS256'})}.{part(claims)}.c2ln".encode()


exps = st.one_of(
    st.integers(min_value=-(2**80), max_value=2**80),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([-1e300, 1e300, 2**63, -(2**63), 253402300800, True]),
    json_values,
)
token_files = st.one_of(
    st.builds(lambda exp: _jwt({"exp": exp, "sub": "x"}), exps),
    json_values.map(_jwt),
    st.binary(max_size=200),
)


FEDERATED_EXAMPLES = (_jwt({"exp": -1e300}),), (_jwt({"exp": 1e300}),), (_jwt({"exp": -(2**80)}),), (_jwt({"exp": 0}),)


def test_federated_token_contents_give_typed_errors(tmp_path: Path) -> None:
    """Whatever the token file holds (an ``exp`` out of any calendar's range included): a token or a typed error."""
    path = tmp_path / "token"
    ran = 0

    @profile_settings(0.5)
    @given(token_files)
    def run(contents: bytes) -> None:
        nonlocal ran
        ran += 1
        path.write_bytes(contents)
        result = typed_only(lambda: read_assertion(str(path)))
        if isinstance(result, AppConnectionError):
            assert printable(str(result))

    for case in FEDERATED_EXAMPLES:
        run = example(*case)(run)
    run()
    assert ran >= examples(0.5)


nested_json = st.builds(
    lambda opener, depth, tail: (opener * depth + tail).encode(),
    st.sampled_from(["[", '{"a":', '[{"b":']),
    st.integers(min_value=1, max_value=200_000),
    st.sampled_from(["", "1", '"x"', "]" * 3]),
)


@fuzz(
    st.one_of(nested_json, json_values.map(lambda v: json.dumps(v).encode()), st.binary(max_size=100)),
    st.sampled_from(["json", "env"]),
    share=0.3,
    explicit=((b"[" * 100_000, "json"), (b'{"a":' * 100_000, "json"), (json.dumps({"A": CANARY}).encode(), "json")),
)
def test_from_files_of_any_depth_give_typed_errors(data: bytes, fmt: str) -> None:
    result = typed_only(lambda: read_secrets("-", fmt=fmt, stdin=io.BytesIO(data)))
    if isinstance(result, AppConnectionError):
        assert CANARY not in str(result)


def test_a_deeply_nested_from_file_through_the_cli_is_a_usage_error(tmp_path: Path) -> None:
    deep = tmp_path / "deep.json"
    deep.write_text("[" * 200_000)
    out, err = io.StringIO(), io.StringIO()
    code = main(["sync", "plan", "--from", str(deep), "--endpoint", "https://contoso.azconfig.io"], out=out, err=err)
    assert code == 2 and "nests JSON too deeply" in err.getvalue() and "Traceback" not in err.getvalue()


# --- the CLI with key files and --from files -------------------------------------------------------------

CLI_FILES = {
    "key.pem": certs.key_pem().encode(),
    "hostile.pem": hostile_key(2**32).encode(),
    "combined.pem": (certs.cert_pem() + certs.key_pem()).encode(),
    "cert.pem": certs.cert_pem().encode(),
    "garbage.pem": armored("ENCRYPTED PRIVATE KEY", b"\x30\x03\x02\x01\x01").encode(),
    "cert.pfx": base64.b64decode(certs.pkcs12_b64()),
    "deep.json": b"[" * 100_000,
    "secrets.json": json.dumps({"A": CANARY}).encode(),
    "missing.pem": None,
}
cli_argvs = st.builds(
    lambda command, options: command + [x for pair in options for x in pair],
    st.sampled_from(
        [
            ["validate", "--method", "certificate"],
            ["connect", "certificate", "--stdout"],
            ["sync", "plan", "--endpoint", "https://contoso.azconfig.io", "--method", "certificate"],
        ]
    ),
    st.lists(
        st.one_of(
            st.tuples(
                st.sampled_from(["--certificate-file", "--private-key-file", "--pkcs12-file", "--from"]),
                st.sampled_from(sorted(CLI_FILES)),
            ),
            st.tuples(
                st.sampled_from(["--tenant-id", "--client-id"]),
                st.sampled_from([fakes.FAKE_TENANT_ID, fakes.FAKE_CLIENT_ID, "x"]),
            ),
            st.tuples(st.just("--passphrase-env"), st.sampled_from(["CANARY_PASSPHRASE", "UNSET_ENV"])),
        ),
        max_size=5,
    ),
)


def test_cli_commands_with_key_and_secret_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Key files (hostile, garbage, combined) and --from files through the CLI: an exit code, never a traceback."""
    for name, data in CLI_FILES.items():
        if data is not None:
            (tmp_path / name).write_bytes(data)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("CANARY_PASSPHRASE", CANARY)
    ran = 0

    @profile_settings(0.2)
    @given(cli_argvs)
    def run(argv: list[str]) -> None:
        nonlocal ran
        ran += 1
        out, err = io.StringIO(), io.StringIO()
        start = time.monotonic()
        code = main(argv, out=out, err=err)
        assert time.monotonic() - start < CASE_SECONDS
        shown = out.getvalue() + err.getvalue()
        assert code in (0, 1, 2) and "Traceback" not in shown, (argv, shown)
        if "--stdout" not in argv:
            assert CANARY not in shown

    explicit = (
        [
            "validate",
            "--method",
            "certificate",
            "--tenant-id",
            fakes.FAKE_TENANT_ID,
            "--client-id",
            fakes.FAKE_CLIENT_ID,
            "--certificate-file",
            "cert.pem",
            "--private-key-file",
            "hostile.pem",
            "--passphrase-env",
            "CANARY_PASSPHRASE",
        ],
        ["sync", "plan", "--endpoint", "https://contoso.azconfig.io", "--from", "deep.json"],
    )
    for argv in explicit:
        run = example(argv)(run)
    run()
    assert ran >= examples(0.2)
