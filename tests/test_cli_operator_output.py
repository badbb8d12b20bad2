"""What an operator sees: an untrusted store certificate named with its fix (validate, sync, --json),
a progress line only on a terminal, failures grouped by cause, usage errors that show the valid
choices, malformed environment settings refused by every command, and `--timeout` on every sync
command. Against the stand-in store (its trustme CA trusted only where a test says so)."""

from __future__ import annotations

import base64
import io
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from azure_appconfig_plugin.http.answers import untrusted_certificate
from cli_helpers import run
from standins.appconfig import StandIn

pytest_plugins = ["standins.fixtures"]

ALLOW = "INF_APP_CONNECTION_AZURE_APP_CONFIGURATION_ALLOWED_HOSTS"
LIMIT = "INF_APP_CONNECTION_AZURE_APP_CONFIGURATION_VALIDATION_SECONDS"


@pytest.fixture
def allowed(standin: StandIn, monkeypatch: pytest.MonkeyPatch) -> StandIn:
    """The stand-in allow-listed, its CA NOT trusted (no REQUESTS_CA_BUNDLE)."""
    monkeypatch.setenv(ALLOW, standin.allow_list)
    monkeypatch.delenv("REQUESTS_CA_BUNDLE", raising=False)
    monkeypatch.delenv("CURL_CA_BUNDLE", raising=False)
    return standin


@pytest.fixture
def store(allowed: StandIn, monkeypatch: pytest.MonkeyPatch) -> StandIn:
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", allowed.ca_path)
    return allowed


def creds_file(tmp_path: Path, endpoint: str) -> str:
    path = tmp_path / "akey.json"
    path.write_text(
        json.dumps(
            {
                "method": "access-key",
                "endpoint": endpoint,
                "id": "ops-key-id",
                "secret": base64.b64encode(b"ops-access-key-secret").decode(),
                "cloud": "public",
            }
        )
    )
    os.chmod(path, 0o600)
    return str(path)


def secrets_file(tmp_path: Path, count: int) -> str:
    path = tmp_path / "s.json"
    path.write_text(json.dumps({f"K{i:04d}": f"v{i}" for i in range(count)}))
    return str(path)


# --- certificates ----------------------------------------------------------------------------------


def test_validate_names_an_untrusted_certificate_and_its_fix(allowed: StandIn, tmp_path: Path) -> None:
    creds = creds_file(tmp_path, allowed.endpoint)
    code, text = run("validate", "--credentials", creds)
    assert code == 1 and "CERTIFICATE_VERIFY_FAILED" in text and "REQUESTS_CA_BUNDLE" in text
    assert "unreachable" not in text and "not checked: the store's certificate is not trusted" in text
    code, text = run("validate", "--credentials", creds, "--json")
    read = next(c for c in json.loads(text)["checks"] if c["name"] == "KeyValue.Read")
    assert read["code"] == "certificate_untrusted" and "CERTIFICATE_VERIFY_FAILED" in read["detail"]
    assert "REQUESTS_CA_BUNDLE" in read["remediation"]


def test_sync_names_an_untrusted_certificate_once_and_never_retries_it(allowed: StandIn, tmp_path: Path) -> None:
    args = ["--from", secrets_file(tmp_path, 1000), "--endpoint", allowed.endpoint]
    code, text = run("sync", "push", *args, "--credentials", creds_file(tmp_path, allowed.endpoint))
    lines = text.splitlines()
    assert code == 1 and len(lines) == 3  # the summary, one line for the cause, its first keys: not 1,001 lines
    assert lines[1].startswith("  failed (1000 keys): not attempted: listing the scope failed (certificate_untrusted")
    assert "CERTIFICATE_VERIFY_FAILED" in lines[1] and "REQUESTS_CA_BUNDLE" in lines[1]
    assert lines[2] == "    " + ", ".join(f"K000{i} [(no label)]" for i in range(5)) + " and 995 more"
    assert "(1 requests to the store)" in lines[0]  # not retried: a certificate does not get trusted by waiting
    code, text = run("sync", "plan", *args, "--credentials", creds_file(tmp_path, allowed.endpoint), "--json")
    change = json.loads(text)["changes"][0]
    assert code == 1 and change["code"] == "certificate_untrusted" and "REQUESTS_CA_BUNDLE" in change["detail"]


