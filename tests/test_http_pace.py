"""A run's pace (``http.pace``) and the capped retry it shares with every store client: the sync's
429s are counted by the pace (not by ``retry_total``), paused for the whole run and capped per call,
its transient failures retried by the pipeline, and its retries stopped at the run's deadline."""

from __future__ import annotations

import asyncio
import random
import time
from typing import Any, cast

import pytest
from azure.core.pipeline import PipelineContext, PipelineRequest, PipelineResponse
from azure.core.pipeline.transport import HttpTransport
from azure.core.rest import HttpRequest, HttpResponse

from azure_appconfig_plugin.http.deadlines import operation_deadline
from azure_appconfig_plugin.http.errors import DeadlineExceeded
from azure_appconfig_plugin.http.pace import (
    MAX_SINGLE_WAIT,
    THROTTLE_ATTEMPTS,
    Pace,
    Tries,
    async_pace_policy,
    counted,
    throttle_wait,
)
from azure_appconfig_plugin.http.retry import retry_policy_class
from azure_appconfig_plugin.sync.destination import AppConfigurationDestination
from standins.appconfig import StandIn

pytest_plugins = ["standins.fixtures"]  # the stand-in fixtures (standin, fake_token, sync_options)

D = AppConfigurationDestination()


def dest(s: StandIn) -> dict[str, Any]:
    return {"endpoint": s.endpoint}


class _Answer:
    def __init__(self, status: int, headers: dict[str, str] | None = None) -> None:
        self.status_code = status
        self.headers = headers or {}


def _answered(status: int, headers: dict[str, str] | None = None) -> PipelineResponse[Any, Any]:
    request = HttpRequest("PUT", "https://mystore.azconfig.io/kv/A")
    return PipelineResponse(request, _Answer(status, headers), PipelineContext(None))  # a stand-in answer


class _Transport:
    def __init__(self, slept: list[float]) -> None:
        self.slept = slept

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)


@pytest.fixture
def quick_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    """Back-off jitter scaled down to milliseconds: retries are exercised without their real waits."""
    monkeypatch.setattr(random, "uniform", lambda a, b: 0.004)


def test_a_paced_call_throttled_more_often_than_retry_total_is_still_applied(
    standin: StandIn, sync_options: dict[str, Any]
) -> None:
    standin.inject("PUT", "A", 429, 429, 429, 429, 429)  # retry_total is 3: the pace counts 429s
    report = D.push(None, dest(standin), {"A": "1"}, **sync_options)
    (change,) = report.changes
    assert change.status.value == "applied" and change.detail.startswith("created after retries")
    assert len(standin.requests("PUT")) == 6 and report.requests == 1 + 6


def test_a_call_throttled_throttle_attempts_times_gives_up(standin: StandIn, sync_options: dict[str, Any]) -> None:
    standin.inject("PUT", "A", *[429] * THROTTLE_ATTEMPTS)
    report = D.push(None, dest(standin), {"A": "1"}, **sync_options)
    (change,) = report.changes
    assert change.status.value == "failed"
    assert change.detail.startswith(f"throttled (429) {THROTTLE_ATTEMPTS} time(s); gave up")
    assert len(standin.requests("PUT")) == THROTTLE_ATTEMPTS


def test_a_write_whose_connection_keeps_failing_gives_up_after_the_pipeline_s_retries(
    standin: StandIn, sync_options: dict[str, Any], quick_backoff: None
) -> None:
    standin.inject("PUT", "A", "reset", "reset", "reset", "reset")
    report = D.push(None, dest(standin), {"A": "1"}, **sync_options)
    (change,) = report.changes
    assert change.status.value == "failed" and change.detail.endswith("; gave up after 4 attempts")
    assert len(standin.requests("PUT")) == 4


def test_a_conflict_is_an_answer_even_with_a_retry_after() -> None:
    policy = retry_policy_class()(None, retry_total=3)
    settings = policy.configure_retries({})
    assert not policy.is_retry(settings, _answered(412, {"Retry-After": "1"}))
    assert not policy.is_retry(settings, _answered(409, {"Retry-After": "1"}))
    assert policy.is_retry(settings, _answered(503))


def test_back_off_is_azure_core_s_jittered(monkeypatch: pytest.MonkeyPatch) -> None:
    policy = retry_policy_class()(None, retry_total=3, retry_backoff_factor=1.0)
    settings = policy.configure_retries({})
    settings["history"] = [object(), object()]
    monkeypatch.setattr(random, "uniform", lambda a, b: b)
    assert policy.get_backoff_time(settings) == 2.0 * 1.5
    monkeypatch.setattr(random, "uniform", lambda a, b: a)
    assert policy.get_backoff_time(settings) == 2.0 * 0.5


