"""I/O at the edges: check the endpoint, get a credential, open ONE client, list the scope once,
plan, apply. The destination's operations (``destination.py``) call these.

Order of checks: the destination and the secrets are parsed and the endpoint is checked against the
connection's cloud and the allow-list before any token is requested or any request is sent.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

import attrs

from app_connections.records import Credentials
from app_connections.text import clean

from ..errors import FieldError, InvalidInput
from .apply import (
    DEFAULT_CONCURRENCY,
    DEFAULT_MAX_WAIT,
    DEFAULT_TIMEOUT,
    Executor,
    Progress,
    RequestCounter,
    StatusLine,
    counting_policy,
)
from .config import DestinationConfig, parse_destination
from .entries import Entry, desired_entries
from .plan import OVERWRITE, Plan, Step, deletion_guard, plan_import, plan_push, plan_remove
from .report import Action, Status, SyncReport, TooManyDeletes
from .scope import Scope, encode_query, secret_name_problem

LIST_FIELDS = ["key", "label", "value", "content_type", "tags", "etag", "locked"]
MAX_PAGES = 2_000
"""Pages one run lists at most: 200,000 entries at the service's 100 per page; more means a scope
beyond what one sync run handles, or a store answering in a loop."""
MAX_LIST_BYTES = 256 * 1024 * 1024
"""Bytes of list answers one run reads at most (entries are at most 10 KB each)."""


@attrs.frozen
class RunOptions:
    token_credential: Any = None
    """An azure-core TokenCredential to use instead of one built from the connection."""
    client_options: Mapping[str, Any] = attrs.field(factory=dict)
    """Extra client keywords (e.g. ``connection_verify`` for a private CA)."""
    env: Mapping[str, str] | None = None
    concurrency: int = DEFAULT_CONCURRENCY
    max_wait: float = DEFAULT_MAX_WAIT
    timeout: float = DEFAULT_TIMEOUT
    progress: Progress | None = None
    status: StatusLine | None = None
    """Called with a one-line status for an operator: listing progress, throttled waits (with their unit)."""
    on_rotate: Any = None
    settings: Any = None
    connection_type: Any = None
    max_deletes: int | None = None
    """The deletion guard: at most this many deletes in one push (None: the default rule, see
    ``plan.deletion_guard``)."""
    list_max_pages: int = MAX_PAGES
    """At most this many list pages in one run."""
    list_max_bytes: int = MAX_LIST_BYTES
    """At most this many bytes of list answers in one run."""


COUNTS = {"max_deletes": 0, "list_max_pages": 1, "list_max_bytes": 1}
"""The options that are counts, with their least value (``max_deletes`` may also be None)."""


def run_options(options: Mapping[str, Any]) -> RunOptions:
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


def load_connection(connection: Any, ctype: Any) -> Credentials:
    if isinstance(connection, Mapping):
        method = connection.get("method")
        if isinstance(method, str) and method in ctype.methods:
            return ctype.load(connection)  # type: ignore[no-any-return]  # a registry's type is duck-typed (Any)
        raise InvalidInput(
            errors=[FieldError("connection.method", f"must be one of: {', '.join(sorted(ctype.methods))}")]
        )
    if hasattr(connection, "method") and hasattr(connection, "to_dict"):
        return connection  # type: ignore[no-any-return]  # a credentials record, recognised by its shape
    raise InvalidInput(
        errors=[FieldError("connection", "must be the stored connection (a mapping) or its credentials")]
    )


@attrs.frozen
class Target:
    config: DestinationConfig
    store: Any
    credentials: Credentials | None


def resolve(connection: Any, destination: Any, opts: RunOptions) -> Target:
    """Parse everything and check the endpoint against the connection's cloud: no I/O, no token."""
    from ..clouds import get_cloud
    from ..endpoints import parse_endpoint

    config = parse_destination(destination, env=opts.env)
    ctype = connection_type(opts)
    credentials = None
    if connection is not None or opts.token_credential is None:
        credentials = load_connection(connection, ctype)
    cloud = get_cloud(getattr(credentials, "cloud", None))
    store = parse_endpoint(config.endpoint, cloud=cloud, env=opts.env)
    return Target(config, store, credentials)