def test_a_certificate_error_is_found_by_its_text_when_no_ssl_error_is_chained() -> None:
    found = untrusted_certificate(RuntimeError("[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed"))
    assert found is not None and found.startswith("the store's TLS certificate is not trusted on this machine")
    assert untrusted_certificate(ConnectionRefusedError("refused")) is None and untrusted_certificate(None) is None


def test_a_write_the_certificate_stops_is_reported_and_not_retried() -> None:
    import ssl

    from azure.core.exceptions import ServiceRequestError

    from azure_appconfig_plugin.http.pace import Pace
    from azure_appconfig_plugin.sync.apply import Executor
    from azure_appconfig_plugin.sync.config import parse_destination
    from azure_appconfig_plugin.sync.entries import desired_entries
    from azure_appconfig_plugin.sync.plan import OVERWRITE, plan_push

    verifier = ssl.SSLCertVerificationError(1, "[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed")
    verifier.verify_message = "self-signed certificate in certificate chain"

    class Client:
        calls = 0

        def send_request(self, request: Any, **kwargs: Any) -> Any:
            Client.calls += 1
            raise ServiceRequestError("connection failed", error=verifier)

    config = parse_destination({"endpoint": "https://mystore.azconfig.io"})
    plan = plan_push(desired_entries({"A": "1"}, config), [], config.scope, delete_missing=False, mode=OVERWRITE)
    (outcome,) = Executor(Client(), Pace(deadline=time.monotonic() + 60)).run(plan.writes, []).values()
    assert Client.calls == 1 and outcome.code == "certificate_untrusted"
    assert "(CERTIFICATE_VERIFY_FAILED: self-signed certificate in certificate chain)" in outcome.detail


# --- grouped failures and progress ---------------------------------------------------------------------


def test_failures_are_grouped_by_cause_with_their_first_keys(store: StandIn, tmp_path: Path) -> None:
    for i in range(7):
        store.store.put(f"K000{i}", "old", locked=True)
    store.inject("PUT", "K0007", 400)
    code, text = run(
        "sync",
        "push",
        "--from",
        secrets_file(tmp_path, 8),
        "--endpoint",
        store.endpoint,
        "--credentials",
        creds_file(tmp_path, store.endpoint),
    )
    lines = text.splitlines()
    assert code == 1 and len(lines) == 4, text
    assert lines[1].startswith("  update  K0007 [(no label)]  failed  400") or lines[1].startswith("  create")
    locked = [line for line in lines if line.startswith("  locked (7 keys): ")]
    assert locked and lines[lines.index(locked[0]) + 1].endswith(" and 2 more")


