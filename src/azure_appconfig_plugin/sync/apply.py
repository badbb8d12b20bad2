"""Apply a plan: conditional writes, then deletes, with adaptive concurrency and bounded retries.

- creates send ``If-None-Match: *``; updates and deletes ``If-Match`` with the ETag seen when listing;
  412 is a ``conflict`` and 409 ``locked``, per key, never retried or overwritten;
- writes run first; deletes run only when every write was applied;
- 429: the whole run pauses for ``retry-after-ms`` / ``Retry-After`` (each wait capped, the total
  capped by ``max_wait``), concurrency halves, and grows again by one after as many successes as
  the current limit; 5xx and connection resets are retried with jittered exponential back-off;
- when a retried write or delete answers 412, the entry is read back: if it already holds what we
  sent (our first attempt landed, its answer was lost) the key counts as applied;
- the run has a deadline; a key that could not be attempted in time is reported ``failed``.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable, MutableMapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Generic, Protocol, TypeVar, cast

import attrs

from ..http.retry import retry_after_seconds
from ..sansio import run_now
from .entries import Entry
from .plan import Step, same
from .report import Action, Status
from .wire import Answer, AsyncStoreClient, StoreClient

if TYPE_CHECKING:
    from azure.core.pipeline import PipelineRequest
    from azure.core.pipeline.policies import SansIOHTTPPolicy
    from azure.core.rest import HttpRequest

    from app_connections.jsontypes import JSONObject

DEFAULT_CONCURRENCY = 32
MAX_CONCURRENCY = 128
TRANSIENT_ATTEMPTS = 4
THROTTLE_ATTEMPTS = 8
MAX_SINGLE_WAIT = 30.0
DEFAULT_MAX_WAIT = 120.0
DEFAULT_TIMEOUT = 900.0
BACKOFF_BASE = 0.25
BACKOFF_MAX = 8.0
DEFAULT_RETRY_AFTER = 1.0
HALVE_INTERVAL = 1.0
"""At most one halving per second: a burst of 429s answering requests sent together is one signal."""

Progress = Callable[[int, int], None]
"""``progress(done, total)``: called after each step."""
StatusLine = Callable[[str], None]
"""A one-line status for an operator (``listing the scope: 300 entries``, ``throttled (429): asked to wait 5 s``)."""


class RequestCounter:
    """Counts the HTTP requests sent (thread-safe); ``counting_policy`` is the azure-core per-retry
    policy that feeds it (built there so this module does not import azure at import time)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.count = 0

    def on_request(self, request: object) -> None:
        """Called by ``counting_policy``'s policy for each request sent (each retry too)."""
        with self._lock:
            self.count += 1


def counting_policy(counter: RequestCounter) -> SansIOHTTPPolicy[object, object]:
    """The azure-core per-retry policy that counts each request sent into ``counter``."""
    from azure.core.pipeline.policies import SansIOHTTPPolicy

    class _Counting(SansIOHTTPPolicy[object, object]):
        def on_request(self, request: PipelineRequest[object]) -> None:
            counter.on_request(request)

    return _Counting()


