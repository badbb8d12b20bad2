"""Hypothesis fuzz suite: every public parser and entry point, on the inputs of the Hypothesis profile.

The default profile tries a few hundred derandomized cases per property, plus the explicit
``@example``s each property names (valid inputs, so the success paths are always exercised); CI also
runs the ``fuzz`` profile (thousands of random cases each, tests/hypothesis_profiles.py).

Each property asserts: only the package's typed errors (``AppConnectionError`` subclasses) or a
clean CLI exit code; no canary secret in any message or output; bounded time per case; shown
text free of control and bidi characters. The network is blocked (conftest), so anything that
gets as far as a request ends in a typed "could not reach" error.
"""

from __future__ import annotations

import io
import json
import time
import unicodedata
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from app_connections.flow_store import InMemoryFlowStore
from app_connections.testing import fakes
from app_connections.text import clean, redact_secrets
from azure_appconfig_plugin.auth import aad_errors, oauth
from azure_appconfig_plugin.cli import main
from azure_appconfig_plugin.connection import build_connection_type
from azure_appconfig_plugin.endpoints import parse_endpoint
from azure_appconfig_plugin.errors import (
    AppConnectionError,
    AppNotFound,
    AuthError,
    AuthorizationCodeInvalid,
    InvalidClientSecret,
    RedirectUriMismatch,
)
from azure_appconfig_plugin.http.answers import check_token_answer
from azure_appconfig_plugin.http.errors import MalformedAnswer
from azure_appconfig_plugin.methods import ClientSecretMethod, OAuthMethod
from azure_appconfig_plugin.settings import ENDPOINT_ALLOWLIST_ENV, InstanceSettings
from azure_appconfig_plugin.testing import fakes as azure_fakes
from hypothesis_profiles import examples, profile_settings

CANARY = "canary-fuzz-secret-K7w"
CASE_SECONDS = 5.0  # bounded time is asserted per case (a Hypothesis deadline would only add flakiness)

# --- strategies -------------------------------------------------------------------------------------

NASTY = "\ud800\udcff\u202e\u2066\x1b\r\n\x07\x00\t\u200b\ufeff"
text = st.text(st.one_of(st.characters(), st.sampled_from(NASTY)), max_size=24)
samples = st.sampled_from(
    [
        "",
        " ",
        fakes.FAKE_TENANT_ID,
        fakes.FAKE_CLIENT_ID,
        "contoso.onmicrosoft.com",
        "public",
        "usgov",
        "china",
        "oauth",
        "client-secret",
        "organizations",
        "x" * 300,
        "AADSTS7000215",
        "7000215",
        "1e400",
        "null",
    ]
)
scalars = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(allow_nan=True, allow_infinity=True), text, samples
)
json_values = st.recursive(
    scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(text, inner, max_size=3)),
    max_leaves=6,
)
secret_values = st.one_of(
    st.just(CANARY), st.just(CANARY + "\ud800"), st.just(" " + CANARY), st.just(CANARY + "\x00"), json_values
)
field_values = st.one_of(samples, json_values)
FIELDS = {
    "tenantId": field_values,
    "clientId": field_values,
    "cloud": field_values,
    "method": field_values,
    "clientSecret": secret_values,
    "refreshToken": secret_values,
    "accessToken": secret_values,
    "expiresOn": json_values,
}
forms = st.one_of(
    st.fixed_dictionaries({}, optional={**FIELDS, "unknownField": json_values}),
    json_values,
)

# Valid inputs every run tries (explicit examples): the success paths, with the canary as the secret.
IDS = {"tenantId": fakes.FAKE_TENANT_ID, "clientId": fakes.FAKE_CLIENT_ID}
SECRET_FORM = {**IDS, "clientSecret": CANARY}
STORED_SECRET = {"method": "client-secret", **SECRET_FORM}
STORED_OAUTH = {"method": "oauth", **IDS, "refreshToken": CANARY, "accessToken": CANARY, "expiresOn": 4_000_000_000}
LOADER = build_connection_type()


def fuzz(
    *strategies: Any, share: float = 1.0, explicit: tuple[tuple[Any, ...], ...] = ()
) -> Callable[[Callable[..., None]], Callable[[], None]]:
    """A test that runs ``body`` on every ``explicit`` case, then on at least ``examples(share)``
    generated ones (and checks that it did)."""

    def decorate(body: Callable[..., None]) -> Callable[[], None]:
        def test() -> None:
            ran = 0

            @profile_settings(share)
            @given(st.tuples(*strategies))
            def prop(values: tuple[Any, ...]) -> None:
                nonlocal ran
                ran += 1
                body(*values)

            for case in explicit:
                prop = example(case)(prop)
            prop()
            assert ran >= examples(share) + len(explicit)

        test.__name__ = test.__qualname__ = body.__name__
        test.__doc__ = body.__doc__
        return test

    return decorate


