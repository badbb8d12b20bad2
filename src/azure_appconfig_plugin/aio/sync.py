"""The sync destination's operations as coroutines (``AppConfigurationDestination.aplan`` / ``apush``
/ ``aimport_secrets`` / ``aremove``): the same parsing, listing rules (``sync.listing.list_pages``),
plan, deletion guard and executor rules as the sync ones, on the SDK's aio client under the package's
HTTP policy, with adaptive concurrency and 429 back-off on one event loop instead of a thread pool.

Cancelling (a task cancel, ``asyncio.timeout``) stops the run at once: no request is started after
it and the ones in flight are closed. ``cancelled_report(exc)`` on the ``CancelledError`` a push
raised (or on an ``asyncio.timeout``'s ``TimeoutError``) says what was written: applied, in flight
when cancelled (the store may have applied it), or never attempted.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Iterable, Mapping
from typing import cast

from ..http.pace import Pace
from ..sync import engine
from ..sync.apply import Outcome, async_sender
from ..sync.config import DestinationInput
from ..sync.engine import ConnectionInput, RunOptions, Target
from ..sync.entries import Entry, Secrets, desired_entries
from ..sync.listing import ListFailed, list_pages
from ..sync.plan import Plan, Step, plan_import, plan_remove
from ..sync.report import SyncReport
from ..sync.wire import AsyncStoreClient
from .sync_apply import AsyncExecutor, ExecutionCancelled

CANCELLED_MESSAGE = "the push was cancelled while it wrote: cancelled_report(exc) says what was written"


def cancelled_report(exc: BaseException) -> SyncReport | None:
    """What a push (or remove) cancelled while it wrote had done: the report carried by ``exc`` (the
    ``CancelledError`` it raised, or the ``TimeoutError`` of an ``asyncio.timeout`` around it, whose
    cause that is). None: the cancel came before any write (nothing was written)."""
    seen: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and not any(current is e for e in seen):
        seen.append(current)
        if isinstance(current, asyncio.CancelledError) and isinstance(vars(current).get("report"), SyncReport):
            report: SyncReport = vars(current)["report"]
            return report
        current = current.__cause__ or current.__context__
    return None


def _cancelled(report: SyncReport) -> asyncio.CancelledError:
    # a plain CancelledError (asyncio.timeout turns only that one into TimeoutError on 3.11), carrying the report
    exc = asyncio.CancelledError(CANCELLED_MESSAGE)
    vars(exc)["report"] = report
    return exc


@contextlib.asynccontextmanager
async def open_client(target: Target, opts: RunOptions, pace: Pace) -> AsyncIterator[AsyncStoreClient]:
    """``engine.open_client`` on the async client (``ConnectionType.async_client``)."""
    from app_connections.aio import OffloadedCredential, is_async_credential

    from .. import store as store_module

    options = engine.client_options(target, opts, pace)
    credential = opts.token_credential
    if credential is not None and not is_async_credential(credential):
        credential = OffloadedCredential(credential)
    creds = target.credentials
    client: AsyncStoreClient
    if creds is None:
        assert credential is not None, "resolve() loads the connection unless a token credential was given"
        client = store_module.make_async_client(target.store, credential, **options)
    else:
        ctype = engine.connection_type(opts)
        made = ctype.async_client(creds, target.store, credential=credential, env=opts.env, **options)
        client = cast("AsyncStoreClient", made)  # the type's async client: the SDK's aio client
    async with client:
        yield client


async def _list(client: AsyncStoreClient, target: Target, run: engine._Run) -> list[Entry]:
    from ..http.deadlines import operation_deadline

    with operation_deadline(run.left()):  # no request of the listing outlives the run's deadline
        return await list_pages(
            async_sender(client), target.config.scope, target.store.url, run.pace.deadline, run.bounds, run.pace.status
        )


async def _start(
    connection: ConnectionInput, destination: DestinationInput, opts: RunOptions
) -> tuple[engine._Run, Target]:
    from . import warm_up

    await warm_up()
    return engine._Run(opts), engine.resolve(connection, destination, opts)


async def run_push(
    connection: ConnectionInput,
    destination: DestinationInput,
    secrets: Secrets,
    opts: RunOptions,
    *,
    apply: bool,
    initial: bool = False,
) -> SyncReport:
    """``engine.run_push`` as a coroutine."""
    run, target = await _start(connection, destination, opts)
    desired = desired_entries(secrets, target.config)
    scope = target.config.scope
    async with open_client(target, opts, run.pace) as client:
        try:
            listed = await _list(client, target, run)
        except ListFailed as exc:
            keys = [(e.key, e.label, e.name) for e in desired] or [(scope.key_filter or "*", scope.label, None)]
            return engine._list_failed("push" if apply else "plan", keys, exc, run.requests)
        planned = engine.planned_push(
            target, desired, listed, opts, apply=apply, initial=initial, requests=run.requests
        )
        if isinstance(planned, SyncReport):
            return planned
        plan, held = planned
        outcomes = await _execute(client, plan, plan.writes, plan.deletes, opts, run, "push", held=held)
        return engine._report("push", plan, run.requests, outcomes)


async def run_import(connection: ConnectionInput, destination: DestinationInput, opts: RunOptions) -> SyncReport:
    """``engine.run_import`` as a coroutine."""
    run, target = await _start(connection, destination, opts)
    scope = target.config.scope
    async with open_client(target, opts, run.pace) as client:
        try:
            listed = await _list(client, target, run)
        except ListFailed as exc:
            return engine._list_failed("import", [(scope.key_filter or "*", scope.label, None)], exc, run.requests)
        return engine._report("import", plan_import(listed, scope), run.requests)


async def run_remove(
    connection: ConnectionInput, destination: DestinationInput, names: Iterable[str], opts: RunOptions
) -> SyncReport:
    """``engine.run_remove`` as a coroutine."""
    from ..errors import FieldError, InvalidInput
    from ..sync.scope import secret_name_problem

    run, target = await _start(connection, destination, opts)
    names = list(names.keys() if isinstance(names, Mapping) else names)
    errors = [FieldError(f"names[{n!r}]", p) for n in names if (p := secret_name_problem(n))]
    if errors:
        raise InvalidInput(errors=errors)
    scope = target.config.scope
    async with open_client(target, opts, run.pace) as client:
        try:
            listed = await _list(client, target, run)
        except ListFailed as exc:
            return engine._list_failed("remove", [(scope.key_for(n), scope.label, n) for n in names], exc, run.requests)
        plan = plan_remove(names, listed, scope)
        outcomes = await _execute(client, plan, [], plan.deletes, opts, run, "remove")
        return engine._report("remove", plan, run.requests, outcomes)


async def _execute(
    client: AsyncStoreClient,
    plan: Plan,
    writes: list[Step],
    deletes: list[Step],
    opts: RunOptions,
    run: engine._Run,
    operation: str,
    *,
    held: int = 0,
) -> dict[int, Outcome]:
    executor = AsyncExecutor(client, run.pace, progress=opts.progress)
    try:
        return await executor.arun(writes, deletes, held=held)
    except ExecutionCancelled as cancelled:
        raise _cancelled(engine._report(operation, plan, run.requests, cancelled.outcomes)) from None
