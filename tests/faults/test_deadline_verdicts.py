"""Honest deadlines: a check the operation's deadline stopped is ``inconclusive`` with the real numbers
(the deadline's length and the time elapsed), never ``failed``; a request is never reported as cut
off when it was never sent. Against a stand-in store that answers slowly (tenths of a second)."""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

from azure_appconfig_plugin.checks import store as store_checks
from azure_appconfig_plugin.http.deadlines import Deadline, deadline_exceeded, operation_deadline, seconds_text
from azure_appconfig_plugin.http.limits import configure

from .standins import Answer, IdentityPlatform, Seen, StandIn
from .test_store_faults import check, ok_store, validate

NUMBER = r"([0-9.]+) s"


def shown_within(shown: float, real: float) -> bool:
    """``shown`` (as ``seconds_text`` rounds it: to 1 ms under 1 s, to 0.1 s under 10 s) is at most ``real``."""
    return shown <= real + (0.0005 if shown < 1 else 0.05)


@pytest.fixture
def release() -> Iterator[threading.Event]:
    """Set at the end of the test: a held answer is let go, so the stand-in shuts down at once."""
    event = threading.Event()
    yield event
    event.set()


def held_puts(release: threading.Event) -> Any:
    """Reads answered at once; a write is held until ``release`` (the client gives up long before)."""

    def route(seen: Seen) -> Answer:
        if seen.method == "PUT":
            release.wait(5)
        return ok_store(seen)

    return route


def test_the_deadline_trial_reports_inconclusive_with_true_numbers(store: StandIn, release: threading.Event) -> None:
    """The reported trial: under ``operation_deadline`` a slow write was "not delivered within 0 s" and a
    DELETE never sent was "not delivered within 60 s", both ``failed``."""
    store.route = held_puts(release)
    started = time.monotonic()
    with operation_deadline(0.5):
        report = validate(store)
    took = time.monotonic() - started
    assert check(report, "KeyValue.Read").status.value == "ok"

    write = check(report, "KeyValue.Write")
    assert (write.status.value, write.code) == ("inconclusive", "deadline_exceeded"), write
    left, budget, elapsed = map(
        float,
        re.search(
            rf"within the {NUMBER} left of the operation's deadline \({NUMBER}, {NUMBER} elapsed\)", write.detail
        ).groups(),
    )
    assert budget == 0.5 and 0 < left <= 0.5 and elapsed >= 0.5 and shown_within(elapsed, took)
    assert "within 0 s" not in write.detail

    delete = check(report, "KeyValue.Delete")
    assert (delete.status.value, delete.code) == ("inconclusive", "deadline_exceeded"), delete
    budget, elapsed = map(
        float, re.search(rf"deadline of {NUMBER} had passed \({NUMBER} elapsed\)", delete.detail).groups()
    )
    assert budget == 0.5 and elapsed >= 0.5 and shown_within(elapsed, took)
    assert "no request was sent" in delete.detail and "60 s" not in delete.detail
    assert [s.method for s in store.seen] == ["GET", "PUT"]  # the DELETE was never sent
    assert not any(c.status.value == "failed" for c in report.checks)
    assert not report.ok


def test_a_write_probe_cut_off_by_the_deadline_is_inconclusive_and_cleanup_says_what_may_be_left(
    store: StandIn, release: threading.Event
) -> None:
    def route(seen: Seen) -> Answer:
        if seen.method == "PUT":
            return Answer(201, {"Content-Type": "application/json"}, b'{"key": "k", "label": "l", "value": "v"}')
        if seen.method == "DELETE":
            release.wait(5)
        return ok_store(seen)

    store.route = route
    with operation_deadline(0.5):
        report = validate(store, write_probe=True)
    assert check(report, "KeyValue.Write").status.value == "ok"
    delete = check(report, "KeyValue.Delete")
    assert (delete.status.value, delete.code) == ("inconclusive", "deadline_exceeded")
    cleanup = check(report, "cleanup")
    assert (cleanup.status.value, cleanup.code) == ("inconclusive", "deadline_exceeded")
    assert "may be left behind" in cleanup.detail and "delete it" in (cleanup.remediation or "")
    assert len([s for s in store.seen if s.method == "DELETE"]) == 1  # not resent once the deadline passed


def test_a_request_cut_off_at_its_own_deadline_names_it_and_is_inconclusive(
    store: StandIn, release: threading.Event
) -> None:
    configure(store_request_seconds=0.3)
    store.route = held_puts(release)
    report = validate(store)
    write = check(report, "KeyValue.Write")
    assert write.status.value == "inconclusive" and "within 0.3 s (the store deadline)" in write.detail