class AdaptiveLimit:
    """A concurrency limit that halves on 429 (once per burst: only for a request granted since the
    last halving, and at most once per ``halve_interval``) and grows by one after ``limit``
    successes; a 429 also holds every new request until the server's retry-after has passed."""

    def __init__(
        self, maximum: int, *, clock: Callable[[], float] = time.monotonic, halve_interval: float = HALVE_INTERVAL
    ) -> None:
        self.maximum = max(1, maximum)
        self.limit = self.maximum
        self.lowest = self.maximum
        self._active = 0
        self._streak = 0
        self._epoch = 0
        self._resume_at = 0.0
        self._halved_at = float("-inf")
        self._halve_interval = halve_interval
        self._clock = clock
        self._cond = threading.Condition()

    def acquire(self, deadline: float) -> int | None:
        """Wait for a slot; the epoch the slot was granted in, or None when the deadline passed."""
        with self._cond:
            while True:
                granted, wake = self.try_acquire(deadline)
                if granted is not None or wake is None:
                    return granted
                self._cond.wait(timeout=wake)

    def try_acquire(self, deadline: float) -> tuple[int | None, float | None]:
        """A slot now: (its epoch, None); else (None, seconds to wait before asking again), or (None,
        None) once the deadline passed. Call it holding the lock (``acquire`` does)."""
        now = self._clock()
        if now >= deadline:
            return None, None
        if self._active < self.limit and now >= self._resume_at:
            self._active += 1
            return self._epoch, None
        wake = min(deadline, self._resume_at if now < self._resume_at else deadline) - now
        return None, max(0.001, min(wake, 0.5))

    def _changed(self) -> None:
        """Wake every waiter (the limit or the pause changed); called holding the lock."""
        self._cond.notify_all()

    def release(self, *, success: bool) -> None:
        """Give a slot back; ``limit`` successes in a row grow the limit by one."""
        with self._cond:
            self._active -= 1
            if success:
                self._streak += 1
                if self._streak >= self.limit and self.limit < self.maximum:
                    self.limit += 1
                    self._streak = 0
            self._changed()

    def throttled(self, epoch: int, wait: float) -> None:
        """A 429 on a request granted in ``epoch``: halve once per epoch, pause everyone for ``wait``."""
        with self._cond:
            now = self._clock()
            if epoch == self._epoch and now - self._halved_at >= self._halve_interval:
                self._halved_at = now
                self.limit = max(1, self.limit // 2)
                self.lowest = min(self.lowest, self.limit)
                self._epoch += 1
            self._streak = 0
            self._resume_at = max(self._resume_at, now + wait)
            self._changed()


def throttled_text(wait: float) -> str:
    """The status line of a throttled wait, with its unit."""
    return f"throttled (429): asked to wait {wait:g} s"


def undecoded_answer(exc: BaseException) -> Answer | None:
    """The store's answer behind the SDK's ``DecodeError`` (its body is not what its Content-Type
    says), else None. The store did answer: its status, not the body, says what happened to the
    request (a body cut short, ``IncompleteReadError``, is a transport error instead)."""
    from azure.core.exceptions import DecodeError, IncompleteReadError

    if isinstance(exc, DecodeError) and not isinstance(exc, IncompleteReadError):
        return cast("Answer | None", exc.response)  # the pipeline's response: status, headers, body
    return None


@attrs.frozen
class Outcome:
    """What became of one step: its status, a detail for the report and, when refused, a code."""

    status: Status
    detail: str
    code: str | None = None
    """The HTTP policy's refusal code (``foreign_host``, ``deadline_exceeded``, ``response_too_large``,
    ``malformed_answer``) when the policy stopped the request."""


ERROR = "error"
"""The code of a step that raised something unexpected: reported on its key, the run goes on."""
DEADLINE = "deadline_exceeded"
"""The code of a step the run's deadline stopped: the same as the HTTP policy's, one deadline model."""


class PolicyRefusal(Exception):
    """The package's HTTP policy stopped a request (never retried): its code and message."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


def refusal(exc: BaseException) -> PolicyRefusal | None:
    """The HTTP policy's refusal behind ``exc`` (itself or inside an SDK error), or a store certificate
    this machine does not trust (never retried either), as a ``PolicyRefusal``."""
    from ..http.answers import CERTIFICATE_UNTRUSTED, untrusted_certificate
    from ..http.errors import policy_error

    found = policy_error(exc)
    if found is None:
        untrusted = untrusted_certificate(exc)
        return None if untrusted is None else PolicyRefusal(CERTIFICATE_UNTRUSTED, untrusted)
    return PolicyRefusal(str(getattr(found, "code", None) or "policy"), _short(str(found), 300))


ClientT = TypeVar("ClientT", StoreClient, AsyncStoreClient)


@attrs.define
class Executor(Generic[ClientT]):
    """Runs the write and delete steps of a plan against one client."""

    client: ClientT
    concurrency: int = DEFAULT_CONCURRENCY
    max_wait: float = DEFAULT_MAX_WAIT
    timeout: float = DEFAULT_TIMEOUT
    progress: Progress | None = None
    status: StatusLine | None = None
    sleep: Callable[[float], None] = time.sleep
    limit: AdaptiveLimit = attrs.field(init=False)
    throttle_waited: float = attrs.field(init=False, default=0.0)
    throttles: int = attrs.field(init=False, default=0)
    _deadline: float = attrs.field(init=False, default=0.0)
    _lock: threading.Lock = attrs.field(init=False, factory=threading.Lock)
    _done: int = attrs.field(init=False, default=0)
    _total: int = attrs.field(init=False, default=0)

    def __attrs_post_init__(self) -> None:
        self.concurrency = max(1, min(MAX_CONCURRENCY, int(self.concurrency)))
        self.limit = AdaptiveLimit(self.concurrency)

    def run(
        self: Executor[StoreClient], writes: Sequence[Step], deletes: Sequence[Step], *, held: int = 0
    ) -> dict[int, Outcome]:
        """Outcomes by ``id(step)``; deletes run only when every write was applied and no write was
        ``held`` back by the plan (a locked entry it could not update)."""
        self._deadline = time.monotonic() + self.timeout
        self._total = len(writes) + len(deletes)
        outcomes = self._run_all(writes)
        blocked = len([o for o in outcomes.values() if o.status != Status.APPLIED]) + held
        if deletes and blocked:
            why = (
                f"not deleted: {blocked} write(s) failed, conflicted or were locked, so no delete is run "
                "(nothing is lost; fix them and push again)"
            )
            outcomes.update({id(s): Outcome(Status.NOT_RUN, why) for s in deletes})
            self._tick(len(deletes))
        else:
            outcomes.update(self._run_all(deletes))
        return outcomes

    def _tick(self, n: int = 1) -> None:
        if self.progress is None:
            return
        with self._lock:  # one caller at a time: a progress bar never interleaves its redraws
            self._done += n
            self.progress(self._done, self._total)

    def _run_all(self: Executor[StoreClient], steps: Sequence[Step]) -> dict[int, Outcome]:
        if not steps:
            return {}
        workers = min(self.concurrency, len(steps))
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="appconfig-sync") as pool:
            results = list(pool.map(self._one, steps))
        return {id(s): o for s, o in zip(steps, results, strict=True)}

    def _one(self: Executor[StoreClient], step: Step) -> Outcome:
        """One step in a worker thread, inside the policy's ``operation_deadline`` set to the run's
        deadline: no request of this step outlives the run (one deadline model for both)."""
        from ..http.deadlines import operation_deadline

        try:
            with operation_deadline(self._deadline - time.monotonic()):
                return run_now(self.attempts(step, _ThreadOps(self)))
        except Exception as exc:  # one key's unexpected failure never ends the run unreported
            return Outcome(Status.FAILED, f"not applied: {type(exc).__name__}: {_short(str(exc))}", ERROR)
        finally:
            self._tick()

    async def attempts(self, step: Step, ops: StepOps) -> Outcome:
        """One step's attempts: the rules above (conditional request, 429 pause and halving, back-off,
        read-back after a retried 412). ``ops`` waits and sends: the sync executor's block a worker
        thread (and this coroutine never suspends: ``run_now``), the async executor's await."""
        transient = throttled = 0
        last = "no attempt was made"
        while True:
            epoch = await ops.acquire(self._deadline)
            if epoch is None:
                return Outcome(Status.FAILED, f"not applied: the run's deadline (timeout) passed; {last}", DEADLINE)
            success = False
            try:
                status, headers, error = await self._send(step, ops)
                success = status is not None and status < 300
            except PolicyRefusal as exc:  # the one HTTP policy refused: reported with its code, never retried
                return Outcome(Status.FAILED, f"{exc.code}: {exc}", exc.code)
            finally:
                self.limit.release(success=success)
            retried = transient + throttled > 0
            if success:
                return Outcome(Status.APPLIED, _applied(step, retried))
            if status == 412:
                if retried and await self._landed(step, ops):
                    return Outcome(Status.APPLIED, _applied(step, True) + "; confirmed by reading it back")
                return Outcome(Status.CONFLICT, _conflict(step))
            if status == 409:
                return Outcome(Status.LOCKED, "entry is locked (read-only) (409); not changed")
            if status == 429:
                throttled += 1
                wait = min(MAX_SINGLE_WAIT, retry_after_seconds(headers or {}) or DEFAULT_RETRY_AFTER)
                last = f"throttled (429) {throttled} time(s)"
                with self._lock:
                    self.throttles += 1
                    over = self.throttle_waited + wait > self.max_wait
                    if not over:
                        self.throttle_waited += wait
                if throttled >= THROTTLE_ATTEMPTS or over:
                    return Outcome(
                        Status.FAILED, f"{last}; gave up (the run's throttling waits are capped by max_wait)"
                    )
                if self.status is not None:
                    with self._lock:  # never drawn while the progress bar redraws
                        self.status(throttled_text(wait))
                self.limit.throttled(epoch, wait)
                continue
            if status is None or status >= 500 or status == 408:
                transient += 1
                what = error if status is None else f"{status}: {error or 'server error'}"  # name the status
                last = f"{what} (attempt {transient})"
                if transient >= TRANSIENT_ATTEMPTS:
                    return Outcome(Status.FAILED, f"{last}; gave up after {transient} attempts")
                delay = min(BACKOFF_MAX, BACKOFF_BASE * 2 ** (transient - 1)) * random.uniform(0.5, 1.5)
                if time.monotonic() + delay >= self._deadline:
                    return Outcome(Status.FAILED, f"{last}; no time left before the run's deadline", DEADLINE)
                await ops.sleep(delay)
                continue
            return Outcome(Status.FAILED, f"{status}: {error or 'request refused'}")

    async def _send(self, step: Step, ops: StepOps) -> tuple[int | None, MutableMapping[str, str] | None, str | None]:
        """One conditional request through the client's pipeline (auth, Sync-Token, the one HTTP policy);
        the SDK's own retries are off (``retry_total=0``): this executor owns retrying."""
        from azure.core.exceptions import AzureError

        from ..http.errors import HttpPolicyError

        response: Answer | None
        try:
            response = await ops.send(_request(step))
        except (AzureError, HttpPolicyError) as exc:
            found = refusal(exc)
            if found is not None:  # the policy's own error, or one an SDK error wraps: never retried
                raise found from None
            response = undecoded_answer(exc)
            if response is None:
                return None, None, _short(f"{type(exc).__name__}: {exc}")  # a transport error: retried
        status = int(response.status_code)
        return status, response.headers, None if status < 300 else _error_text(response)

    async def _landed(self, step: Step, ops: StepOps) -> bool:
        """After a retried request answered 412: does the store already hold what we sent?"""
        from azure.core.exceptions import AzureError

        from ..http.errors import HttpPolicyError

        try:
            response = await ops.send(_request(step, read=True))
        except (AzureError, HttpPolicyError):
            return False
        if response.status_code == 404:
            return step.change.action == Action.DELETE
        if response.status_code != 200 or step.change.action == Action.DELETE or step.desired is None:
            return False
        try:
            body = response.json()
        except ValueError:
            return False
        found = Entry(
            step.change.key, step.change.label, body.get("value"), body.get("content_type"), body.get("tags") or {}
        )
        return same(step.desired, found)