def typed_only(call: Callable[[], Any]) -> Any:
    """Run ``call``: a typed error is fine (returned), anything else fails; the message holds no canary."""
    start = time.monotonic()
    try:
        result = call()
    except AppConnectionError as exc:
        shown = str(exc) + json.dumps(exc.to_dict(), default=str) + repr(exc)
        assert CANARY not in shown
        result = exc
    assert time.monotonic() - start < CASE_SECONDS
    return result


def printable(shown: str) -> bool:
    return not any(unicodedata.category(ch) in ("Cc", "Cf", "Cs") and ch not in "\n" for ch in shown)


# --- parsers ------------------------------------------------------------------------------------------


@fuzz(
    forms,
    explicit=((SECRET_FORM,), ({**SECRET_FORM, "cloud": "usgov"},), ({**SECRET_FORM, "tenantId": " contoso.com "},)),
)
def test_parse_client_secret(data: Any) -> None:
    result = typed_only(lambda: ClientSecretMethod().parse(data))
    assert CANARY not in repr(result)


@fuzz(forms, explicit=(({},), ({"tenantId": "contoso.onmicrosoft.com", "cloud": "china"},)))
def test_parse_oauth_input(data: Any) -> None:
    typed_only(lambda: OAuthMethod().parse(data))


@fuzz(forms, explicit=((STORED_SECRET,), (STORED_OAUTH,), ({**STORED_OAUTH, "cloud": "usgov"},)))
def test_load_credentials(data: Any) -> None:
    result = typed_only(lambda: LOADER.load(data))
    assert CANARY not in repr(result)


endpoints = st.one_of(
    text,
    st.builds(
        lambda a, b: f"https://{a}{b}",
        st.sampled_from(["", "user:" + CANARY + "@", "x:@"]),
        st.sampled_from(["contoso.azconfig.io", "[fd00::5]", "127.0.0.1:8443", "a.azconfig.azure.us", "x.example.com"]),
    ),
    st.builds(
        lambda s, q: s + q,
        st.sampled_from(["https://contoso.azconfig.io", "Endpoint=https://c.azconfig.io;Id=x;Secret=", ""]),
        st.sampled_from(["?sig=" + CANARY, "/?sv=1&sig=" + CANARY, "", ";Secret=" + CANARY, "/path?x=" + CANARY]),
    ),
    st.just(CANARY),  # a key pasted as the endpoint
    json_values,
)


@fuzz(
    endpoints,
    st.one_of(st.none(), field_values),
    st.sampled_from(["", "[fd00::5]", "127.0.0.1:8443,x.example.com", "::1", "bad entry"]),
    explicit=(
        ("https://contoso.azconfig.io", None, ""),
        ("https://a.azconfig.azure.us", "usgov", ""),
        ("https://127.0.0.1:8443", None, "127.0.0.1:8443,x.example.com"),
        (f"https://user:{CANARY}@contoso.azconfig.io/?sig={CANARY}", None, ""),
    ),
)
def test_parse_endpoint(endpoint: Any, cloud: Any, allow: str) -> None:
    result = typed_only(lambda: parse_endpoint(endpoint, cloud=cloud, env={ENDPOINT_ALLOWLIST_ENV: allow}))
    if isinstance(result, AppConnectionError):
        assert printable(str(result))


@fuzz(
    forms,
    st.sampled_from([None, "oauth", "client-secret", "other"]),
    st.one_of(st.none(), endpoints),
    explicit=(
        (SECRET_FORM, "client-secret", "https://contoso.azconfig.io"),
        (STORED_SECRET, None, "https://contoso.azconfig.io"),
        (STORED_OAUTH, None, None),
    ),
)
def test_validate_never_raises(data: Any, method: str | None, endpoint: Any) -> None:
    start = time.monotonic()
    report = build_connection_type().validate(data, method=method, endpoint=endpoint, env={}, settings=None)
    assert time.monotonic() - start < CASE_SECONDS
    shown = json.dumps(report.to_dict())
    assert CANARY not in shown
    assert not report.ok  # nothing can be proven offline


