"""The sync's executor on an event loop: the same rules (``sync.apply.Executor.attempt``: conditional
writes through the pipeline paced by the run, read-back), run by tasks instead of threads, and stopped
by a cancel: no request is started after it, the ones in flight are closed, and every step is reported."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import attrs

from ..http.pace import Tries
from ..sync.apply import Executor, Outcome, async_sender, failed_unexpectedly
from ..sync.plan import Step
from ..sync.report import Status
from ..sync.wire import AsyncStoreClient

STAGGER_SECONDS = 0.002
"""How far apart the async push's workers send their first request (each opens a connection)."""

CANCELLED = "cancelled"
"""The code of a step a cancel stopped."""


class ExecutionCancelled(asyncio.CancelledError):
    """The executor was cancelled; ``outcomes`` has one per step (finished, in flight, never started)."""

    def __init__(self, outcomes: dict[int, Outcome]) -> None:
        super().__init__("cancelled")
        self.outcomes = outcomes


@attrs.define
class AsyncExecutor(Executor[AsyncStoreClient]):
    """``Executor`` on an event loop: ``await arun(writes, deletes)``; at most the pace's concurrency
    of steps at once, and fewer while its adaptive limit is lowered by 429s."""

    tries: dict[int, Tries] = attrs.field(init=False, factory=dict)
    """Each started step's attempts (a step that sent a request at a cancel may have been applied)."""

    async def arun(self, writes: Sequence[Step], deletes: Sequence[Step], *, held: int = 0) -> dict[int, Outcome]:
        """``Executor.run`` awaited; a cancel raises ``ExecutionCancelled`` with every step's outcome."""
        import time

        from ..http.deadlines import operation_deadline

        self._total = len(writes) + len(deletes)
        outcomes: dict[int, Outcome] = {}
        with operation_deadline(self.pace.deadline - time.monotonic()):  # the tasks copy it
            try:
                await self._arun_all(writes, outcomes)
                blocked = self.blocked(outcomes, held)
                if deletes and blocked:
                    outcomes.update(self.not_deleted(deletes, blocked))
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
            tries = self.tries.get(id(step))
            if tries is not None and tries.attempts and tries.only_throttled:
                out[id(step)] = Outcome(
                    Status.FAILED, "cancelled while it waited to retry a 429: not applied", CANCELLED
                )
            elif tries is not None and tries.attempts:
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
        send = async_sender(self.client)

        async def worker(index: int) -> None:
            # Each worker's first request opens a connection (about 1 ms of TCP and TLS set-up on the
            # loop); started together, 32 of them would hold the loop for 30 ms, so they start apart.
            await asyncio.sleep(index * STAGGER_SECONDS)
            for step in queue:  # shared: each step is taken by one worker
                tries = self.tries[id(step)] = Tries()
                try:
                    outcomes[id(step)] = await self.attempt(step, send, tries)
                except Exception as exc:  # one key's unexpected failure never ends the run unreported
                    outcomes[id(step)] = failed_unexpectedly(exc)
                finally:
                    self._tick()

        workers = [asyncio.ensure_future(worker(i)) for i in range(min(self.pace.concurrency, len(steps)))]
        try:
            await asyncio.gather(*workers)
        except asyncio.CancelledError:
            for task in workers:
                task.cancel()
            await asyncio.gather(*workers, return_exceptions=True)  # every request closed before reporting
            raise