class _Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_a_push_on_a_terminal_shows_the_listing_writes_and_throttled_waits(
    store: StandIn, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store.throttle_every = 3
    terminal = _Tty()
    monkeypatch.setattr(sys, "stderr", terminal)
    code, _ = run(
        "sync",
        "push",
        "--from",
        secrets_file(tmp_path, 6),
        "--endpoint",
        store.endpoint,
        "--credentials",
        creds_file(tmp_path, store.endpoint),
        "--concurrency",
        "1",
    )
    drawn = terminal.getvalue()
    assert code == 0 and "push listing the scope: 0 entries, 1 page" in drawn
    assert "throttled (429): asked to wait 0.02 s" in drawn and drawn.rstrip(" \n").endswith("] 6/6")


def test_an_import_on_a_terminal_shows_a_throttled_listing_wait(
    store: StandIn, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store.store.put("A", "1")
    store.inject("GET", "/kv", (429, {"retry-after-ms": "30"}))
    terminal = _Tty()
    monkeypatch.setattr(sys, "stderr", terminal)
    args = ["--to", str(tmp_path / "o.env"), "--endpoint", store.endpoint]
    code, _ = run("sync", "import", *args, "--credentials", creds_file(tmp_path, store.endpoint))
    drawn = terminal.getvalue()
    assert code == 0 and "import throttled (429): asked to wait 0.03 s" in drawn
    assert "listing the scope: 1 entries, 1 page" in drawn


def test_validate_on_a_terminal_shows_each_retry_wait_with_its_unit(
    store: StandIn, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store.inject("GET", "/kv", (429, {"retry-after-ms": "40"}), 503)
    terminal = _Tty()
    monkeypatch.setattr(sys, "stderr", terminal)
    code, _ = run("validate", "--credentials", creds_file(tmp_path, store.endpoint))
    drawn = terminal.getvalue()
    assert code == 0 and "validate throttled (429): asked to wait 0.04 s" in drawn
    assert "validate throttled (503): asked to wait 0.01 s" in drawn and drawn.endswith("\n")


@pytest.mark.parametrize(
    ("headers", "said"),
    [({"retry-after-ms": "40"}, "40 ms"), ({"Retry-After": "0.05"}, "0.05 s")],
)
def test_a_throttled_check_says_the_wait_with_its_unit(
    store: StandIn, tmp_path: Path, headers: dict[str, str], said: str
) -> None:
    store.inject("GET", "/kv", *[(429, headers)] * 5)
    code, text = run("validate", "--credentials", creds_file(tmp_path, store.endpoint), "--json")
    read = next(c for c in json.loads(text)["checks"] if c["name"] == "KeyValue.Read")
    assert code == 1 and read["detail"] == f"the store kept answering 429 after retries; Azure asked to wait {said}"


def test_a_wait_given_as_an_http_date_is_shown_as_given() -> None:
    from azure_appconfig_plugin.store import asked_wait

    assert asked_wait({"Retry-After": "Fri, 04 Dec 2026 18:00:00 GMT"}) == "Fri, 04 Dec 2026 18:00:00 GMT"
    assert asked_wait({"x-ms-retry-after-ms": "1500"}) == "1500 ms" and asked_wait({}) is None


def test_a_retry_after_a_transport_error_is_shown_as_a_retry() -> None:
    from azure_appconfig_plugin.cli_common import ProgressLine

    terminal = _Tty()
    line = ProgressLine(terminal, "validate")
    line.wait(0.84, None)
    assert terminal.getvalue().rstrip() == "\rvalidate retrying in 0.8 s"


@pytest.mark.parametrize("flag", [[], ["--json"]], ids=["not-a-terminal", "json"])
def test_no_progress_line_off_a_terminal_or_with_json(
    store: StandIn, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, flag: list[str]
) -> None:
    err = _Tty() if flag else io.StringIO()
    monkeypatch.setattr(sys, "stderr", err)
    args = ["--from", secrets_file(tmp_path, 3), "--endpoint", store.endpoint]
    code, _ = run("sync", "push", *args, "--credentials", creds_file(tmp_path, store.endpoint), *flag)
    assert code == 0 and "\r" not in err.getvalue()


# --- --timeout ---------------------------------------------------------------------------------------


def test_a_push_to_a_store_that_hangs_every_write_ends_by_the_timeout(store: StandIn, tmp_path: Path) -> None:
    for i in range(4):
        store.inject("PUT", f"K000{i}", "hang")
    started = time.monotonic()
    code, text = run(
        "sync",
        "push",
        "--from",
        secrets_file(tmp_path, 4),
        "--endpoint",
        store.endpoint,
        "--credentials",
        creds_file(tmp_path, store.endpoint),
        "--timeout",
        "0.4",
        "--json",
    )
    assert time.monotonic() - started < 4  # the stand-in holds each write for 5 s
    report = json.loads(text)
    assert code == 1 and report["counts"]["failed"] == 4
    assert all(c["code"] == "deadline_exceeded" for c in report["changes"])


@pytest.mark.parametrize("command", ["plan", "push", "import"])
@pytest.mark.parametrize("value", ["0", "-1", "abc", "86401"])
def test_timeout_outside_its_range_is_a_usage_error(
    store: StandIn, tmp_path: Path, capsys: Any, command: str, value: str
) -> None:
    where = ["--to", str(tmp_path / "o.env")] if command == "import" else ["--from", secrets_file(tmp_path, 1)]
    code, _ = run("sync", command, *where, "--endpoint", store.endpoint, "--timeout", value)
    assert code == 2 and "--timeout: must be a number of seconds above 0 and at most 86400" in capsys.readouterr().err
    assert store.requests() == []


# --- usage errors and environment settings ----------------------------------------------------------


def test_a_mistyped_choice_shows_the_valid_choices_and_masks_what_was_typed(capsys: Any) -> None:
    code, _ = run("schema", "--method", "workload_identity")
    err = capsys.readouterr().err
    assert code == 2 and "'workload-identity'" in err and "'managed-identity'" in err
    assert "workload_identity" not in err  # what was typed may be a secret pasted in the wrong place
    code, _ = run("sync", "plna-with-a-long-secretish-name")
    err = capsys.readouterr().err
    assert code == 2 and "'plan', 'push', 'import'" in err and "secretish" not in err


@pytest.mark.parametrize(
    "argv",
    [
        ["validate", "--method", "client-secret", "--client-secret=canary-argv-secret-Zq8"],
        ["connect", "certificate", "--pkcs12=canary-argv-secret-Zq8", "--stdout"],
        ["sync", "plan", "--private-key=canary-argv-secret-Zq8"],
    ],
    ids=["validate", "connect", "sync"],
)
def test_a_secret_typed_as_a_flag_value_is_not_repeated(argv: list[str], capsys: Any) -> None:
    code, _ = run(*argv)  # the secret field's bare name: refused, naming the flags that take it
    err = capsys.readouterr().err
    assert code == 2 and "is not accepted: a secret is never a command-line value" in err
    assert "canary-argv-secret-Zq8" not in err


def test_a_flag_abbreviated_is_unknown_and_its_value_not_repeated(capsys: Any) -> None:
    code, _ = run("validate", "--client-i=canary-argv-secret-Zq8", "--endpo", "canary-argv-secret-Zq8")
    err = capsys.readouterr().err
    assert code == 2 and "unrecognized arguments: --client-i=*** --endpo ***" in err
    assert "canary-argv-secret-Zq8" not in err


@pytest.mark.parametrize(
    "argv",
    [["types"], ["schema"], ["doctor"], ["doctor", "--json"], ["validate", "--credentials", "missing.json"]],
    ids=["types", "schema", "doctor", "doctor-json", "validate"],
)
@pytest.mark.parametrize(
    ("variable", "value", "words"),
    [
        (LIMIT, "abc", f"{LIMIT}: must be a positive number"),
        (ALLOW, "a b,ok.example.com", f"{ALLOW}: entry 'a b' is not a host, IP address or host:port"),
    ],
    ids=["limit", "allow-list"],
)
def test_a_malformed_environment_setting_is_a_usage_error_in_every_command(
    monkeypatch: pytest.MonkeyPatch, capsys: Any, argv: list[str], variable: str, value: str, words: str
) -> None:
    monkeypatch.setenv(variable, value)
    code, out = run(*argv)
    assert code == 2 and out == "" and words in capsys.readouterr().err


def test_a_malformed_limit_is_a_usage_error_in_sync_before_any_request(
    store: StandIn, tmp_path: Path, capsys: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(LIMIT, "abc")
    code, _ = run("sync", "plan", "--from", secrets_file(tmp_path, 1), "--endpoint", store.endpoint)
    assert code == 2 and LIMIT in capsys.readouterr().err and store.requests() == []


def _verify_failed() -> Exception:
    """A certificate failure as requests raises it (SSLError > MaxRetryError > urllib3 SSLError > ssl)."""
    import ssl

    import requests
    from urllib3.exceptions import MaxRetryError
    from urllib3.exceptions import SSLError as Urllib3SSLError

    verifier = ssl.SSLCertVerificationError(1, "[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed")
    verifier.verify_message = "unable to get local issuer certificate"
    inner = MaxRetryError(None, "/token", Urllib3SSLError(verifier))  # type: ignore[arg-type]  # no pool needed here
    return requests.exceptions.SSLError(inner)


def test_a_login_host_certificate_not_trusted_is_named_with_its_fix_not_unreachable() -> None:
    from azure_appconfig_plugin.auth.aad_errors import error_from_exception, remedy_for

    error = error_from_exception(_verify_failed(), where="login.microsoftonline.com")
    assert error.code == "certificate_untrusted" and not error.retryable
    assert str(error).startswith(
        "the Microsoft identity platform's (login.microsoftonline.com) TLS certificate is not trusted on this machine "
        "(CERTIFICATE_VERIFY_FAILED: unable to get local issuer certificate)"
    )
    assert "unreachable" not in str(error) and "REQUESTS_CA_BUNDLE" in remedy_for(error)


def test_the_store_client_never_retries_a_certificate_failure() -> None:
    from azure.core.exceptions import ServiceRequestError
    from azure.core.pipeline import PipelineContext, PipelineRequest
    from azure.core.rest import HttpRequest

    from azure_appconfig_plugin.http.retry import retry_policy_class

    policy = retry_policy_class()(None, retry_total=3)
    sent = PipelineRequest(HttpRequest("GET", "https://mystore.azconfig.io/kv"), PipelineContext(None))
    cert = ServiceRequestError("cert", error=_verify_failed())
    assert policy.increment(policy.configure_retries({}), response=sent, error=cert) is False
    refused = ServiceRequestError("refused", error=ConnectionRefusedError(111, "refused"))
    assert policy.increment(policy.configure_retries({}), response=sent, error=refused) is True