def connection_type(opts: RunOptions) -> Any:
    """The connection type the run goes through: the registry's (``opts.connection_type``), else ours."""
    if opts.connection_type is not None:
        return opts.connection_type
    from ..connection import policy_bound_type

    return policy_bound_type(opts.env)  # the policy in effect, reading the run's env when given


@contextlib.contextmanager
def open_client(target: Target, opts: RunOptions) -> Iterator[tuple[Any, RequestCounter]]:
    """One client per run (its Sync-Token policy echoes the store's tokens), on a connection pool as
    large as the concurrency, through the package's one HTTP policy (``store.make_client``): host
    pinning, a deadline over each whole answer, the response size cap, capped waits.

    Every auth method goes through ``ConnectionType.client`` (issue #12): token methods get a token
    credential, ``access-key`` signs each request (HMAC-SHA256). An explicit ``token_credential``
    option is used as given. The endpoint was checked (``resolve``) before this opens anything.
    Each call passes ``retry_total=0``: the sync's executor owns retrying; a per-retry policy counts
    the requests sent."""
    from .. import store as store_module
    from ..http_policy import current_limits

    counter = RequestCounter()
    options: dict[str, Any] = dict(opts.client_options)
    # the limits in force when the run starts hold for the whole run (read once, not per request)
    options.setdefault("limits", current_limits())
    options.update(pool_maxsize=max(1, opts.concurrency), per_retry_policies=[counting_policy(counter)])
    creds = target.credentials
    if creds is None:
        client = store_module.make_client(target.store, opts.token_credential, **options)
    else:
        ctype = connection_type(opts)
        signs = callable(getattr(ctype.method(creds.method), "request_credential", None))
        if opts.token_credential is None and not signs:  # options of the method's token credential
            if opts.on_rotate is not None:
                options["on_rotate"] = opts.on_rotate
            if creds.method == "oauth" and opts.settings is not None:
                options["settings"] = opts.settings
        client = ctype.client(creds, target.store, credential=opts.token_credential, env=opts.env, **options)
    with client:
        yield client, counter


class ListFailed(Exception):
    """Listing the scope did not complete; nothing was planned or changed. ``code`` is the HTTP
    policy's refusal code when the policy (or the same rule here) stopped it."""

    def __init__(self, message: str, code: str | None = None) -> None:
        super().__init__(message)
        self.code = code


KVSET_ACCEPT = "application/vnd.microsoft.appconfig.kvset+json, application/problem+json"


def _next_request(link: str, store_url: str) -> Any:
    """The next page's request, the link followed as given (its query is already encoded: never decoded
    and re-encoded); it must stay on the store (same scheme, host and port) and path ``/kv``."""
    from urllib.parse import parse_qsl, urlsplit

    from azure.core.rest import HttpRequest

    from ..store import API_VERSION

    parts, store = urlsplit(link), urlsplit(store_url)
    if (parts.scheme or parts.netloc) and (parts.scheme.lower(), parts.netloc.lower()) != (
        store.scheme,
        store.netloc.lower(),
    ):
        raise ListFailed(
            f"the store sent a next-page link to another host ({clean(parts.netloc, 100)}); not followed",
            "foreign_host",
        )
    if parts.path != "/kv":
        raise ListFailed(f"the store sent a next-page link outside /kv ({clean(parts.path, 100)}); not followed")
    query = parts.query
    if not any(name == "api-version" for name, _ in parse_qsl(query, keep_blank_values=True)):
        query = "&".join(p for p in (query, encode_query({"api-version": API_VERSION})) if p)
    # azure-core formats a URL as a template: braces (never valid raw in a URL) are sent encoded
    query = query.replace("{", "%7B").replace("}", "%7D")
    return HttpRequest("GET", f"/kv?{query}", headers={"Accept": KVSET_ACCEPT})