def test_an_unpaced_retry_that_would_outlast_the_deadline_is_not_made() -> None:
    policy = retry_policy_class()(None, retry_total=3)
    answer = _answered(503, {"Retry-After": "5"})
    with operation_deadline(1.0):
        assert policy.increment(policy.configure_retries({}), response=answer) is False
    assert policy.increment(policy.configure_retries({}), response=answer) is True


def test_a_paced_retry_that_would_outlast_the_deadline_is_noted_on_its_tries() -> None:
    pace = Pace(deadline=time.monotonic() + 60)
    policy = retry_policy_class()(None, pace=pace, retry_total=3)
    tries = Tries(attempts=1)
    with counted(tries), operation_deadline(1.0):
        assert policy.increment(policy.configure_retries({}), response=_answered(503, {"Retry-After": "5"})) is False
    assert tries.out_of_time


def test_a_paced_429_waits_in_the_queue_and_its_wait_is_drawn_from_the_run_budget() -> None:
    lines: list[str] = []
    pace = Pace(deadline=time.monotonic() + 60, max_wait=1.5, status=lines.append)
    policy = retry_policy_class()(None, pace=pace, retry_total=3)
    tries = Tries(attempts=1, throttled=1)
    throttled = _answered(429, {"retry-after-ms": "1000"})
    settings = policy.configure_retries({})
    slept: list[float] = []
    with counted(tries):
        assert policy.increment(settings, response=throttled) is True
        assert pace.waited == 1.0 and lines == ["throttled (429): asked to wait 1 s"]
        policy.sleep(settings, cast("HttpTransport[HttpRequest, HttpResponse]", _Transport(slept)), throttled)
        assert slept == []  # the pace holds the next attempt in the queue for a slot: no sleep here
        granted, wake = pace.limit.try_acquire(time.monotonic() + 60)
        assert granted is None and wake is not None and wake > 0  # the run is paused
        assert policy.increment(settings, response=throttled) is True  # within the same pause: counted once
        assert pace.waited == pytest.approx(1.0, abs=0.1) and len(lines) == 1
        longer = _answered(429, {"retry-after-ms": "3000"})
        assert policy.increment(policy.configure_retries({}), response=longer) is False  # 2 s more: past 1.5 s
    assert pace.waited == pytest.approx(1.0, abs=0.1)


def test_the_back_off_that_was_checked_is_the_one_slept(monkeypatch: pytest.MonkeyPatch) -> None:
    draws = iter([0.5, 1.5])
    monkeypatch.setattr(random, "uniform", lambda a, b: next(draws))
    policy = retry_policy_class()(None, retry_total=3, retry_backoff_factor=1.0)
    settings = policy.configure_retries({})
    settings["history"] = [object()]  # azure-core appends this attempt: 2 in all, a base back-off of 2 s
    slept: list[float] = []
    with operation_deadline(1.5):
        assert policy.increment(settings, response=_answered(500)) is True  # 1 s (0.5x) fits
        policy.sleep(settings, cast("HttpTransport[HttpRequest, HttpResponse]", _Transport(slept)), _answered(500))
    assert slept == [1.0]


def test_too_late_says_whether_an_earlier_attempt_was_sent() -> None:
    pace = Pace(deadline=0)
    assert "before the request could be sent" in str(pace.too_late(Tries()))
    later = str(pace.too_late(Tries(attempts=2)))
    assert "attempt 3" in later and "may have been applied" in later


def test_a_429_pause_is_capped_and_has_a_default() -> None:
    assert throttle_wait({"retry-after-ms": "90000000"}) == MAX_SINGLE_WAIT
    assert throttle_wait({}) == 1.0
    pace = Pace(deadline=time.monotonic() + 60)
    assert pace.pause_of(_answered(503)) is None and pace.throttled_call(_answered(200)) is None
    assert pace.throttled_call(_answered(429)) == Tries(attempts=1, throttled=1)  # a call nobody counts


def test_the_async_pace_policy_sends_nothing_after_the_run_s_deadline() -> None:
    pace = Pace(deadline=time.monotonic() - 1)
    policy = async_pace_policy(pace)
    request = PipelineRequest(HttpRequest("PUT", "https://mystore.azconfig.io/kv/A"), PipelineContext(None))
    with pytest.raises(DeadlineExceeded, match="deadline"):
        asyncio.run(policy.send(request))
    assert pace.requests == 0


def test_the_pace_s_concurrency_is_bounded() -> None:
    assert Pace(0, deadline=0).concurrency == 1 and Pace(10_000, deadline=0).concurrency == 128


