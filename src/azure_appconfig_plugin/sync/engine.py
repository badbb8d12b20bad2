"""I/O at the edges: check the endpoint, get a credential, open ONE client, list the scope once,
plan, apply. The destination's operations (``destination.py``) call these.

Order of checks: the destination and the secrets are parsed and the endpoint is checked against the
connection's cloud and the allow-list before any token is requested or any request is sent.
"""

from __future__ import annotations

import contextlib
from typing import Any, Iterable, Iterator, Mapping

import attrs

from ..errors import FieldError, InvalidInput
from ..records import Credentials
from .apply import DEFAULT_CONCURRENCY, DEFAULT_MAX_WAIT, DEFAULT_TIMEOUT, Executor, Progress, RequestCounter, counting_policy
from .config import DestinationConfig, parse_destination
from .entries import Entry, desired_entries
from .plan import OVERWRITE, Plan, Step, plan_import, plan_push, plan_remove
from .report import Status, SyncReport
from .scope import Scope, secret_name_problem

LIST_FIELDS = ["key", "label", "value", "content_type", "tags", "etag", "locked"]


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
    on_rotate: Any = None
    settings: Any = None
    connection_type: Any = None


def load_connection(connection: Any, ctype: Any) -> Credentials:
    if isinstance(connection, Mapping):
        from ..schema import load_credentials

        method = connection.get("method")
        if method in ("oauth", "client-secret"):
            return load_credentials(connection)
        if isinstance(method, str) and method in ctype.methods:
            return ctype.method(method).parse({k: v for k, v in connection.items() if k != "method"})
        raise InvalidInput(errors=[FieldError("connection.method", f"must be one of: {', '.join(sorted(ctype.methods))}")])
    if hasattr(connection, "method") and hasattr(connection, "to_dict"):
        return connection  # type: ignore[no-any-return]
    raise InvalidInput(errors=[FieldError("connection", "must be the stored connection (a mapping) or its credentials")])


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
    ctype = opts.connection_type
    if ctype is None:
        from ..connection import build_connection_type

        ctype = build_connection_type()
    credentials = None
    if connection is not None or opts.token_credential is None:
        credentials = load_connection(connection, ctype)
    cloud = get_cloud(getattr(credentials, "cloud", None))
    store = parse_endpoint(config.endpoint, cloud=cloud, env=opts.env)
    return Target(config, store, credentials)


def token_credential(target: Target, opts: RunOptions) -> Any:
    if opts.token_credential is not None:
        return opts.token_credential
    ctype = opts.connection_type
    if ctype is None:
        from ..connection import build_connection_type

        ctype = build_connection_type()
    creds = target.credentials
    assert creds is not None
    extra = {"settings": opts.settings} if creds.method == "oauth" and opts.settings is not None else {}
    return ctype.method(creds.method).token_credential(creds, on_rotate=opts.on_rotate, **extra)


_TRANSPORT_OPTIONS = ("connection_verify", "connection_cert")


@contextlib.contextmanager
def open_client(target: Target, opts: RunOptions) -> Iterator[tuple[Any, RequestCounter]]:
    """One client per run (its Sync-Token policy echoes the store's tokens), created through
    ``store.make_client``, on a connection pool as large as the concurrency.

    The environment's proxy and CA-bundle settings (``HTTPS_PROXY``/``NO_PROXY``,
    ``REQUESTS_CA_BUNDLE``/``CURL_CA_BUNDLE``) are read once per run rather than on every request
    (requests' per-request environment and ``.netrc`` look-ups cost more CPU than the rest of a
    request's client-side work)."""
    import os

    import requests
    from azure.core.pipeline.transport import RequestsTransport
    from urllib3.util.retry import Retry

    from .. import store as store_module

    counter = RequestCounter()
    session = requests.Session()
    session.trust_env = False
    session.proxies.update(requests.utils.get_environ_proxies(target.store.url))
    adapter = requests.adapters.HTTPAdapter(pool_connections=1, pool_maxsize=max(1, opts.concurrency),
                                            max_retries=Retry(total=False, redirect=False, raise_on_status=False))
    session.mount("https://", adapter)
    client_options = dict(opts.client_options)
    transport_options = {k: client_options.pop(k) for k in _TRANSPORT_OPTIONS if k in client_options}
    bundle = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE")
    if bundle and "connection_verify" not in transport_options:
        transport_options["connection_verify"] = bundle
    transport = RequestsTransport(session=session, session_owner=True, use_env_settings=False,
                                  connection_timeout=10, read_timeout=30, **transport_options)
    client = store_module.make_client(target.store, token_credential(target, opts), transport=transport,
                                      per_retry_policies=[counting_policy(counter)], **client_options)
    with client:
        yield client, counter