def _link_next(response: Any, body: Mapping[str, Any]) -> str | None:
    link = body.get("@nextLink")
    if isinstance(link, str) and link:
        return link
    header = response.headers.get("Link") or ""
    if 'rel="next"' in header and "<" in header and ">" in header:
        return header[header.index("<") + 1 : header.index(">")]
    return None


def _get_page(client: Any, request: Any, budget: list[float], sleep: Any, on_status: StatusLine | None = None) -> Any:
    """One page, retried like a write: 429 waits for retry-after (each wait capped, all waits within
    ``budget``), 5xx/408/connection errors back off with jitter; never the SDK's unbounded waits."""
    import random

    from azure.core.exceptions import AzureError

    from ..http_policy import HttpPolicyError
    from .apply import (
        BACKOFF_BASE,
        BACKOFF_MAX,
        DEFAULT_RETRY_AFTER,
        MAX_SINGLE_WAIT,
        THROTTLE_ATTEMPTS,
        TRANSIENT_ATTEMPTS,
        _error_text,
        _short,
        refusal,
        retry_after_seconds,
        throttled_text,
        undecoded_answer,
    )

    transient = throttled = 0
    while True:
        try:
            response = client.send_request(request, retry_total=0)
        except (AzureError, HttpPolicyError) as exc:
            found = refusal(exc)
            if found is not None:  # the one HTTP policy refused: never retried
                raise ListFailed(f"{found.code}: {found}", found.code) from None
            response = undecoded_answer(exc)  # a 200 whose body is not JSON: a malformed answer, below
            if response is None:
                transient += 1
                if transient >= TRANSIENT_ATTEMPTS:
                    raise ListFailed(_short(f"{type(exc).__name__}: {exc}")) from None
                sleep(min(BACKOFF_MAX, BACKOFF_BASE * 2 ** (transient - 1)) * random.uniform(0.5, 1.5))
                continue
        status = response.status_code
        if status == 200:
            return response
        if status == 429:
            throttled += 1
            wait = min(MAX_SINGLE_WAIT, retry_after_seconds(response.headers) or DEFAULT_RETRY_AFTER)
            if throttled >= THROTTLE_ATTEMPTS or wait > budget[0]:
                raise ListFailed(f"429: throttled {throttled} time(s); gave up (waits are capped)")
            budget[0] -= wait
            if on_status is not None:
                on_status(throttled_text(wait))
            sleep(wait)
            continue
        if status >= 500 or status == 408:
            transient += 1
            if transient >= TRANSIENT_ATTEMPTS:
                raise ListFailed(f"{status}: {_error_text(response) or 'server error'} after {transient} attempts")
            sleep(min(BACKOFF_MAX, BACKOFF_BASE * 2 ** (transient - 1)) * random.uniform(0.5, 1.5))
            continue
        raise ListFailed(f"{status}: {_error_text(response) or 'listing refused'}")


@attrs.frozen
class ListBounds:
    """What one run's listing may read: pages and bytes of answers (declared, injectable)."""

    pages: int = MAX_PAGES
    bytes: int = MAX_LIST_BYTES


def list_scope(
    client: Any,
    scope: Scope,
    store_url: str,
    *,
    budget: list[float] | None = None,
    deadline: float | None = None,
    sleep: Any = None,
    bounds: ListBounds | None = None,
    status: StatusLine | None = None,
) -> list[Entry]:
    """List the scope once, every page: its label only (``\\0`` for the null label, never all labels),
    its key prefix only, reserved characters escaped, every query value encoded once; next-page
    links are followed as given and must stay on the store. Only entries that fit the scope are
    kept, and the pages and bytes read are bounded (``bounds``). Throttling and transient errors are
    retried with bounded waits (``_get_page``), drawn from the run's ``budget`` (seconds, shared with
    the writes); no page is requested after ``deadline``."""
    import time

    from ..http_policy import operation_deadline

    bound = operation_deadline(deadline - time.monotonic()) if deadline is not None else contextlib.nullcontext()
    with bound:  # the policy's deadline model: no request of the listing outlives the run's deadline
        return _list_pages(
            client,
            scope,
            store_url,
            budget if budget is not None else [DEFAULT_MAX_WAIT],
            deadline,
            sleep or time.sleep,
            bounds or ListBounds(),
            status,
        )