@fuzz(
    st.one_of(
        json_values,
        st.dictionaries(
            st.sampled_from(["state", "code", "error", "error_description", "error_codes", "correlation_id"]),
            st.one_of(text, st.lists(text, max_size=2), json_values),
            max_size=6,
        ),
    ),
    explicit=(
        ({"state": "", "code": CANARY},),
        ({"state": "", "error": "access_denied", "error_description": "AADSTS65004: User declined to consent."},),
        ({"state": "not-this-flow", "code": "x"},),
    ),
)
def test_oauth_complete(params: Any) -> None:
    settings_ = InstanceSettings.from_env(azure_fakes.fake_instance_env())
    store = InMemoryFlowStore()
    request = oauth.begin(settings=settings_, flow_store=store)
    if isinstance(params, dict) and "state" in params and params["state"] == "":
        params = {**params, "state": request.state}  # also reach the error/code branches of a live flow
    result = typed_only(lambda: oauth.complete(params, settings=settings_, flow_store=store))
    assert isinstance(result, AppConnectionError)
    assert printable(str(result))


error_results = st.fixed_dictionaries(
    {},
    optional={
        "error": field_values,
        "error_description": st.one_of(text, samples),
        "error_codes": json_values,
        "correlation_id": field_values,
        "trace_id": field_values,
    },
)


@fuzz(
    error_results,
    st.sampled_from(["client-credentials", "authorize", "code", "refresh"]),
    explicit=(
        (
            {
                "error": "invalid_client",
                "error_description": "AADSTS7000215: Invalid client secret.",
                "error_codes": [7000215],
            },
            "client-credentials",
        ),
        ({"error": "invalid_grant", "error_codes": [70008]}, "refresh"),
        ({"error": "invalid_request", "error_codes": ["7000215"]}, "code"),
    ),
)
def test_error_from_result_is_typed_and_clean(result: dict[str, Any], stage: str) -> None:
    exc = aad_errors.error_from_result(result, stage=stage)
    assert isinstance(exc, AuthError)
    assert printable(str(exc)) and len(str(exc)) < 2000
    if not aad_errors.aadsts_codes(result):  # only integer error_codes may pick a code-specific class
        assert not isinstance(exc, (InvalidClientSecret, AppNotFound, RedirectUriMismatch, AuthorizationCodeInvalid))


@fuzz(
    st.one_of(text, st.binary(max_size=200).map(lambda b: b.decode("latin-1")), json_values),
    st.integers(1, 400),
    explicit=((f"https://u:{CANARY}@h/?sig={CANARY}", 400), (NASTY * 3, 5), ("", 1)),
)
def test_clean_and_redact(value: Any, limit: int) -> None:
    for shown in (clean(value, limit), redact_secrets(value, limit)):
        assert printable(shown) and len(shown) <= max(limit, 3)
    assert CANARY not in redact_secrets(f"https://u:{CANARY}@h/?sig={CANARY};Secret={CANARY}")


@fuzz(
    st.one_of(
        st.binary(max_size=300),
        json_values.map(lambda v: json.dumps(v).encode()),
        st.builds(lambda v: json.dumps({"access_token": CANARY, "expires_in": v}).encode(), json_values),
    ),
    explicit=(
        (json.dumps({"token_type": "Bearer", "access_token": CANARY, "expires_in": 3599}).encode(),),
        (json.dumps({"access_token": CANARY, "expires_in": "3599"}).encode(),),
    ),
)
def test_token_answer_check(body: bytes) -> None:
    result = typed_only(lambda: check_token_answer(body, "application/json", "login.example:443"))
    assert result is None or isinstance(result, MalformedAnswer)


# --- the CLI --------------------------------------------------------------------------------------------

COMMANDS = [["types"], ["schema"], ["doctor"], ["validate"], ["connect", "client-secret"], ["connect", "oauth"], []]
FLAG_VALUES: dict[str, Any] = {
    "--method": st.one_of(st.sampled_from(["oauth", "client-secret"]), text),
    "--tenant-id": field_values.map(str),
    "--client-id": field_values.map(str),
    "--cloud": st.one_of(st.sampled_from(["public", "usgov", "china"]), text),
    "--endpoint": endpoints.map(str),
    "--client-secret-env": st.sampled_from(["CANARY_SECRET_ENV", "UNSET_ENV", "NOT_UTF8_ENV", ""]),
    "--credentials": st.sampled_from(["creds.json", "deep.json", "notutf8.json", "missing.json", "."]),
    "--output": st.sampled_from(["out.json", "missing/out.json", ".", ""]),
    "--timeout": st.sampled_from(["1", "-1", "x", "0"]),
}
SWITCHES = [
    "--json",
    "--write-probe",
    "--client-secret-stdin",
    "--stdout",
    "--force",
    "--no-browser",
    "--help",
    "--version",
    "--bogus",
]
flag = st.one_of(
    st.sampled_from(sorted(FLAG_VALUES)).flatmap(lambda f: FLAG_VALUES[f].map(lambda v: [f, v])),
    st.sampled_from(SWITCHES).map(lambda s: [s]),
    text.map(lambda t: [t]),
)
argvs = st.builds(
    lambda cmd, flags: cmd + [x for f in flags for x in f], st.sampled_from(COMMANDS), st.lists(flag, max_size=6)
)


