"""The built-in checks of the Azure App Configuration connection type.

``run_checks(request)`` is this plugin's ``validate_connection`` implementation (registered in
``plugin.py`` with ``tryfirst``, like any other plugin's) and the connection type's own ``checks``.
The stages are data (``STAGES``): each names the checks it reports, when it applies, and why the
later stages are skipped when it fails. Check names: ``input``, ``instance settings``,
``endpoint``, ``token``, ``KeyValue.Read``, ``KeyValue.Write``, ``KeyValue.Delete`` (and
``cleanup`` in write-probe mode).
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable, Mapping
from typing import TYPE_CHECKING, Any, cast

import attrs

from app_connections.panics import is_library_failure
from app_connections.records import ConnectionType, Credentials
from app_connections.reports import Check, CheckStatus, ValidationRequest
from app_connections.text import quoted_value

from ..errors import AppConnectionError, InvalidInput
from .store import STORE_CHECKS, interpret, probe_store

if TYPE_CHECKING:
    from azure.appconfiguration import AzureAppConfigurationClient

    from app_connections.aio import AsyncTokenCredential
    from app_connections.records import AccessTokenLike, AuthMethod, TokenCredential

    from ..clouds import Cloud
    from ..endpoints import StoreEndpoint
    from ..http.errors import DeadlineExceeded
    from ..settings import InstanceSettings

OK, FAILED, SKIPPED, INCONCLUSIVE = CheckStatus.OK, CheckStatus.FAILED, CheckStatus.SKIPPED, CheckStatus.INCONCLUSIVE


@attrs.define
class Run:
    """State passed from stage to stage within one validation."""

    request: ValidationRequest
    env: Mapping[str, str]
    _credentials: Credentials | None = None
    _method: AuthMethod | None = None
    _cloud: Cloud | None = None
    settings: InstanceSettings | None = None
    """The instance settings, once that check passed (methods that need them only)."""
    store: StoreEndpoint | None = None
    """The checked store endpoint, once the endpoint check passed."""
    token: AccessTokenLike | None = None
    """The token issued, once the token check passed (None for a method that signs each request)."""
    token_credential: TokenCredential | AsyncTokenCredential | None = None
    """The credential the token check used (a method's own or the ``token_credential`` option;
    async in the async checks)."""

    @property
    def ctype(self) -> ConnectionType:
        """The connection type being validated (the request's)."""
        ctype = self.request.connection
        assert ctype is not None  # run_validation always sets it before any check runs
        return ctype

    @property
    def parsed(self) -> bool:
        """True once the input check passed: ``credentials``, ``method`` and ``cloud`` are set."""
        return self._credentials is not None

    @property
    def credentials(self) -> Credentials:
        """The credentials record (the stages after ``input`` run only once it passed)."""
        assert self._credentials is not None
        return self._credentials

    @property
    def method(self) -> AuthMethod:
        """Its ``AuthMethod`` (the type's, so every optional member is there)."""
        assert self._method is not None
        return self._method

    @property
    def cloud(self) -> Cloud:
        """The cloud the credentials name."""
        assert self._cloud is not None
        return self._cloud

    def parsed_as(self, credentials: Credentials, method: AuthMethod, cloud: Cloud) -> None:
        """Keep what the input check read."""
        self._credentials, self._method, self._cloud = credentials, method, cloud

    def option(self, name: str, default: object = None) -> object:
        """The request's option ``name`` (``write_probe``, ``settings``, ``env``, ...), else ``default``."""
        return self.request.options.get(name, default)

    def given_credential(self) -> TokenCredential | None:
        """The ``token_credential`` option: a credential the host already uses (``InvalidInput``
        when it is not a sync ``TokenCredential``)."""
        from ..clients import sync_token_credential

        return sync_token_credential(self.option("token_credential"), async_calls="avalidate")

    def given_async_credential(self) -> TokenCredential | AsyncTokenCredential | None:
        """The ``token_credential`` option in the async checks: sync or async, told apart at run time."""
        return cast("TokenCredential | AsyncTokenCredential | None", self.option("token_credential"))

    def client_options(self) -> dict[str, object]:
        """The ``client_options`` option: further keywords for the store client."""
        return dict(cast("Mapping[str, object]", self.option("client_options") or {}))

    def probe_label(self) -> str | None:
        """The ``probe_label`` option: the label of a real write probe's sentinel (None: a new one)."""
        return cast("str | None", self.option("probe_label"))


@attrs.frozen
class Stage:
    """One stage: ``run`` returns its checks; a failed one skips the later stages with ``blocks``."""

    names: tuple[str, ...]
    run: Callable[[Run], list[Check]]
    applies: Callable[[Run], bool]
    blocks: str
    """Why later stages are not checked when this one fails."""
    absent: str | None = None
    """Reported (as skipped) when the stage does not apply and nothing failed before it."""


def parse_request(ctype: ConnectionType, data: object, method: str | None) -> Credentials:
    """The credentials record from form input, stored credentials (a dict with ``method``) or a record."""
    if isinstance(data, Mapping):
        if "method" in data:
            creds = ctype.load(data)
        elif method is None:
            raise InvalidInput(f"say which method: {', '.join(ctype.methods)}", field="method")
        elif ctype.is_interactive(method):
            stored = ctype.method(method).stored_fields or ()
            needs = ", ".join(f.name for f in stored if f.required) or "the stored credentials"
            raise InvalidInput(
                f"{method} is validated after sign-in: pass the stored credentials ({needs}) from a "
                "completed sign-in (begin, complete, to_dict)",
                field="credentials",
            )
        else:
            creds = cast("Credentials", ctype.parse(method, data))  # not interactive: parse gives credentials
    else:
        _, creds = ctype.credentials(data)
    if method and creds.method != method:
        given = f"the credentials are for method {quoted_value(creds.method)}, not {quoted_value(method)}"
        raise InvalidInput(given, field="method")
    return creds


def input_stage(run: Run) -> list[Check]:
    """The ``input`` check: the request's data parsed into a credentials record of one of the type's methods."""
    from ..clouds import get_cloud

    request = run.request
    try:
        creds = parse_request(run.ctype, request.data, request.method)
        method = run.ctype.method(creds.method)
        cloud = get_cloud(method.cloud_of(creds))
    except AppConnectionError as exc:
        return [Check("input", FAILED, str(exc), "Correct the fields named above.", code="invalid_input")]
    except BaseException as exc:  # a plugin method's parse/load bug, or a library's panic on the input
        if not is_library_failure(exc):
            raise
        from app_connections.hosting import describe

        return [
            Check(
                "input",
                FAILED,
                f"the input could not be read: {describe(exc)}",
                "Report this to the auth method's authors.",
                code="plugin_error",
            )
        ]
    run.parsed_as(creds, method, cloud)
    request.credentials, request.method = creds, creds.method
    return [Check("input", OK, f"{creds.method} input is well-formed")]


def _needs_settings(run: Run) -> bool:
    if run.option("token_credential") is not None or not run.parsed:
        return False
    return any(run.credentials.method in s.required_by for s in run.ctype.settings)


def settings_stage(run: Run) -> list[Check]:
    """The ``instance settings`` check: the ``settings`` option, else the settings read from the environment."""
    from ..settings import InstanceSettings

    settings = cast("InstanceSettings | None", run.option("settings"))
    if settings is None:
        try:
            settings = InstanceSettings.from_env(run.env)
        except AppConnectionError as exc:
            return [Check("instance settings", FAILED, str(exc), "Run `azure-appconfig doctor` and set what it lists.")]
    run.settings = settings
    return [
        Check("instance settings", OK, f"app registration {settings.client_id}, redirect URI {settings.redirect_uri}")
    ]


def own_endpoint(run: Run) -> str | None:
    """The endpoint the credentials are bound to (an access key's store: the method's ``endpoint_of``), or None."""
    if not run.parsed:  # the input check failed: no record to read
        return None
    own: str | None = run.method.endpoint_of(run.credentials)
    return own


def store_endpoint(run: Run) -> str | None:
    """The endpoint to check: the request's, else the credentials' own (an access key's store)."""
    if run.request.endpoint is not None:  # "" is bad input, not "no endpoint"
        return run.request.endpoint
    return own_endpoint(run)


def endpoint_stage(run: Run) -> list[Check]:
    """The ``endpoint`` check: the store endpoint passes the endpoint rules (and is the credentials' own)."""
    from ..endpoints import parse_endpoint

    try:
        store = run.store = parse_endpoint(store_endpoint(run) or "", cloud=run.cloud, env=run.env)
        own = own_endpoint(run)
        if own is not None and parse_endpoint(own, cloud=run.cloud, env=run.env).url != store.url:
            return [
                Check(
                    "endpoint",
                    FAILED,
                    f"{store.url} is not the store of this {run.credentials.method} "
                    f"connection ({own}); its key signs requests for its own store only",
                    "Validate against the endpoint in the connection string (omit --endpoint).",
                    code="endpoint_rejected",
                )
            ]
    except AppConnectionError as exc:
        return [Check("endpoint", FAILED, str(exc), endpoint_remedy(exc, run.cloud), code="endpoint_rejected")]
    return [Check("endpoint", OK, f"{store.url} ({store.cloud.title}{', allow-listed' if store.allow_listed else ''})")]


def endpoint_remedy(exc: AppConnectionError, cloud: Cloud) -> str:
    """The fix, in agreement with the detail (a cloud mismatch says which cloud to set)."""
    reason = " ".join(str(e.message) for e in (exc.errors if isinstance(exc, InvalidInput) else ())) or str(exc)
    if "set the connection's cloud to" in reason:
        wanted = reason.rsplit("set the connection's cloud to", 1)[1].strip(" .'\"")
        return (
            f"Set the connection's cloud to {wanted!r} (the store's cloud), or use a store in "
            f"{cloud.title} (https://<store>.{cloud.store_suffix})."
        )
    return f"Use the store's endpoint, https://<store>.{cloud.store_suffix} (no path, query or port)."


def _secrets_of(run: Run) -> list[str]:
    fields = (run.method.stored_fields or run.method.input_fields) if run.parsed else None
    data = run.credentials.to_dict() if run.parsed else {}
    if fields:
        names = {f.name for f in fields if f.secret}
        values = [v for k, v in data.items() if k in names]
    else:  # a method without field declarations: hide every value but the method and cloud
        values = [v for k, v in data.items() if k not in ("method", "cloud")]
    return sorted((v for v in values if isinstance(v, str) and len(v) >= 4), key=len, reverse=True)


def redact(text: str, secrets: list[str]) -> str:
    """``text`` with each of ``secrets`` replaced by ``[REDACTED]`` (longest first, as ``_secrets_of`` orders them)."""
    for secret in secrets:
        text = text.replace(secret, "[REDACTED]")
    return text


def token_issuer(run: Run) -> str:
    """Who issues the method's tokens or keys, for check texts (Entra ID: its login host and tenant)."""
    provider = run.method.identity_provider
    tenant = run.method.tenant_of(run.credentials)
    if provider == "Microsoft Entra ID":
        return f"{run.cloud.login_host} (tenant {tenant})" if tenant else run.cloud.login_host
    return provider or f"the {run.method.name} method"


def no_token_needed(run: Run) -> list[Check] | None:
    """The skipped ``token`` check of a method that signs each request (no token), else None."""
    if run.option("token_credential") is None and run.method.request_credential(run.credentials) is not None:
        return [
            Check(
                "token",
                SKIPPED,
                f"not needed: {run.method.name} signs each request with the key "
                f"({token_issuer(run)}); no token is requested",
            )
        ]
    return None


def token_options(run: Run) -> dict[str, Any]:
    """The keywords of the method's token credential in this run."""
    extra = {"settings": run.settings} if run.settings is not None else {}
    return {"on_rotate": run.option("on_rotate"), **extra}


def token_failed(
    run: Run, token_credential: TokenCredential | AsyncTokenCredential | None, exc: BaseException
) -> list[Check]:
    """The ``token`` check of ``exc`` (any method's failure: a check, never a crash), redacted: failed,
    or inconclusive when no (whole) answer arrived before the deadline (nothing to judge by)."""
    from ..auth.aad_errors import remedy_for

    run.token_credential = token_credential
    secrets = _secrets_of(run)
    late = deadline_error(exc)
    if late is not None:
        return [Check("token", INCONCLUSIVE, redact(str(late), secrets), DEADLINE_REMEDY, code=late.code)]
    if isinstance(exc, AppConnectionError):
        detail, code = str(exc), exc.code
    else:
        from app_connections.hosting import describe

        detail, code = f"the {run.method.name} method raised {describe(exc)}", type(exc).__name__
    return [Check("token", FAILED, redact(detail, secrets), redact(remedy_for(exc, run.method), secrets), code=code)]


def token_issued(run: Run, token_credential: TokenCredential | AsyncTokenCredential) -> list[Check]:
    """The passed ``token`` check; the credential is kept for the store stage and the request."""
    run.token_credential = token_credential
    run.request.token_credential = token_credential
    return [Check("token", OK, f"token issued for {run.cloud.audience} by {token_issuer(run)}")]


DEADLINE_REMEDY = "Validate again (the network or the service may be slow), or raise the deadline (docs/limits.md)."


def deadline_error(exc: BaseException) -> DeadlineExceeded | None:
    """The ``DeadlineExceeded`` behind ``exc`` (the policy's, perhaps inside an SDK's or MSAL's error), or None."""
    from ..http.errors import DeadlineExceeded, policy_error

    found = policy_error(exc)
    return found if isinstance(found, DeadlineExceeded) else None


def token_stage(run: Run) -> list[Check]:
    """The ``token`` check: a token for the cloud's App Configuration scope (skipped for a method
    that signs each request)."""
    skipped = no_token_needed(run)
    if skipped is not None:
        return skipped
    token_credential: TokenCredential | None = None
    try:
        token_credential = run.given_credential()
        if token_credential is None:
            token_credential = run.method.token_credential(run.credentials, **token_options(run))
        run.token = token_credential.get_token(run.cloud.scope)
    except BaseException as exc:  # any method's failure (a library's panic too) is a failed check, never a crash
        if not is_library_failure(exc):
            raise
        return token_failed(run, token_credential, exc)
    return token_issued(run, token_credential)


def store_stage(run: Run) -> list[Check]:
    """The ``KeyValue.*`` checks: the store probes with the type's client (``checks.store``)."""
    from .. import store as probes

    check = store_interpreter(run)
    built = store_type(run).client(
        run.credentials,
        run.store,
        credential=run.token_credential,
        env=run.env,
        **run.client_options(),
    )
    client = cast("AzureAppConfigurationClient", built)  # what the type's client factory builds
    with client:
        return probe_store(
            client,
            probes,
            write_probe=bool(run.option("write_probe")),
            label=run.probe_label(),
            interpret=check,
        )


def store_type(run: Run) -> ConnectionType:
    """The connection type whose client probes the store: the request's, or (a type object built
    without a client factory by a contract 1.0 host) this type's own."""
    ctype = run.ctype
    if ctype.client_factory is None:
        from ..clients import async_capabilities, built_in_methods, store_client

        ctype = ConnectionType(
            ctype.slug,
            ctype.name,
            ctype.methods,
            ctype.settings,
            checks=ctype.checks,
            client_factory=store_client,
            aio=async_capabilities(built_in_methods()),
        )
    return ctype


def store_interpreter(run: Run) -> Callable[..., Check]:
    """``interpret`` bound to this run's store, principal, tenant, audience and token claims."""
    from app_connections.tokens import jwt_claims

    store = run.store
    assert store is not None  # the store stage runs only once the endpoint check passed
    return functools.partial(
        interpret,
        url=store.url,
        principal=run.method.principal(run.credentials),
        tenant=run.method.tenant_of(run.credentials),
        audience=run.cloud.audience,
        claims=jwt_claims(run.token.token) if run.token is not None else None,
    )


STAGES: tuple[Stage, ...] = (
    Stage(("input",), input_stage, lambda run: True, "the input is invalid"),
    Stage(("instance settings",), settings_stage, _needs_settings, "instance settings are missing"),
    Stage(
        ("endpoint",),
        endpoint_stage,
        lambda run: store_endpoint(run) is not None,
        "no token is sent to a rejected endpoint",
    ),
    Stage(("token",), token_stage, lambda run: True, "no token"),
    Stage(
        STORE_CHECKS,
        store_stage,
        lambda run: store_endpoint(run) is not None,
        "the store could not be checked",
        absent="no store endpoint given: pass an endpoint to check KeyValue permissions",
    ),
)


def run_checks(request: ValidationRequest, *, stages: tuple[Stage, ...] = STAGES) -> None:
    """Run the stages, adding each check to ``request`` as it is made (so later
    ``validate_connection`` implementations see them), all within one deadline."""
    from ..http.deadlines import bounded_by

    bounded_by("validation_seconds")(_run_stages)(request, stages)


def _run_stages(request: ValidationRequest, stages: tuple[Stage, ...]) -> None:
    from ..sansio import run_now

    async def run_sync(stage: Stage, run: Run) -> list[Check]:
        return stage.run(run)

    run_now(walk_stages(request, stages, run_sync))


async def walk_stages(
    request: ValidationRequest, stages: tuple[Stage, ...], execute: Callable[[Stage, Run], Awaitable[list[Check]]]
) -> None:
    """The stages in order (``execute`` runs one): each check added as it is made, a failed stage
    skipping the later ones. The sync validation runs it to its end at once; the async one awaits it.
    A stage not run because the operation's deadline had passed, or blocked by one that ran out of
    time, is ``inconclusive`` (with the deadline's numbers), never ``failed``."""
    from app_connections import policy as policies

    from ..http.deadlines import deadline_note, deadline_passed

    env = request.options.get("env")  # an explicit env= wins; else the host policy's (never os.environ unasked)
    run = Run(request, policies.current().env if env is None else cast("Mapping[str, str]", env))
    blocked: Check | None = None
    for stage in stages:
        if blocked is not None:
            if stage.applies(run):
                request.add(*(attrs.evolve(blocked, name=n) for n in stage.names))
            continue
        if not stage.applies(run):
            if stage.absent:
                request.add(*(Check(n, SKIPPED, stage.absent) for n in stage.names))
            continue
        passed = deadline_passed()
        if passed is not None:
            blocked = Check(
                "", INCONCLUSIVE, f"not checked: {deadline_note(passed)}", DEADLINE_REMEDY, code="deadline_exceeded"
            )
            request.add(*(attrs.evolve(blocked, name=n) for n in stage.names))
            continue
        checks = await execute(stage, run)
        request.add(*checks)
        if stage.names == STORE_CHECKS:
            continue
        if any(c.status == FAILED for c in checks):
            blocked = Check("", SKIPPED, f"not checked: {stage.blocks}")
        elif any(c.status == INCONCLUSIVE and c.code == "deadline_exceeded" for c in checks):
            why = f"not checked: {stage.blocks} (its answer did not arrive within the deadline)"
            blocked = Check("", INCONCLUSIVE, why, DEADLINE_REMEDY, code="deadline_exceeded")