LIST_TOO_LARGE = "listing_too_large"


def _list_pages(
    client: Any,
    scope: Scope,
    store_url: str,
    budget: list[float],
    deadline: float | None,
    sleep: Any,
    bounds: ListBounds,
    status: StatusLine | None = None,
) -> list[Entry]:
    import time

    from azure.core.rest import HttpRequest

    from ..store import API_VERSION

    params = {} if scope.key_filter is None else {"key": scope.key_filter}
    params.update({"label": scope.label_filter, "$select": ",".join(LIST_FIELDS), "api-version": API_VERSION})
    request = HttpRequest("GET", f"/kv?{encode_query(params)}", headers={"Accept": KVSET_ACCEPT})
    out: list[Entry] = []
    seen: set[str] = set()
    read = 0
    for page in range(1, bounds.pages + 1):
        if deadline is not None and time.monotonic() >= deadline:
            raise ListFailed("the run's deadline passed while listing", "deadline_exceeded")
        response = _get_page(client, request, budget, sleep, status)
        read += len(response.content or b"")
        if read > bounds.bytes:
            raise ListFailed(
                f"the listing's answers passed {bounds.bytes} bytes (the run's bound); stopped",
                LIST_TOO_LARGE,
            )
        try:
            body = response.json()
            items = body.get("items") or []
            if not isinstance(items, list):
                raise ValueError("items is not a list")
        except (ValueError, AttributeError, RecursionError):
            raise ListFailed(
                "malformed_answer: the store's answer is not a key-value list", "malformed_answer"
            ) from None
        for item in items:
            if not isinstance(item, dict) or not isinstance(item.get("key"), str):
                continue
            key, label, tags = item["key"], item.get("label"), item.get("tags") or {}
            if not (label is None or isinstance(label, str)) or not scope.fits(key, label):
                continue  # another label or key (a store ignoring the filters): never kept
            out.append(
                Entry(
                    key,
                    label or None,
                    item.get("value"),
                    item.get("content_type"),
                    tags if isinstance(tags, dict) else {},
                    item.get("etag"),
                    bool(item.get("locked")),
                    scope.name_for(key),
                )
            )
        if status is not None:
            status(f"listing the scope: {len(out)} entries, {page} page{'' if page == 1 else 's'}")
        link = _link_next(response, body)
        if not link:
            return out
        if link in seen:
            raise ListFailed("the store sent the same next-page link twice; not followed")
        seen.add(link)
        request = _next_request(link, store_url)
    raise ListFailed(f"more than {bounds.pages} list pages (the run's bound); stopped", LIST_TOO_LARGE)


def _list_failed(
    operation: str, keys: list[tuple[str, str | None, str | None]], failed: ListFailed, requests: int
) -> SyncReport:
    from .report import Action, Change

    detail = f"not attempted: listing the scope failed ({failed}); nothing was changed"
    changes = tuple(Change(k, label, Action.NONE, Status.FAILED, detail, name, failed.code) for k, label, name in keys)
    return SyncReport(operation, changes, requests)


def _report(operation: str, plan: Plan, requests: int, outcomes: Mapping[int, Any] | None = None) -> SyncReport:
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
    """One run's shared bounds: the deadline and the budget of throttling waits (list and writes)."""

    def __init__(self, opts: RunOptions) -> None:
        import time

        self.deadline = time.monotonic() + opts.timeout
        self.budget = [opts.max_wait]
        self.bounds = ListBounds(opts.list_max_pages, opts.list_max_bytes)
        self.status = opts.status

    def list(self, client: Any, scope: Scope, store_url: str) -> list[Entry]:
        """The scope's listing within this run's deadline, waits and bounds."""
        return list_scope(
            client, scope, store_url, budget=self.budget, deadline=self.deadline, bounds=self.bounds, status=self.status
        )

    def left(self) -> float:
        import time

        return max(0.0, self.deadline - time.monotonic())