class StepOps(Protocol):
    """How ``Executor.attempts`` waits for a slot, sends a request and sleeps."""

    async def acquire(self, deadline: float) -> int | None:
        """A slot's epoch, or None once ``deadline`` passed."""

    async def send(self, request: HttpRequest) -> Answer:
        """The store's answer to ``request`` (the SDK's own retries off)."""

    async def sleep(self, seconds: float) -> None:
        """Wait ``seconds``."""


class _ThreadOps:
    """The sync executor's: each call blocks its worker thread (the coroutine never suspends)."""

    def __init__(self, executor: Executor[StoreClient]) -> None:
        self.executor = executor

    async def acquire(self, deadline: float) -> int | None:
        return self.executor.limit.acquire(deadline)

    async def send(self, request: HttpRequest) -> Answer:
        return self.executor.client.send_request(request, retry_total=0)

    async def sleep(self, seconds: float) -> None:
        self.executor.sleep(seconds)


KV_ACCEPT = "application/vnd.microsoft.appconfig.kv+json, application/problem+json"


def _request(step: Step, *, read: bool = False) -> HttpRequest:
    """The REST request for a step: ``PUT``/``DELETE``/``GET /kv/{key}?label=`` with its precondition.

    The label of a single key is sent as is (reserved characters are escaped only in filters); the
    null label is sent as no label parameter."""
    import json
    from urllib.parse import quote

    from azure.core.rest import HttpRequest

    from ..store import API_VERSION
    from .scope import encode_query

    change = step.change
    params = {"api-version": API_VERSION}
    if change.label is not None:
        params["label"] = change.label
    url = f"/kv/{quote(change.key, safe='')}?{encode_query(params)}"
    headers = {"Accept": KV_ACCEPT}
    if read:
        return HttpRequest("GET", url, headers=headers)
    if change.action == Action.DELETE:
        assert step.existing is not None
        headers["If-Match"] = f'"{step.existing.etag}"'
        return HttpRequest("DELETE", url, headers=headers)
    want = step.desired
    assert want is not None
    if change.action == Action.CREATE:
        headers["If-None-Match"] = "*"
    else:
        assert step.existing is not None
        headers["If-Match"] = f'"{step.existing.etag}"'
    body: JSONObject = {"key": want.key}
    if want.label is not None:
        body["label"] = want.label
    body["value"] = want.value
    if want.content_type is not None:
        body["content_type"] = want.content_type
    body["tags"] = dict(want.tags)
    headers["Content-Type"] = "application/json"
    return HttpRequest("PUT", url, headers=headers, content=json.dumps(body))


def _error_text(response: Answer) -> str:
    """The service's problem title (bounded, printable), or the reason phrase."""
    try:
        body = response.json() if response.text() else None
    except ValueError:
        body = None
    if isinstance(body, dict):
        for key in ("title", "detail"):
            if isinstance(body.get(key), str) and body[key]:
                return _short(body[key])
    return _short(str(getattr(response, "reason", "") or ""))


def _applied(step: Step, retried: bool) -> str:
    what = {Action.CREATE: "created", Action.UPDATE: "updated", Action.DELETE: "deleted"}[step.change.action]
    return what + (" after retries" if retried else "")


def _conflict(step: Step) -> str:
    if step.change.action == Action.CREATE:
        return "conflict (412): the entry was created by someone else since it was listed; not overwritten"
    return "conflict (412): the entry changed since it was listed; not overwritten (push again to re-plan)"


def _short(text: str, limit: int = 200) -> str:
    """Untrusted text (server reasons, transport errors): first line, printable characters, bounded."""
    first = text.strip().splitlines()[0] if text.strip() else ""
    return "".join(c if c.isprintable() else " " for c in first)[:limit]
