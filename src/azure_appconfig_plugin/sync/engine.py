"""I/O at the edges: check the endpoint, get a credential, open ONE client, list the scope once,
plan, apply. The destination's operations (``destination.py``) call these.

Order of checks: the destination and the secrets are parsed and the endpoint is checked against the
connection's cloud and the allow-list before any token is requested or any request is sent.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Iterator, Mapping
from typing import TYPE_CHECKING, Any, TypeAlias, TypedDict, cast

import attrs

from app_connections.records import Credentials

from ..errors import FieldError, InvalidInput
from ..http.pace import DEFAULT_CONCURRENCY, DEFAULT_MAX_WAIT, Pace, StatusLine
from .apply import Executor, Outcome, Progress
from .config import DestinationConfig, DestinationInput, parse_destination
from .entries import Entry, Secrets, desired_entries
from .listing import MAX_LIST_BYTES, MAX_PAGES, ListBounds, ListFailed, list_scope
from .plan import OVERWRITE, Plan, Step, deletion_guard, plan_import, plan_push, plan_remove
from .report import Action, Status, SyncReport, TooManyDeletes
from .scope import Scope, secret_name_problem
from .wire import StoreClient

if TYPE_CHECKING:
    from app_connections.aio import AsyncTokenCredential
    from app_connections.jsontypes import JSONInput
    from app_connections.records import ConnectionType, RotateCallback, TokenCredential

    from ..endpoints import StoreEndpoint
    from ..settings import InstanceSettings

DEFAULT_TIMEOUT = 900.0
"""A run's deadline by default, in seconds."""

ConnectionInput: TypeAlias = "JSONInput | Credentials | None"
"""The stored connection (``credentials.to_dict()``), its credentials record, or None with a ``token_credential``."""


@attrs.frozen
class RunOptions:
    """One run's options (the operations' keywords, checked by ``run_options``)."""

    token_credential: TokenCredential | AsyncTokenCredential | None = None
    """An azure-core TokenCredential to use instead of one built from the connection."""
    client_options: Mapping[str, object] = attrs.field(factory=dict)
    """Extra client keywords (e.g. ``connection_verify`` for a private CA)."""
    env: Mapping[str, str] | None = None
    concurrency: int = DEFAULT_CONCURRENCY
    max_wait: float = DEFAULT_MAX_WAIT
    timeout: float = DEFAULT_TIMEOUT
    """Seconds the whole run may take (its deadline)."""
    progress: Progress | None = None
    status: StatusLine | None = None
    """Called with a one-line status for an operator: listing progress, throttled waits (with their unit)."""
    on_rotate: RotateCallback | None = None
    settings: InstanceSettings | None = None
    connection_type: ConnectionType | None = None
    max_deletes: int | None = None
    """The deletion guard: at most this many deletes in one push (None: the default rule, see
    ``plan.deletion_guard``)."""
    list_max_pages: int = MAX_PAGES
    """At most this many list pages in one run."""
    list_max_bytes: int = MAX_LIST_BYTES
    """At most this many bytes of list answers in one run."""


class SyncOptions(TypedDict, total=False):
    """The operations' keywords as a caller passes them: ``RunOptions``' fields, each optional."""

    token_credential: TokenCredential | AsyncTokenCredential | None
    client_options: Mapping[str, object]
    env: Mapping[str, str] | None
    concurrency: int
    max_wait: float
    timeout: float
    progress: Progress | None
    status: StatusLine | None
    on_rotate: RotateCallback | None
    settings: InstanceSettings | None
    connection_type: ConnectionType | None
    max_deletes: int | None
    list_max_pages: int
    list_max_bytes: int


COUNTS = {"max_deletes": 0, "list_max_pages": 1, "list_max_bytes": 1}
"""The options that are counts, with their least value (``max_deletes`` may also be None)."""


