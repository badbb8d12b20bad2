"""Plain records of the host contract: connection types and instance settings; the auth-method
contract (``Credentials``, ``AuthMethod``) lives in ``auth_method`` and is re-exported here.

This module is on the registration path and imports nothing but the standard library: the
two records here are hand-written frozen classes rather than attrs classes, because importing
attrs alone costs more than the plugin's whole start-up budget (see benchmarks/). Validation
records (``Check``, ``ValidationReport``, ...) live in ``reports``, and the registrars and the
``InteractiveAuthMethod`` / ``SecretSyncDestination`` protocols in ``registrars``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, cast

from .auth_method import OPTIONAL_MEMBERS as OPTIONAL_MEMBERS
from .auth_method import AccessTokenLike as AccessTokenLike
from .auth_method import AuthMethod as AuthMethod
from .auth_method import Credentials as Credentials
from .auth_method import RotateCallback as RotateCallback
from .auth_method import TokenCredential as TokenCredential
from .auth_method import as_auth_method as as_auth_method
from .auth_method import is_interactive as is_interactive
from .capabilities import NO_ASYNC as NO_ASYNC
from .capabilities import AsyncCapabilities as AsyncCapabilities
from .capabilities import AsyncChecks as AsyncChecks
from .capabilities import AsyncCredentialFactory as AsyncCredentialFactory
from .capabilities import CheckResults as CheckResults
from .capabilities import ClientFactory as ClientFactory
from .capabilities import ValidationHook as ValidationHook
from .capabilities import Validator as Validator
from .frozen import _Frozen
from .jsontypes import JSONInput
from .text import quoted_value

if TYPE_CHECKING:
    from contextlib import AbstractContextManager

    from .aio import AsyncTokenCredential
    from .policy import HostPolicy
    from .registrars import InteractiveAuthMethod, SignInStart
    from .reports import ValidationReport, ValidationRequest


class InstanceSetting(_Frozen):
    """An instance-wide setting a connection type reads from the environment."""

    __slots__ = ("env_var", "title", "description", "secret", "required_by")
    _fields = __slots__
    env_var: str
    title: str
    description: str
    secret: bool
    required_by: tuple[str, ...]

    def __init__(
        self, env_var: str, title: str, description: str, secret: bool = False, required_by: tuple[str, ...] = ()
    ) -> None:
        self._init(env_var=env_var, title=title, description=description, secret=secret, required_by=tuple(required_by))


class ConnectionType(_Frozen):
    """A kind of connection a host can create, with its auth methods (frozen)."""

    __slots__ = (
        "slug",
        "name",
        "methods",
        "settings",
        "checks",
        "client_factory",
        "aio",
        "policy",
        "disabled",
        "registered",
    )
    _fields = ("slug", "name", "methods", "settings")
    _repr_fields = ("slug", "name", "settings")
    slug: str
    name: str
    methods: Mapping[str, AuthMethod]
    settings: tuple[InstanceSetting, ...]
    checks: Validator | None
    """This type's own checks: ``checks(request)`` returns (or ``request.add``s) the checks of a
    ``ValidationRequest``; the same function its plugin registers as a ``validate_connection``
    implementation, so ``validate()`` without a hook runs exactly this type's checks."""
    client_factory: ClientFactory | None
    """``client_factory(credentials, endpoint, credential, **options)``: a client of the service for
    ``credential`` (a ``TokenCredential``, or what a request-signing method's ``request_credential``
    returns). ``client()`` calls it; None when the type offers no client."""
    aio: AsyncCapabilities | None
    """The async twins this type offers (``app_connections.aio.AsyncCapabilities``); None: every
    default (sync work offloaded to a bounded thread pool, no async client)."""
    policy: HostPolicy | None
    """The host policy this copy is bound to (``with_policy``); None: the one in effect at each call
    (``policy.current()``, the library policy unless a host says otherwise)."""
    disabled: Mapping[str, str]
    """Method slug -> why the bound policy disabled it (those are absent from ``methods``)."""
    registered: Mapping[str, AuthMethod]
    """Every method registered, enabled or not."""

    def __init__(
        self,
        slug: str,
        name: str,
        methods: Mapping[str, AuthMethod],
        settings: tuple[InstanceSetting, ...] = (),
        *,
        checks: Validator | None = None,
        client_factory: ClientFactory | None = None,
        aio: AsyncCapabilities | None = None,
    ) -> None:
        methods = {key: as_auth_method(method) for key, method in methods.items()}
        for key, method in methods.items():
            if not isinstance(method.slug, str) or not method.slug:
                raise ValueError(f"method registered as {key!r} has no slug (a non-empty string)")
            if key != method.slug:
                raise ValueError(f"method registered as {key!r} has slug {method.slug!r}")
        self._init(
            slug=slug,
            name=name,
            methods=methods,
            settings=tuple(settings),
            checks=checks,
            client_factory=client_factory,
            aio=aio,
            policy=None,
            disabled={},
            registered=methods,
        )

    def method(self, slug: str, *, policy: HostPolicy | None = None) -> AuthMethod:
        """The auth method ``slug``, if the policy (``policy``, else the bound one, else the one in
        effect) enables it: ``UnknownAuthMethod`` when there is none, ``MethodDisabled`` when it is off."""
        from .errors import MethodDisabled, UnknownAuthMethod

        chosen = self._policy(policy)
        found = self.registered.get(slug) if isinstance(slug, str) else None
        if found is None:
            raise UnknownAuthMethod(
                f"connection type {self.slug!r} has no auth method {quoted_value(slug)}; "
                f"choose one of: {', '.join(sorted(self.methods))}",
                field="method",
            ) from None
        reason = chosen.disabled_reason(self.slug, found)
        if reason is not None:
            raise MethodDisabled(reason, field="method")
        return found

    def with_method(self, method: AuthMethod) -> ConnectionType:
        """A copy with one more auth method (used for ``register_auth_methods``); still bound to
        this copy's policy."""
        if method.slug in self.registered:
            raise ValueError(f"{self.slug!r} already has an auth method {method.slug!r}")
        grown = ConnectionType(
            self.slug,
            self.name,
            {**self.registered, method.slug: method},
            self.settings,
            checks=self.checks,
            client_factory=self.client_factory,
            aio=self.aio,
        )
        return grown if self.policy is None else grown.with_policy(self.policy)

    def with_policy(self, policy: HostPolicy) -> ConnectionType:
        """A copy bound to ``policy``: the methods it disables are absent from ``methods`` (see
        ``disabled``) and refused by ``parse``/``load`` with ``MethodDisabled``."""
        from .policy import HostPolicy

        if not isinstance(policy, HostPolicy):
            raise TypeError(f"with_policy() takes a HostPolicy, not {type(policy).__name__}")
        every = dict(self.registered)
        disabled = {slug: why for slug, m in every.items() if (why := policy.disabled_reason(self.slug, m))}
        bound = ConnectionType(
            self.slug,
            self.name,
            {slug: m for slug, m in every.items() if slug not in disabled},
            self.settings,
            checks=self.checks,
            client_factory=self.client_factory,
            aio=self.aio,
        )
        bound._init(policy=policy, disabled=disabled, registered=every)
        return bound

    def _using(self) -> AbstractContextManager[HostPolicy]:
        from . import policy as policies

        return policies.use(self._policy(None))

    def _policy(self, policy: HostPolicy | None) -> HostPolicy:
        from . import policy as policies

        return policies.effective(self.policy if policy is None else policy)

    def is_interactive(self, method: str) -> bool:
        """True when the auth method ``method`` signs in (``begin`` / ``complete``)."""
        return self.method(method).interactive

    # --- the lifecycle: form -> parse -> (begin -> complete) -> credentials -> to_dict -> load ------

    def parse(self, method: str, data: JSONInput, *, policy: HostPolicy | None = None) -> object:
        """Form input -> credentials, or sign-in input for an interactive method (``begin`` takes it),
        under ``policy`` (default: the bound one, else the one in effect, see ``with_policy``)."""
        from . import policy as policies

        chosen = self._policy(policy)
        found = self.method(method, policy=chosen)
        with policies.use(chosen):
            return found.parse(data)

    def begin(self, method: str, sign_in_input: object, **options: object) -> SignInStart:
        """Start an interactive method's sign-in from the record ``parse(method, form)`` returned."""
        m = self._interactive(method, "begin")
        self._check_sign_in_input(method, sign_in_input)
        with self._using():
            return m.begin(sign_in_input, **options)

    def _check_sign_in_input(self, method: str, sign_in_input: object) -> None:
        if isinstance(sign_in_input, Mapping) or getattr(sign_in_input, "method", None) != method:
            raise _invalid(
                "input",
                f"begin() needs the record that parse({method!r}, form) returns, not {type(sign_in_input).__name__}",
            )

    def complete(self, method: str, params: Mapping[str, str], **options: object) -> Credentials:
        """Finish an interactive method's sign-in from the callback's query parameters."""
        with self._using():
            return self._interactive(method, "complete").complete(params, **options)

    def load(self, stored: JSONInput, *, policy: HostPolicy | None = None) -> Credentials:
        """Stored credentials (the output of ``credentials.to_dict()``) -> the credentials record,
        under ``policy`` (as for ``parse``)."""
        from . import policy as policies

        chosen = self._policy(policy)
        with policies.use(chosen):
            return self._load(stored, chosen)

    def _load(self, stored: JSONInput, policy: HostPolicy) -> Credentials:
        if not isinstance(stored, Mapping):
            raise _invalid(
                "(credentials)",
                f"load() needs the mapping that credentials.to_dict() returned, not {type(stored).__name__}",
            )
        slug = stored.get("method")
        if not isinstance(slug, str):
            raise _invalid("method", "stored credentials must name their method (the 'method' key of to_dict())")
        return self.method(slug, policy=policy).load(stored)

    def credentials(self, credentials: object) -> tuple[AuthMethod, Credentials]:
        """Check that ``credentials`` is a credentials record of one of this type's methods."""
        if isinstance(credentials, Mapping):
            raise _invalid(
                "credentials",
                "pass the credentials record, not a dict: ConnectionType.load(stored) turns a stored dict into one",
            )
        slug = getattr(credentials, "method", None)
        if not isinstance(slug, str) or not callable(getattr(credentials, "to_dict", None)):
            raise _invalid(
                "credentials",
                f"expected a credentials record (with method and to_dict()), got {type(credentials).__name__}",
            )
        m = self.method(slug)
        expected = m.credentials_type
        if expected is not None and not isinstance(credentials, expected):
            hint = " (sign in first: begin() then complete())" if m.interactive else ""
            raise _invalid("credentials", f"{slug} needs {expected.__name__}, not {type(credentials).__name__}{hint}")
        return m, cast("Credentials", credentials)  # checked above: a method name and a to_dict()

    def token_credential(
        self, credentials: Credentials, *, on_rotate: RotateCallback | None = None, **options: object
    ) -> TokenCredential:
        """A ``TokenCredential`` for a credentials record of any of this type's methods."""
        m, creds = self.credentials(credentials)
        with self._using():  # what the credential reads later (e.g. the shared stores' settings) is the policy's
            return m.token_credential(creds, on_rotate=on_rotate, **options)

    def client(
        self, credentials: Credentials, endpoint: object = None, *, credential: object = None, **options: object
    ) -> object:
        """A client of the service (for Azure App Configuration: an ``AzureAppConfigurationClient``) for
        a credentials record of any of this type's methods, built by the type's ``client_factory``.

        The request credential is ``credential`` when given (e.g. a token credential already in use),
        else the method's ``request_credential(credentials)`` for methods that sign each request
        instead of sending a token (``access-key``), else ``token_credential(credentials, ...)``
        (``on_rotate`` and ``settings`` in ``options`` go to it). ``endpoint`` defaults to the
        credentials' own (the method's ``endpoint_of(credentials)``) when they carry one.
        """
        m, creds = self.credentials(credentials)
        if self.client_factory is None:
            raise _invalid("connection type", f"{self.slug!r} offers no client (it has no client_factory)")
        if endpoint is None:
            endpoint = m.endpoint_of(creds)
        with self._using():
            if credential is None:
                credential = m.request_credential(creds)
                if credential is None:
                    moved = ("on_rotate", "settings")
                    token_options: dict[str, Any] = {k: options.pop(k) for k in moved if k in options}
                    credential = m.token_credential(creds, **token_options)
            return self.client_factory(creds, endpoint, credential, **options)

    # --- async twins (``app_connections.aio``: the provider's own, else sync work offloaded) -------

    def async_token_credential(
        self, credentials: Credentials, *, on_rotate: RotateCallback | None = None, **options: object
    ) -> AsyncTokenCredential:
        """An ``AsyncTokenCredential`` (``get_token``, ``get_token_info``, ``close``, ``async with``)
        for a credentials record of any of this type's methods."""
        from . import aio

        with self._using():
            return aio.async_token_credential(self, credentials, on_rotate=on_rotate, **options)

    def async_client(
        self, credentials: Credentials, endpoint: object = None, *, credential: object = None, **options: object
    ) -> object:
        """``client``'s async twin (for Azure App Configuration: the SDK's aio client); use it with ``async with``."""
        from . import aio

        with self._using():
            return aio.async_client(self, credentials, endpoint, credential=credential, **options)

    async def abegin(self, method: str, sign_in_input: object, **options: object) -> SignInStart:
        """``begin`` as a coroutine (an async ``flow_store`` option is awaited, never blocked on)."""
        from . import aio

        with self._using():
            return await aio.begin(self, method, sign_in_input, **options)

    async def acomplete(self, method: str, params: Mapping[str, str], **options: object) -> Credentials:
        """``complete`` as a coroutine: the code exchange never blocks the event loop."""
        from . import aio

        with self._using():
            return await aio.complete(self, method, params, **options)

    async def avalidate(
        self, data: object, *, method: str | None = None, policy: HostPolicy | None = None, **options: object
    ) -> ValidationReport:
        """``validate`` (this type's own checks) as a coroutine, under ``policy`` (as for ``validate``);
        ``Registry.avalidate`` runs every plugin's."""
        from . import aio
        from . import policy as policies

        with policies.use(self._policy(policy)):
            forwarded: dict[str, Any] = options  # as given: the checks read (and check) their own options
            return await aio.run_validation(None, self, method, data, **forwarded)

    def validate(
        self,
        data: object,
        *,
        method: str | None = None,
        hook: ValidationHook | None = None,
        policy: HostPolicy | None = None,
        **options: object,
    ) -> ValidationReport:
        """Validate form input, stored credentials or a credentials record, under ``policy`` (as
        for ``parse``; the checks read its environment unless ``env=`` is given).

        ``hook`` is the host's ``pm.hook.validate_connection``: every plugin's checks run, this
        type's own included (they are hook implementations too). Without it, only this type's
        own checks run (``checks``). ``Registry.validate`` passes the hook for you.
        """
        from . import policy as policies

        with policies.use(self._policy(policy)):
            return self._validate(data, method, hook, options)

    def _validate(
        self, data: object, method: str | None, hook: ValidationHook | None, options: dict[str, Any]
    ) -> ValidationReport:
        from .hosting import run_validation

        if hook is None:
            own = self.checks

            def own_only(request: ValidationRequest) -> list[CheckResults | None]:
                return [own(request)] if own is not None else []

            hook = own_only
        return run_validation(hook, self, method, data, **options)

    def _interactive(self, method: str, step: str) -> InteractiveAuthMethod:
        m = self.method(method)
        if not m.interactive:
            raise _invalid(
                "method",
                f"auth method {method!r} is not interactive: parse() returns its credentials; "
                f"there is no {step}() step",
            )
        return cast("InteractiveAuthMethod", m)  # it declares interactive = True (checked above)


def _invalid(field: str, message: str) -> Exception:
    from .errors import FieldError, InvalidInput

    return InvalidInput(errors=[FieldError(field, message)])