def list_scope(client: Any, scope: Scope) -> list[Entry]:
    """List the scope once (every page): its label only, its key prefix only, escaped filters."""
    pager = client.list_configuration_settings(key_filter=scope.key_filter, label_filter=scope.label_filter,
                                               fields=LIST_FIELDS)
    out = []
    for s in pager:
        out.append(Entry(s.key, s.label or None, s.value, s.content_type, s.tags or {}, s.etag, bool(s.read_only),
                         scope.name_for(s.key)))
    return out


def _report(operation: str, plan: Plan, requests: int, outcomes: Mapping[int, Any] | None = None) -> SyncReport:
    changes = []
    for step in plan.steps:
        change = step.change
        outcome = (outcomes or {}).get(id(step))
        if outcome is not None:
            detail = f"{outcome.detail} ({change.detail})" if outcome.status == Status.APPLIED and change.detail else outcome.detail
            change = attrs.evolve(change, status=outcome.status, detail=detail)
        elif operation != "plan" and change.status == Status.PLANNED:
            change = attrs.evolve(change, status=Status.IMPORTED)  # an import step of a push: nothing to send
        changes.append(change)
    return SyncReport(operation, tuple(changes), requests, dict(plan.imported), plan.references)


def _push_mode(config: DestinationConfig, initial: bool) -> str:
    return config.initial_sync if initial else OVERWRITE


def run_push(connection: Any, destination: Any, secrets: Any, opts: RunOptions, *, apply: bool, initial: bool = False) -> SyncReport:
    target = resolve(connection, destination, opts)
    desired = desired_entries(secrets, target.config)
    scope = target.config.scope
    with open_client(target, opts) as (client, counter):
        listed = list_scope(client, scope)
        plan = plan_push(desired, listed, scope, delete_missing=target.config.delete_missing,
                         mode=_push_mode(target.config, initial))
        if not apply:
            return _report("plan", plan, counter.count)
        outcomes = _execute(client, plan.writes, plan.deletes, opts)
        return _report("push", plan, counter.count, outcomes)


def run_import(connection: Any, destination: Any, opts: RunOptions) -> SyncReport:
    target = resolve(connection, destination, opts)
    with open_client(target, opts) as (client, counter):
        plan = plan_import(list_scope(client, target.config.scope), target.config.scope)
        return _report("import", plan, counter.count)


def run_remove(connection: Any, destination: Any, names: Iterable[str], opts: RunOptions) -> SyncReport:
    target = resolve(connection, destination, opts)
    names = list(names.keys() if isinstance(names, Mapping) else names)
    errors = [FieldError(f"names[{n!r}]", p) for n in names if (p := secret_name_problem(n))]
    if errors:
        raise InvalidInput(errors=errors)
    scope = target.config.scope
    with open_client(target, opts) as (client, counter):
        plan = plan_remove(names, list_scope(client, scope), scope)
        outcomes = _execute(client, [], plan.deletes, opts)
        return _report("remove", plan, counter.count, outcomes)


def _execute(client: Any, writes: list[Step], deletes: list[Step], opts: RunOptions) -> dict[int, Any]:
    executor = Executor(client, concurrency=opts.concurrency, max_wait=opts.max_wait, timeout=opts.timeout,
                        progress=opts.progress)
    return executor.run(writes, deletes)