def run_options(options: SyncOptions) -> RunOptions:
    """``RunOptions`` from an operation's keywords; an unknown keyword or a bad count is bad input, named."""
    known = {a.name for a in attrs.fields(RunOptions)}
    unknown = sorted(set(options) - known)
    errors = [FieldError(name, f"is not an option; known: {', '.join(sorted(known))}") for name in unknown]
    for name, least in COUNTS.items():
        value = options.get(name, least)
        if not (value is None and name == "max_deletes") and (
            isinstance(value, bool) or not isinstance(value, int) or value < least
        ):
            errors.append(FieldError(name, f"must be a whole number, {least} or more"))
    if errors:
        raise InvalidInput(errors=errors)
    return RunOptions(**options)


def load_connection(connection: object, ctype: ConnectionType) -> Credentials:
    """The credentials record of ``connection`` (a stored mapping, or a record as is); ``InvalidInput`` else."""
    if isinstance(connection, Mapping):
        method = connection.get("method")
        if isinstance(method, str) and method in ctype.methods:
            return ctype.load(connection)
        raise InvalidInput(
            errors=[FieldError("connection.method", f"must be one of: {', '.join(sorted(ctype.methods))}")]
        )
    if isinstance(connection, Credentials):  # the kit's protocol: a method name and to_dict()
        return connection
    raise InvalidInput(
        errors=[FieldError("connection", "must be the stored connection (a mapping) or its credentials")]
    )


@attrs.frozen
class Target:
    """A run's parsed destination, its checked store endpoint and the connection's credentials."""

    config: DestinationConfig
    store: StoreEndpoint
    credentials: Credentials | None


def resolve(connection: ConnectionInput, destination: DestinationInput, opts: RunOptions) -> Target:
    """Parse everything and check the endpoint against the connection's cloud: no I/O, no token."""
    from ..clouds import get_cloud
    from ..endpoints import parse_endpoint

    config = parse_destination(destination, env=opts.env)
    ctype = connection_type(opts)
    credentials = None
    if connection is not None or opts.token_credential is None:
        credentials = load_connection(connection, ctype)
    cloud = get_cloud(None if credentials is None else ctype.method(credentials.method).cloud_of(credentials))
    store = parse_endpoint(config.endpoint, cloud=cloud, env=opts.env)
    return Target(config, store, credentials)


def connection_type(opts: RunOptions) -> ConnectionType:
    """The connection type the run goes through: the registry's (``opts.connection_type``), else ours."""
    if opts.connection_type is not None:
        return opts.connection_type
    from ..connection import policy_bound_type

    return policy_bound_type(opts.env)  # the policy in effect, reading the run's env when given


@contextlib.contextmanager
def open_client(target: Target, opts: RunOptions, pace: Pace) -> Iterator[StoreClient]:
    """One client per run (its Sync-Token policy echoes the store's tokens), on a connection pool as
    large as the concurrency, through the package's one HTTP policy (``store.make_client``): host
    pinning, a deadline over each whole answer, the response size cap, capped retries and waits,
    every attempt paced by the run's ``pace`` (adaptive concurrency, the run's wait budget).

    Every auth method goes through ``ConnectionType.client``: token methods get a token
    credential, ``access-key`` signs each request (HMAC-SHA256). An explicit ``token_credential``
    option is used as given. The endpoint was checked (``resolve``) before this opens anything."""
    from .. import store as store_module

    options = client_options(target, opts, pace)
    creds = target.credentials
    from ..clients import sync_token_credential

    credential = sync_token_credential(opts.token_credential, async_calls="aplan, apush, aimport_secrets, aremove")
    client: StoreClient
    if creds is None:
        assert credential is not None, "resolve() loads the connection unless a token credential was given"
        client = store_module.make_client(target.store, credential, **options)
    else:
        ctype = connection_type(opts)
        made = ctype.client(creds, target.store, credential=credential, env=opts.env, **options)
        client = cast("StoreClient", made)  # the type's client_factory: the SDK's client (``store_client``)
    with client:
        yield client