# Commands every run tries (explicit examples): each command on valid input, and the secret on stdin.
SECRET_FLAGS = ["--tenant-id", fakes.FAKE_TENANT_ID, "--client-id", fakes.FAKE_CLIENT_ID]
CLI_EXAMPLES: list[tuple[list[str], bytes]] = [
    (["types", "--json"], b""),
    (["schema"], b""),
    (["doctor", "--json"], b""),
    (["--version"], b""),
    (["validate", "--credentials", "creds.json", "--json"], b""),
    (["validate", "--method", "client-secret", *SECRET_FLAGS, "--client-secret-env", "CANARY_SECRET_ENV"], b""),
    (
        ["connect", "client-secret", *SECRET_FLAGS, "--client-secret-stdin", "--output", "out.json", "--force"],
        CANARY.encode(),
    ),
    (
        ["connect", "client-secret", *SECRET_FLAGS, "--client-secret-env", "CANARY_SECRET_ENV", "--stdout", "--force"],
        b"",
    ),
    (["connect", "client-secret", *SECRET_FLAGS, "--output", "out.json"], b""),  # no secret given: exit 2
    (["connect", "oauth", "--no-browser", "--output", "out.json"], b""),
]


@pytest.fixture(scope="module")
def cli_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    d = tmp_path_factory.mktemp("cli")
    (d / "creds.json").write_text(
        json.dumps(
            {
                "method": "client-secret",
                "tenantId": fakes.FAKE_TENANT_ID,
                "clientId": fakes.FAKE_CLIENT_ID,
                "clientSecret": CANARY,
            }
        )
    )
    (d / "deep.json").write_text("[" * 100_000)
    (d / "notutf8.json").write_bytes(b'{"clientSecret": "\xff"}')
    for f in ("creds.json", "deep.json", "notutf8.json"):
        (d / f).chmod(0o600)
    return d


def test_cli_argument_vectors(cli_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(cli_dir)
    monkeypatch.setenv("CANARY_SECRET_ENV", CANARY)
    monkeypatch.setenv("NOT_UTF8_ENV", CANARY + "\udcff")
    for name in (
        "INF_APP_CONNECTION_AZURE_APP_CONFIGURATION_CLIENT_ID",
        "INF_APP_CONNECTION_AZURE_APP_CONFIGURATION_CLIENT_SECRET",
        "SITE_URL",
    ):
        monkeypatch.delenv(name, raising=False)  # connect oauth stops at the settings: no loopback server, no wait
    monkeypatch.setattr("webbrowser.open", lambda *a, **k: False)

    ran = 0
    share = 0.5  # each case runs a whole CLI command: half the profile's examples keep the default run short

    @profile_settings(share)
    @given(argvs, st.binary(max_size=40))
    def run(argv: list[str], stdin: bytes) -> None:
        nonlocal ran
        ran += 1
        monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(stdin), encoding="utf-8"))
        out, err = io.StringIO(), io.StringIO()
        real_err = io.StringIO()
        monkeypatch.setattr("sys.stderr", real_err)
        start = time.monotonic()
        code = main(argv, out=out, err=err)
        assert time.monotonic() - start < CASE_SECONDS
        assert code in (0, 1, 2)
        shown = out.getvalue() + err.getvalue() + real_err.getvalue()
        assert "Traceback" not in shown
        prints_credentials = "--stdout" in argv and argv[:1] == ["connect"]
        if not prints_credentials:
            assert CANARY not in shown, argv

    for argv, stdin in CLI_EXAMPLES:
        run = example(argv, stdin)(run)
    run()
    assert ran >= examples(share) + len(CLI_EXAMPLES)
    for leftover in cli_dir.glob("out.json"):
        leftover.unlink()