def run_push(
    connection: Any, destination: Any, secrets: Any, opts: RunOptions, *, apply: bool, initial: bool = False
) -> SyncReport:
    run = _Run(opts)
    target = resolve(connection, destination, opts)
    desired = desired_entries(secrets, target.config)
    scope = target.config.scope
    with open_client(target, opts) as (client, counter):
        try:
            listed = run.list(client, scope, target.store.url)
        except ListFailed as exc:
            keys = [(e.key, e.label, e.name) for e in desired] or [(scope.key_filter or "*", scope.label, None)]
            return _list_failed("push" if apply else "plan", keys, exc, counter.count)
        plan = plan_push(
            desired, listed, scope, delete_missing=target.config.delete_missing, mode=_push_mode(target.config, initial)
        )
        guard = deletion_guard(plan, len(desired), opts.max_deletes)
        if not apply:
            return _report("plan", _guarded(plan, guard, len(plan.deletes)) if guard else plan, counter.count)
        if guard:
            raise TooManyDeletes(guard, _report("plan", plan, counter.count), len(plan.deletes))
        held = [s for s in plan.steps if s.change.status == Status.LOCKED and s.change.action != Action.DELETE]
        outcomes = _execute(client, plan.writes, plan.deletes, opts, run, held=len(held))
        return _report("push", plan, counter.count, outcomes)


def _guarded(plan: Plan, why: str, count: int) -> Plan:
    """The plan with each delete saying that push refuses it without ``max_deletes``."""
    note = f"push refuses this: {why}; allow it with max_deletes={count} (CLI: --max-deletes {count})"
    deletes = {id(s) for s in plan.deletes}
    steps = tuple(
        attrs.evolve(s, change=attrs.evolve(s.change, detail=f"{s.change.detail}; {note}")) if id(s) in deletes else s
        for s in plan.steps
    )
    return attrs.evolve(plan, steps=steps)


def run_import(connection: Any, destination: Any, opts: RunOptions) -> SyncReport:
    run = _Run(opts)
    target = resolve(connection, destination, opts)
    scope = target.config.scope
    with open_client(target, opts) as (client, counter):
        try:
            listed = run.list(client, scope, target.store.url)
        except ListFailed as exc:
            return _list_failed("import", [(scope.key_filter or "*", scope.label, None)], exc, counter.count)
        return _report("import", plan_import(listed, scope), counter.count)


def run_remove(connection: Any, destination: Any, names: Iterable[str], opts: RunOptions) -> SyncReport:
    run = _Run(opts)
    target = resolve(connection, destination, opts)
    names = list(names.keys() if isinstance(names, Mapping) else names)
    errors = [FieldError(f"names[{n!r}]", p) for n in names if (p := secret_name_problem(n))]
    if errors:
        raise InvalidInput(errors=errors)
    scope = target.config.scope
    with open_client(target, opts) as (client, counter):
        try:
            listed = run.list(client, scope, target.store.url)
        except ListFailed as exc:
            return _list_failed("remove", [(scope.key_for(n), scope.label, n) for n in names], exc, counter.count)
        plan = plan_remove(names, listed, scope)
        outcomes = _execute(client, [], plan.deletes, opts, run)
        return _report("remove", plan, counter.count, outcomes)


def _execute(
    client: Any, writes: list[Step], deletes: list[Step], opts: RunOptions, run: _Run, *, held: int = 0
) -> dict[int, Any]:
    executor = Executor(
        client,
        concurrency=opts.concurrency,
        max_wait=run.budget[0],
        timeout=run.left(),
        progress=opts.progress,
        status=opts.status,
    )
    return executor.run(writes, deletes, held=held)
