"""The sync's executor on an event loop: the same rules (``sync.apply.Executor.attempts``: conditional
writes, 429 pause and halving, back-off, read-back), run by tasks instead of threads, and stopped by a
cancel: no request is started after it, the ones in flight are closed, and every step is reported."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

import attrs

from ..sync.apply import HALVE_INTERVAL, AdaptiveLimit, Executor, Outcome, _short
from ..sync.plan import Step
from ..sync.report import Status
from ..sync.wire import Answer, AsyncStoreClient

if TYPE_CHECKING:
    from azure.core.rest import HttpRequest

STAGGER_SECONDS = 0.002
"""How far apart the async push's workers send their first request (each opens a connection)."""

CANCELLED = "cancelled"
"""The code of a step a cancel stopped."""


class AsyncAdaptiveLimit(AdaptiveLimit):
    """``AdaptiveLimit`` whose waiters are tasks: they await a change instead of blocking a thread."""

    def __init__(
        self, maximum: int, *, clock: Callable[[], float] = time.monotonic, halve_interval: float = HALVE_INTERVAL
    ) -> None:
        super().__init__(maximum, clock=clock, halve_interval=halve_interval)
        self._event = asyncio.Event()

    def _changed(self) -> None:
        super()._changed()
        self._event.set()  # wakes every task waiting now; later waiters wait on a new event
        self._event = asyncio.Event()

    async def aacquire(self, deadline: float) -> int | None:
        """``acquire`` for a task: the epoch of the slot granted, or None once the deadline passed."""
        while True:
            with self._cond:
                granted, wake = self.try_acquire(deadline)
                event = self._event
            if granted is not None or wake is None:
                return granted
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(event.wait(), wake)


class Pacer:
    """At most ``per_pass`` request starts in one pass of the event loop: when many writers are ready at
    once (a page of answers arriving together), their CPU (pipeline, TLS handshake) is spread over
    several passes, so the loop's other tasks (a host's requests) wait milliseconds, not a burst."""

    def __init__(self, per_pass: int = 4) -> None:
        self.per_pass = per_pass
        self._used = 0
        self._reset_planned = False

    async def turn(self) -> None:
        """Wait for a pass with a start left, and take it."""
        while self._used >= self.per_pass:
            await asyncio.sleep(0)
        self._used += 1
        if not self._reset_planned:
            self._reset_planned = True
            asyncio.get_running_loop().call_soon(self._reset)

    def _reset(self) -> None:
        self._used = 0
        self._reset_planned = False


class ExecutionCancelled(asyncio.CancelledError):
    """The executor was cancelled; ``outcomes`` has one per step (finished, in flight, never started)."""

    def __init__(self, outcomes: dict[int, Outcome]) -> None:
        super().__init__("cancelled")
        self.outcomes = outcomes


class _TaskOps:
    """``StepOps`` of one step on the loop: awaits the limit, the async client and ``asyncio.sleep``."""

    def __init__(self, executor: AsyncExecutor, step: Step) -> None:
        self.executor = executor
        self.step = step

    async def acquire(self, deadline: float) -> int | None:
        limit = self.executor.limit
        assert isinstance(limit, AsyncAdaptiveLimit)  # the async executor's (``__attrs_post_init__``)
        return await limit.aacquire(deadline)

    async def send(self, request: HttpRequest) -> Answer:
        await self.executor.pacer.turn()
        self.executor.sent.add(id(self.step))
        return await self.executor.client.send_request(request, retry_total=0)

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)


@attrs.define
class AsyncExecutor(Executor[AsyncStoreClient]):
    """``Executor`` on an event loop: ``await arun(writes, deletes)``; at most ``concurrency`` steps at
    once, and fewer while the adaptive limit is lowered by 429s."""

    sent: set[int] = attrs.field(init=False, factory=set)
    """The steps that sent a request (a step in flight at a cancel may have been applied)."""
    pacer: Pacer = attrs.field(init=False, factory=Pacer)

    def __attrs_post_init__(self) -> None:
        super().__attrs_post_init__()
        self.limit = AsyncAdaptiveLimit(self.concurrency)

    async def arun(self, writes: Sequence[Step], deletes: Sequence[Step], *, held: int = 0) -> dict[int, Outcome]:
        """``Executor.run`` awaited; a cancel raises ``ExecutionCancelled`` with every step's outcome."""
        from ..http.deadlines import operation_deadline

        self._deadline = time.monotonic() + self.timeout
        self._total = len(writes) + len(deletes)
        outcomes: dict[int, Outcome] = {}
        with operation_deadline(self.timeout):  # the tasks copy it: no request outlives the run
            try:
                await self._arun_all(writes, outcomes)
                blocked = len([o for o in outcomes.values() if o.status != Status.APPLIED]) + held
                if deletes and blocked:
                    why = (
                        f"not deleted: {blocked} write(s) failed, conflicted or were locked, so no delete is run "
                        "(nothing is lost; fix them and push again)"
                    )
                    outcomes.update({id(s): Outcome(Status.NOT_RUN, why) for s in deletes})
                    self._tick(len(deletes))
                else:
                    await self._arun_all(deletes, outcomes)
            except asyncio.CancelledError:
                raise ExecutionCancelled(self._cancelled(writes, deletes, outcomes)) from None
        return outcomes

    def _cancelled(
        self, writes: Sequence[Step], deletes: Sequence[Step], outcomes: dict[int, Outcome]
    ) -> dict[int, Outcome]:
        out = dict(outcomes)
        for step in [*writes, *deletes]:
            if id(step) in out:
                continue
            if id(step) in self.sent:
                out[id(step)] = Outcome(
                    Status.FAILED,
                    "cancelled while its request was in flight: the store may have applied it (push again to re-plan)",
                    CANCELLED,
                )
            else:
                out[id(step)] = Outcome(Status.NOT_RUN, "not attempted: the push was cancelled", CANCELLED)
        return out

    async def _arun_all(self, steps: Sequence[Step], outcomes: dict[int, Outcome]) -> None:
        if not steps:
            return
        queue = iter(steps)

        async def worker(index: int) -> None:
            # Each worker's first request opens a connection (about 1 ms of TCP and TLS set-up on the
            # loop); started together, 32 of them would hold the loop for 30 ms, so they start apart.
            await asyncio.sleep(index * STAGGER_SECONDS)
            for step in queue:  # shared: each step is taken by one worker
                outcomes[id(step)] = await self._aone(step)

        workers = [asyncio.ensure_future(worker(i)) for i in range(min(self.concurrency, len(steps)))]
        try:
            await asyncio.gather(*workers)
        except asyncio.CancelledError:
            for task in workers:
                task.cancel()
            await asyncio.gather(*workers, return_exceptions=True)  # every request closed before reporting
            raise

    async def _aone(self, step: Step) -> Outcome:
        try:
            return await self.attempts(step, _TaskOps(self, step))
        except Exception as exc:  # one key's unexpected failure never ends the run unreported
            from ..sync.apply import ERROR

            return Outcome(Status.FAILED, f"not applied: {type(exc).__name__}: {_short(str(exc))}", ERROR)
        finally:
            self._tick()