def client_options(target: Target, opts: RunOptions, pace: Pace) -> dict[str, Any]:
    """The run's client keywords (``open_client``'s, and the async sync's), paced by ``pace``."""
    from ..http.limits import current_limits

    options: dict[str, Any] = dict(opts.client_options)  # the SDK's keywords, untyped there
    # the limits in force when the run starts hold for the whole run (read once, not per request)
    options.setdefault("limits", current_limits())
    options.update(pool_maxsize=pace.concurrency, pace=pace)
    creds = target.credentials
    if creds is not None:
        signs = connection_type(opts).method(creds.method).request_credential(creds) is not None
        if opts.token_credential is None and not signs:  # options of the method's token credential
            if opts.on_rotate is not None:
                options["on_rotate"] = opts.on_rotate
            if creds.method == "oauth" and opts.settings is not None:
                options["settings"] = opts.settings
    return options


def _list_failed(
    operation: str, keys: list[tuple[str, str | None, str | None]], failed: ListFailed, requests: int
) -> SyncReport:
    from .report import Action, Change

    detail = f"not attempted: listing the scope failed ({failed}); nothing was changed"
    changes = tuple(Change(k, label, Action.NONE, Status.FAILED, detail, name, failed.code) for k, label, name in keys)
    return SyncReport(operation, changes, requests)


def _report(operation: str, plan: Plan, requests: int, outcomes: Mapping[int, Outcome] | None = None) -> SyncReport:
    changes = []
    for step in plan.steps:
        change = step.change
        outcome = (outcomes or {}).get(id(step))
        if outcome is not None:
            detail = (
                f"{outcome.detail} ({change.detail})"
                if outcome.status == Status.APPLIED and change.detail
                else outcome.detail
            )
            change = attrs.evolve(change, status=outcome.status, detail=detail, code=outcome.code)
        elif operation != "plan" and change.status == Status.PLANNED:
            change = attrs.evolve(change, status=Status.IMPORTED)  # an import step of a push: nothing to send
        changes.append(change)
    return SyncReport(operation, tuple(changes), requests, dict(plan.imported), plan.references)


def _push_mode(config: DestinationConfig, initial: bool) -> str:
    return config.initial_sync if initial else OVERWRITE


class _Run:
    """One run's shared bounds: the deadline, the pace of its requests (adaptive concurrency and the
    budget of throttling waits, for the listing and the writes) and the listing's bounds."""

    def __init__(self, opts: RunOptions) -> None:
        import time

        deadline = time.monotonic() + opts.timeout
        self.pace = Pace(opts.concurrency, deadline=deadline, max_wait=opts.max_wait, status=opts.status)
        self.bounds = ListBounds(opts.list_max_pages, opts.list_max_bytes)

    @property
    def requests(self) -> int:
        """The requests sent so far (each retry too)."""
        return self.pace.requests

    def list(self, client: StoreClient, scope: Scope, store_url: str) -> list[Entry]:
        """The scope's listing within this run's deadline, pace and bounds."""
        pace = self.pace
        return list_scope(client, scope, store_url, deadline=pace.deadline, bounds=self.bounds, status=pace.status)

    def left(self) -> float:
        """Seconds left before the run's deadline (0 once it passed)."""
        import time

        return max(0.0, self.pace.deadline - time.monotonic())


def run_push(
    connection: ConnectionInput,
    destination: DestinationInput,
    secrets: Secrets,
    opts: RunOptions,
    *,
    apply: bool,
    initial: bool = False,
) -> SyncReport:
    """Plan a push and, with ``apply``, run it: the report of ``push`` (or of ``plan``)."""
    run = _Run(opts)
    target = resolve(connection, destination, opts)
    desired = desired_entries(secrets, target.config)
    scope = target.config.scope
    with open_client(target, opts, run.pace) as client:
        try:
            listed = run.list(client, scope, target.store.url)
        except ListFailed as exc:
            keys = [(e.key, e.label, e.name) for e in desired] or [(scope.key_filter or "*", scope.label, None)]
            return _list_failed("push" if apply else "plan", keys, exc, run.requests)
        planned = planned_push(target, desired, listed, opts, apply=apply, initial=initial, requests=run.requests)
        if isinstance(planned, SyncReport):
            return planned
        plan, held = planned
        outcomes = _execute(client, plan.writes, plan.deletes, opts, run, held=held)
        return _report("push", plan, run.requests, outcomes)