def test_a_paced_call_may_wait_for_its_turn_longer_than_one_store_request(
    standin: StandIn, sync_options: dict[str, Any]
) -> None:
    from azure_appconfig_plugin.http.limits import Limits

    standin.inject("PUT", "S0", (429, {"retry-after-ms": "300"}))  # the whole run pauses 0.3 s
    options = {
        **sync_options,
        "client_options": {**sync_options["client_options"], "limits": Limits(store_request_seconds=0.2)},
    }
    report = D.push(None, dest(standin), {f"S{i}": "v" for i in range(6)}, concurrency=2, **options)
    assert report.ok and report.counts["created"] == 6  # the pause is the run's, each attempt still within 0.2 s


def test_each_attempt_of_a_paced_call_stays_within_one_store_request(
    standin: StandIn, sync_options: dict[str, Any]
) -> None:
    from azure_appconfig_plugin.http.limits import Limits

    standin.latency = 0.3
    client_options = {**sync_options["client_options"], "limits": Limits(store_request_seconds=0.2)}
    report = D.push(None, dest(standin), {"A": "1"}, **{**sync_options, "client_options": client_options})
    (change,) = report.changes
    assert (change.status.value, change.code) == ("failed", "deadline_exceeded")
    assert "did not deliver its whole answer within 0.2 s" in change.detail  # the listing, a paced call too


def test_a_paced_429_is_retried_after_retry_total_is_spent(
    standin: StandIn, sync_options: dict[str, Any], quick_backoff: None
) -> None:
    standin.inject("PUT", "A", 503, 503, 503, 429)
    report = D.push(None, dest(standin), {"A": "1"}, **sync_options)
    assert [c.status.value for c in report.changes] == ["applied"] and len(standin.requests("PUT")) == 5


def test_a_paced_429_is_retried_with_retry_total_zero(standin: StandIn, sync_options: dict[str, Any]) -> None:
    from azure_appconfig_plugin.http.limits import Limits

    standin.inject("PUT", "A", 429)
    client_options = {**sync_options["client_options"], "limits": Limits(retry_total=0)}
    report = D.push(None, dest(standin), {"A": "1"}, **{**sync_options, "client_options": client_options})
    assert [c.status.value for c in report.changes] == ["applied"] and len(standin.requests("PUT")) == 2


def test_a_paced_429_waits_within_the_run_s_budget_not_the_call_s(
    standin: StandIn, sync_options: dict[str, Any]
) -> None:
    from azure_appconfig_plugin.http.limits import Limits

    standin.inject("PUT", "A", *[(429, {"retry-after-ms": "100"})] * 3)
    client_options = {**sync_options["client_options"], "limits": Limits(retry_wait_budget_seconds=0.15)}
    report = D.push(None, dest(standin), {"A": "1"}, **{**sync_options, "client_options": client_options})
    assert [c.status.value for c in report.changes] == ["applied"] and len(standin.requests("PUT")) == 4


def test_a_429_that_is_not_retried_pauses_nobody(standin: StandIn, sync_options: dict[str, Any]) -> None:
    for key in ("A", "B", "C", "D"):
        standin.inject("PUT", key, (429, {"retry-after-ms": "1000"}))
    started = time.monotonic()
    report = D.push(None, dest(standin), dict.fromkeys("ABCD", "1"), concurrency=1, max_wait=0, **sync_options)
    assert [c.status.value for c in report.changes] == ["failed"] * 4
    assert time.monotonic() - started < 1.0  # four pauses of 1 s would be 3 s at least


def test_a_caller_s_per_retry_policies_run_inside_the_pace(standin: StandIn, sync_options: dict[str, Any]) -> None:
    from azure.core.pipeline.policies import SansIOHTTPPolicy

    seen: list[str] = []

    class Tag(SansIOHTTPPolicy[Any, Any]):
        def on_request(self, request: PipelineRequest[Any]) -> None:
            seen.append(request.http_request.method)

    client_options = {**sync_options["client_options"], "per_retry_policies": [Tag()]}
    report = D.push(None, dest(standin), {"A": "1"}, **{**sync_options, "client_options": client_options})
    assert report.ok and report.requests == 2 and seen == ["GET", "PUT"]
    applied = asyncio.run(
        D.apush(None, dest(standin), {"A": "2"}, **{**sync_options, "client_options": client_options})
    )
    assert applied.ok and applied.requests == 2 and seen == ["GET", "PUT", "GET", "PUT"]