def test_a_deadline_passed_before_the_store_stage_sends_nothing(store: StandIn) -> None:
    store.route = ok_store
    with operation_deadline(0):
        report = validate(store)
    late = [c for c in report.checks if c.status.value != "ok"]
    assert {c.name for c in late} >= {"KeyValue.Read", "KeyValue.Write", "KeyValue.Delete"}
    assert {(c.status.value, c.code) for c in late} == {("inconclusive", "deadline_exceeded")}
    assert all("had passed" in c.detail for c in late)
    assert store.seen == []


def test_a_token_cut_off_by_its_deadline_leaves_the_store_checks_inconclusive(identity: IdentityPlatform) -> None:
    from azure_appconfig_plugin.connection import build_connection_type

    from .conftest import client_secret_input

    configure(token_request_seconds=0.3)
    body = b'{"token_type": "Bearer", "expires_in": 3599, "access_token": "' + b"a" * 200 + b'"}'
    identity.token_answer = lambda seen, tid: Answer(
        200, {"Content-Type": "application/json"}, body, drip_seconds=0.05, drip_body=True
    )
    report = build_connection_type().validate(
        client_secret_input(), method="client-secret", endpoint="https://x.azconfig.io"
    )
    token = check(report, "token")
    assert (token.status.value, token.code) == ("inconclusive", "deadline_exceeded")
    for name in ("KeyValue.Read", "KeyValue.Write", "KeyValue.Delete"):
        assert (check(report, name).status.value, check(report, name).code) == ("inconclusive", "deadline_exceeded")
        assert "did not arrive within the deadline" in check(report, name).detail


def test_deadline_errors_carry_their_numbers() -> None:
    binding = Deadline("validation_seconds", time.monotonic() - 1.52, 1.5)
    error = deadline_exceeded("store", "https://x.azconfig.io/kv", -0.02, binding, sent=False)
    assert (error.deadline, error.budget, error.sent) == ("validation_seconds", 1.5, False)
    assert 1.5 < error.elapsed < 3
    assert "was not sent: the validation deadline (validation_seconds) of 1.5 s had passed" in str(error)
    assert "within" not in str(error)


@pytest.mark.parametrize(
    ("value", "shown"), [(0.04, "0.04"), (0.0001, "0.001"), (1.52, "1.5"), (60, "60"), (120.4, "120")]
)
def test_seconds_are_never_shown_as_a_misleading_zero(value: float, shown: str) -> None:
    assert seconds_text(value) == shown


def test_probes_are_not_run_after_the_deadline() -> None:
    class NoProbes:
        def __getattr__(self, name: str) -> Any:
            raise AssertionError(f"{name} was called after the deadline")

    def interpret(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("no probe ran, so there is no answer to interpret")

    with operation_deadline(0):
        checks = store_checks.probe_store(object(), NoProbes(), write_probe=True, label=None, interpret=interpret)
    assert [(c.name, c.status.value) for c in checks] == [(n, "inconclusive") for n in store_checks.STORE_CHECKS]


@pytest.mark.parametrize("write_probe", [True, False])
def test_a_deadline_that_passes_during_the_read_leaves_write_and_delete_unsent(write_probe: bool) -> None:
    """The read is answered, but only after the operation's deadline: write and delete (real or
    precondition probes) are not sent and are ``inconclusive`` with the deadline's numbers."""
    from azure_appconfig_plugin.http.deadlines import deadline_passed
    from azure_appconfig_plugin.store import ProbeResult

    class SlowRead:
        def probe_read(self, client: Any) -> ProbeResult:
            while deadline_passed() is None:  # answered just after the deadline (a few hundredths of a second)
                time.sleep(0.005)
            return ProbeResult(200)

        def __getattr__(self, name: str) -> Any:
            def sent(*args: Any) -> Any:
                raise AssertionError(f"{name} was sent after the deadline")

            return sent

    def interpret(name: str, result: Any, **kwargs: Any) -> Any:
        return store_checks.interpret(
            name, result, url="https://x.azconfig.io", principal="app", tenant=None, audience="", claims={}, **kwargs
        )

    with operation_deadline(0.04):
        checks = store_checks.probe_store(object(), SlowRead(), write_probe=write_probe, label="l", interpret=interpret)
    assert [(c.name, c.status.value, c.code) for c in checks] == [
        ("KeyValue.Read", "ok", None),
        ("KeyValue.Write", "inconclusive", "deadline_exceeded"),
        ("KeyValue.Delete", "inconclusive", "deadline_exceeded"),
    ]
    for late in checks[1:]:
        assert "the operation's deadline of 0.04 s had passed" in late.detail and "no request was sent" in late.detail
