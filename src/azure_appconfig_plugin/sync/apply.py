"""Apply a plan: conditional writes, then deletes, through the client's pipeline and its run's pace.

- creates send ``If-None-Match: *``; updates and deletes ``If-Match`` with the ETag seen when listing;
  412 is a ``conflict`` and 409 ``locked``, per key, never retried or overwritten;
- writes run first; deletes run only when every write was applied;
- retries are the pipeline's (``http.retry``), paced by the run (``http.pace``): a 429 pauses every
  request for ``retry-after-ms`` / ``Retry-After`` (each pause capped, the run's total capped by
  ``max_wait``) and halves the concurrency, which grows again by one after as many successes as the
  current limit; 5xx and connection resets are retried with jittered exponential back-off;
- when a retried write or delete answers 412, the entry is read back: if it already holds what we
  sent (our first attempt landed, its answer was lost) the key counts as applied;
- the run has a deadline; a key that could not be attempted in time is reported ``failed``.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Generic, TypeVar, cast

import attrs

from ..http.pace import Pace, Tries, counted
from ..http.retry import TRANSIENT_STATUSES
from ..sansio import run_now
from .entries import Entry
from .plan import Step, same
from .report import Action, Status
from .wire import Answer, AsyncStoreClient, Send, StoreClient

if TYPE_CHECKING:
    from azure.core.rest import HttpRequest

    from app_connections.jsontypes import JSONObject

Progress = Callable[[int, int], None]
"""``progress(done, total)``: called after each step."""


def sender(client: StoreClient) -> Send:
    """``Send`` on a sync client (the coroutine never suspends: ``run_now`` drives it)."""

    async def send(request: HttpRequest, tries: Tries) -> Answer:
        with counted(tries):
            return client.send_request(request)

    return send


def async_sender(client: AsyncStoreClient) -> Send:
    """``Send`` on an aio client."""

    async def send(request: HttpRequest, tries: Tries) -> Answer:
        with counted(tries):
            return await client.send_request(request)

    return send


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

NOT_DELETED = (
    "not deleted: {} write(s) failed, conflicted or were locked, so no delete is run "
    "(nothing is lost; fix them and push again)"
)


@attrs.define
class Executor(Generic[ClientT]):
    """Runs the write and delete steps of a plan against one client paced by ``pace``."""

    client: ClientT
    pace: Pace
    progress: Progress | None = None
    _done: int = attrs.field(init=False, default=0)
    _total: int = attrs.field(init=False, default=0)

    def run(
        self: Executor[StoreClient], writes: Sequence[Step], deletes: Sequence[Step], *, held: int = 0
    ) -> dict[int, Outcome]:
        """Outcomes by ``id(step)``; deletes run only when every write was applied and no write was
        ``held`` back by the plan (a locked entry it could not update)."""
        self._total = len(writes) + len(deletes)
        outcomes = self._run_all(writes)
        blocked = self.blocked(outcomes, held)
        if deletes and blocked:
            outcomes.update(self.not_deleted(deletes, blocked))
        else:
            outcomes.update(self._run_all(deletes))
        return outcomes

    @staticmethod
    def blocked(outcomes: dict[int, Outcome], held: int) -> int:
        """How many writes keep the deletes from running: not applied, or held back by the plan."""
        return len([o for o in outcomes.values() if o.status != Status.APPLIED]) + held

    def not_deleted(self, deletes: Sequence[Step], blocked: int) -> dict[int, Outcome]:
        """Every delete reported not run, because ``blocked`` writes were not applied."""
        self._tick(len(deletes))
        return {id(s): Outcome(Status.NOT_RUN, NOT_DELETED.format(blocked)) for s in deletes}

    def _tick(self, n: int = 1) -> None:
        if self.progress is None:
            return
        with self.pace.lock:  # one caller at a time: a progress bar never interleaves its redraws
            self._done += n
            self.progress(self._done, self._total)

    def _run_all(self: Executor[StoreClient], steps: Sequence[Step]) -> dict[int, Outcome]:
        if not steps:
            return {}
        workers = min(self.pace.concurrency, len(steps))
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="appconfig-sync") as pool:
            results = list(pool.map(self._one, steps))
        return {id(s): o for s, o in zip(steps, results, strict=True)}

    def _one(self: Executor[StoreClient], step: Step) -> Outcome:
        """One step in a worker thread, inside the policy's ``operation_deadline`` set to the run's
        deadline: no request of this step outlives the run (one deadline model for both)."""
        from ..http.deadlines import operation_deadline

        try:
            with operation_deadline(self.pace.deadline - time.monotonic()):
                return run_now(self.attempt(step, sender(self.client), Tries()))
        except Exception as exc:  # one key's unexpected failure never ends the run unreported
            return failed_unexpectedly(exc)
        finally:
            self._tick()

    async def attempt(self, step: Step, send: Send, tries: Tries) -> Outcome:
        """One step: its conditional request through the pipeline (which retries it under the
        run's pace), then what its last answer means; a retried 412 is read back."""
        try:
            status, error = await self._send(step, send, tries)
        except PolicyRefusal as exc:  # the one HTTP policy refused: reported with its code, never retried
            return Outcome(Status.FAILED, f"{exc.code}: {exc}", exc.code)
        if tries.out_of_time and (status is None or status >= 400):
            last = error if status is None else f"{status}: {error or 'server error'}"
            return Outcome(Status.FAILED, f"{last}; no time left before the run's deadline", DEADLINE)
        if status is None:
            return Outcome(Status.FAILED, f"{error}; gave up after {tries.attempts} attempts")
        if status < 300:
            return Outcome(Status.APPLIED, _applied(step, tries.retried))
        if status == 412:
            landed = await self._landed(step, send) if tries.retried else False
            if landed:
                return Outcome(Status.APPLIED, _applied(step, True) + "; confirmed by reading it back")
            if landed is None:
                return Outcome(Status.FAILED, UNCONFIRMED)
            return Outcome(Status.CONFLICT, _conflict(step))
        if status == 409:
            return Outcome(Status.LOCKED, "entry is locked (read-only) (409); not changed")
        if status == 429:
            return Outcome(
                Status.FAILED,
                f"throttled (429) {tries.throttled} time(s); gave up "
                "(a call's 429s are capped at 8; their waits by max_wait for the run and retry_after_max_seconds)",
            )
        if status in TRANSIENT_STATUSES:
            return Outcome(
                Status.FAILED, f"{status}: {error or 'server error'}; gave up after {tries.attempts} attempts"
            )
        return Outcome(Status.FAILED, f"{status}: {error or ('server error' if status >= 500 else 'request refused')}")

    async def _send(self, step: Step, send: Send, tries: Tries) -> tuple[int | None, str | None]:
        """The step's status and error text after the pipeline's attempts (None: no answer, a
        transport error); ``PolicyRefusal`` when the HTTP policy stopped it."""
        answer = await call(send, _request(step), tries)
        if isinstance(answer, str):
            return None, answer
        status = int(answer.status_code)
        return status, None if status < 300 else _error_text(answer)

    async def _landed(self, step: Step, send: Send) -> bool | None:
        """After a retried request answered 412: does the store already hold what we sent? None when
        the read-back gave no usable answer (no answer, a refusal, a body that is not the entry)."""
        try:
            response = await call(send, _request(step, read=True), Tries())
        except PolicyRefusal:
            return None
        if isinstance(response, str):
            return None
        if response.status_code == 404:
            return step.change.action == Action.DELETE
        if response.status_code != 200:
            return None
        if step.change.action == Action.DELETE or step.desired is None:
            return False  # the entry is still there: the delete did not land
        try:
            body = response.json()
        except ValueError:
            return None
        if not isinstance(body, dict):
            return None
        found = Entry(
            step.change.key, step.change.label, body.get("value"), body.get("content_type"), body.get("tags") or {}
        )
        return same(step.desired, found)


async def call(send: Send, request: HttpRequest, tries: Tries) -> Answer | str:
    """The store's last answer to ``request`` after the pipeline's attempts, or what failed when
    none came (a transport error, retries spent); ``PolicyRefusal`` when the HTTP policy stopped it
    (never retried). The executor's and the listing's one way to read a call's end."""
    from azure.core.exceptions import AzureError

    from ..http.errors import HttpPolicyError

    try:
        return await send(request, tries)
    except (AzureError, HttpPolicyError) as exc:
        found = refusal(exc)
        if found is not None:  # the policy's own error, or one an SDK error wraps
            raise found from None
        answer = undecoded_answer(exc)  # answered, with a body that is not what it says: its status counts
        return _short(f"{type(exc).__name__}: {exc}") if answer is None else answer


def failed_unexpectedly(exc: Exception) -> Outcome:
    """The outcome of a step that raised something unexpected: reported on its key, the run goes on."""
    return Outcome(Status.FAILED, f"not applied: {type(exc).__name__}: {_short(str(exc))}", ERROR)


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


UNCONFIRMED = (
    "412 after a retry, and reading the entry back gave no answer to compare: an earlier attempt may "
    "have landed, or someone else changed it; not overwritten (push again to re-plan)"
)


def _conflict(step: Step) -> str:
    if step.change.action == Action.CREATE:
        return "conflict (412): the entry was created by someone else since it was listed; not overwritten"
    return "conflict (412): the entry changed since it was listed; not overwritten (push again to re-plan)"


def _short(text: str, limit: int = 200) -> str:
    """Untrusted text (server reasons, transport errors): first line, printable characters, bounded."""
    first = text.strip().splitlines()[0] if text.strip() else ""
    return "".join(c if c.isprintable() else " " for c in first)[:limit]