def planned_push(
    target: Target,
    desired: list[Entry],
    listed: list[Entry],
    opts: RunOptions,
    *,
    apply: bool,
    initial: bool,
    requests: int,
) -> SyncReport | tuple[Plan, int]:
    """A push's plan and how many writes it holds back (a locked entry); for ``plan`` (``apply=False``)
    its report. ``TooManyDeletes`` when the deletion guard refuses the push (before any write)."""
    plan = plan_push(
        desired,
        listed,
        target.config.scope,
        delete_missing=target.config.delete_missing,
        mode=_push_mode(target.config, initial),
    )
    guard = deletion_guard(plan, len(desired), opts.max_deletes)
    if not apply:
        return _report("plan", _guarded(plan, guard, len(plan.deletes)) if guard else plan, requests)
    if guard:
        raise TooManyDeletes(guard, _report("plan", plan, requests), len(plan.deletes))
    held = [s for s in plan.steps if s.change.status == Status.LOCKED and s.change.action != Action.DELETE]
    return plan, len(held)


def _guarded(plan: Plan, why: str, count: int) -> Plan:
    """The plan with each delete saying that push refuses it without ``max_deletes``."""
    note = f"push refuses this: {why}; allow it with max_deletes={count} (CLI: --max-deletes {count})"
    deletes = {id(s) for s in plan.deletes}
    steps = tuple(
        attrs.evolve(s, change=attrs.evolve(s.change, detail=f"{s.change.detail}; {note}")) if id(s) in deletes else s
        for s in plan.steps
    )
    return attrs.evolve(plan, steps=steps)


def run_import(connection: ConnectionInput, destination: DestinationInput, opts: RunOptions) -> SyncReport:
    """List the scope and read its secrets into the report's ``imported``."""
    run = _Run(opts)
    target = resolve(connection, destination, opts)
    scope = target.config.scope
    with open_client(target, opts, run.pace) as client:
        try:
            listed = run.list(client, scope, target.store.url)
        except ListFailed as exc:
            return _list_failed("import", [(scope.key_filter or "*", scope.label, None)], exc, run.requests)
        return _report("import", plan_import(listed, scope), run.requests)


def run_remove(
    connection: ConnectionInput, destination: DestinationInput, names: Iterable[str], opts: RunOptions
) -> SyncReport:
    """Delete the entries ``names`` map to inside the scope."""
    run = _Run(opts)
    target = resolve(connection, destination, opts)
    names = list(names.keys() if isinstance(names, Mapping) else names)
    errors = [FieldError(f"names[{n!r}]", p) for n in names if (p := secret_name_problem(n))]
    if errors:
        raise InvalidInput(errors=errors)
    scope = target.config.scope
    with open_client(target, opts, run.pace) as client:
        try:
            listed = run.list(client, scope, target.store.url)
        except ListFailed as exc:
            return _list_failed("remove", [(scope.key_for(n), scope.label, n) for n in names], exc, run.requests)
        plan = plan_remove(names, listed, scope)
        outcomes = _execute(client, [], plan.deletes, opts, run)
        return _report("remove", plan, run.requests, outcomes)


def _execute(
    client: StoreClient, writes: list[Step], deletes: list[Step], opts: RunOptions, run: _Run, *, held: int = 0
) -> dict[int, Outcome]:
    return Executor(client, run.pace, progress=opts.progress).run(writes, deletes, held=held)