def test_a_status_that_is_never_retried_says_so_without_attempts(
    standin: StandIn, sync_options: dict[str, Any]
) -> None:
    standin.inject("PUT", "A", 501)
    report = D.push(None, dest(standin), {"A": "1"}, **sync_options)
    assert report.changes[0].detail == "501: scripted answer" and len(standin.requests("PUT")) == 1


def test_a_push_cancelled_while_a_429_waits_says_it_was_not_applied(
    standin: StandIn, sync_options: dict[str, Any]
) -> None:
    from azure_appconfig_plugin.aio.sync import cancelled_report

    standin.inject("PUT", "A", (429, {"retry-after-ms": "2000"}))

    async def run() -> None:
        await asyncio.wait_for(D.apush(None, dest(standin), {"A": "1"}, **sync_options), 0.3)

    with pytest.raises(asyncio.TimeoutError) as caught:
        asyncio.run(run())
    report = cancelled_report(caught.value)
    assert report is not None
    (change,) = report.changes
    assert (change.status.value, change.code) == ("failed", "cancelled")
    assert change.detail == "cancelled while it waited to retry a 429: not applied"
    assert standin.store.get("A") is None and len(standin.requests("PUT")) == 1


def test_429s_answered_together_share_one_pause_of_the_run_s_budget(
    standin: StandIn, sync_options: dict[str, Any]
) -> None:
    keys = [f"S{i:02}" for i in range(16)]
    for key in keys:
        standin.inject("PUT", key, (429, {"retry-after-ms": "300"}))
    standin.latency = 0.05  # the 16 writes are in flight together
    lines: list[str] = []
    report = D.push(None, dest(standin), dict.fromkeys(keys, "v"), max_wait=1.0, status=lines.append, **sync_options)
    assert report.ok and report.counts["created"] == 16  # 16 x 0.3 s would pass 1 s; one pause does not
    assert 1 <= sum("throttled (429)" in line for line in lines) <= 3


def test_retry_total_bounds_every_kind_of_retry(
    standin: StandIn, sync_options: dict[str, Any], quick_backoff: None
) -> None:
    from azure_appconfig_plugin.http.limits import Limits
    from azure_appconfig_plugin.http.retry import retry_settings

    standin.inject("PUT", "A", 503, 503, 503, 503, 503)
    client_options = {**sync_options["client_options"], "limits": Limits(retry_total=5)}
    report = D.push(None, dest(standin), {"A": "1"}, **{**sync_options, "client_options": client_options})
    assert report.ok and len(standin.requests("PUT")) == 6  # azure-core's own status count (3) no longer cuts it
    settings = retry_settings(Limits(retry_total=2), {"retry_connect": 10, "retry_read": 1})
    assert (settings["retry_connect"], settings["retry_read"], settings["retry_status"]) == (2, 1, 2)


class _ReadBack:
    """A store answer for ``Executor.attempt`` driven without a pipeline."""

    def __init__(self, status: int, body: object = None) -> None:
        self.status_code, self.reason, self.body = status, "scripted", body
        self.headers: dict[str, str] = {}
        self.content = b"x"

    def text(self, encoding: str | None = None) -> str:
        return "x"

    def json(self) -> object:
        return self.body


@pytest.mark.parametrize(
    "read_back",
    [_ReadBack(500), _ReadBack(200, ["not", "an", "entry"]), DeadlineExceeded("too late", sent=False)],
)
def test_a_read_back_that_cannot_tell_leaves_the_key_unconfirmed(read_back: _ReadBack | Exception) -> None:
    from azure_appconfig_plugin.sansio import run_now
    from azure_appconfig_plugin.sync.apply import UNCONFIRMED, Executor
    from azure_appconfig_plugin.sync.config import parse_destination
    from azure_appconfig_plugin.sync.entries import desired_entries
    from azure_appconfig_plugin.sync.plan import OVERWRITE, plan_push
    from azure_appconfig_plugin.sync.wire import StoreClient

    async def send(request: HttpRequest, tries: Tries) -> Any:
        if request.method == "GET":
            if isinstance(read_back, Exception):
                raise read_back  # the HTTP policy stopped it
            return read_back
        tries.attempts = 2  # the pipeline retried the write; its last answer is a 412
        return _ReadBack(412)

    config = parse_destination({"endpoint": "https://mystore.azconfig.io"})
    (step,) = plan_push(
        desired_entries({"A": "1"}, config), [], config.scope, delete_missing=False, mode=OVERWRITE
    ).writes
    executor = Executor(
        cast("StoreClient", object()), Pace(deadline=time.monotonic() + 60)
    )  # never used: send is given
    outcome = run_now(executor.attempt(step, send, Tries()))
    assert (outcome.status.value, outcome.detail) == ("failed", UNCONFIRMED)
