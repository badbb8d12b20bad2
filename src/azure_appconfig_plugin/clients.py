"""The connection type's store clients and async capabilities, without its checks (import-light).

``connection`` builds the full type from these; the checks build a client-only type from them
when a contract 1.0 host hands over a type object without a client factory.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, cast

from app_connections.records import AsyncCapabilities, AsyncChecks, AuthMethod, Credentials, RotateCallback

from .methods import (
    AccessKeyMethod,
    CertificateMethod,
    ClientSecretMethod,
    ManagedIdentityMethod,
    OAuthMethod,
    WorkloadIdentityMethod,
)

if TYPE_CHECKING:
    from azure.appconfiguration import AzureAppConfigurationClient
    from azure.appconfiguration.aio import AzureAppConfigurationClient as AsyncAzureAppConfigurationClient

    from app_connections.aio import AsyncTokenCredential
    from app_connections.records import TokenCredential

    from .aio.credential import AsyncCredential, SyncCredential
    from .auth.oauth import AuthorizationRequest
    from .endpoints import StoreEndpoint
    from .store import KeySigner


def sync_token_credential(given: object, *, async_calls: str) -> TokenCredential | None:
    """The ``token_credential`` option of a sync call, checked before any request: None, or a
    ``TokenCredential``. Anything else is ``InvalidInput`` naming ``token_credential``: an object
    without ``get_token``, or an ``AsyncTokenCredential`` (it belongs to ``async_calls``)."""
    import inspect

    from .errors import FieldError, InvalidInput

    if given is None:
        return None
    get_token = getattr(given, "get_token", None)  # a host's object, checked as the option it must be
    kind = type(given).__name__
    if not callable(get_token):
        why = f"{kind} is not a TokenCredential (it has no get_token method)"
    elif inspect.iscoroutinefunction(get_token):
        why = f"{kind} is an AsyncTokenCredential: pass it to {async_calls}, or give this call a sync TokenCredential"
    else:
        return cast("TokenCredential", given)
    raise InvalidInput(errors=[FieldError("token_credential", why)])


def store_client(
    credentials: Credentials,
    endpoint: str | StoreEndpoint | None,
    credential: TokenCredential | KeySigner,
    *,
    env: Mapping[str, str] | None = None,
    **options: Any,
) -> AzureAppConfigurationClient:
    """An ``AzureAppConfigurationClient`` through ``store.make_client`` (the one client factory).
    ``endpoint`` (a URL or a parsed ``StoreEndpoint``) passes the endpoint rules and allow-list
    first; it defaults to the credentials' own endpoint (access keys), and may not differ from it."""
    from .store import make_client

    return make_client(_store_endpoint(credentials, endpoint, env), credential, **options)


def async_store_client(
    credentials: Credentials,
    endpoint: str | StoreEndpoint | None,
    credential: AsyncTokenCredential | KeySigner,
    *,
    env: Mapping[str, str] | None = None,
    **options: Any,
) -> AsyncAzureAppConfigurationClient:
    """``store_client``'s async twin: the SDK's aio ``AzureAppConfigurationClient`` through
    ``store.make_async_client`` (the policy's aiohttp transport); the same endpoint rules first."""
    from .store import make_async_client

    return make_async_client(_store_endpoint(credentials, endpoint, env), credential, **options)


def _store_endpoint(
    credentials: Credentials, endpoint: str | StoreEndpoint | None, env: Mapping[str, str] | None
) -> StoreEndpoint:
    """``endpoint`` (else the credentials' own) once it passed the endpoint rules and matched the
    credentials' own store."""
    from .endpoints import StoreEndpoint, parse_endpoint
    from .errors import FieldError, InvalidInput

    method = _METHODS.get(credentials.method)  # a built-in method's record says its cloud and own store
    own = method.endpoint_of(credentials) if method is not None else None
    cloud = method.cloud_of(credentials) if method is not None else None
    if endpoint is None:
        endpoint = own
    if endpoint is None:
        raise InvalidInput(
            errors=[FieldError("endpoint", "is required: the store's endpoint, https://<store>.azconfig.io")]
        )
    store = endpoint if isinstance(endpoint, StoreEndpoint) else parse_endpoint(endpoint, cloud=cloud, env=env)
    if own is not None:
        mine = parse_endpoint(own, cloud=cloud, env=env)
        if mine.url != store.url:
            raise InvalidInput(
                errors=[
                    FieldError(
                        "endpoint",
                        f"is {store.url}, but the access key belongs to {mine.url}; "
                        "a key signs requests for its own store only",
                    )
                ]
            )
    return store


class _AsyncCredentialFactory:
    """``AsyncCapabilities.token_credentials`` entry: the method's own token credential, awaited."""

    def __init__(self, method: AuthMethod) -> None:
        self.method = method

    def __call__(
        self, credentials: Credentials, *, on_rotate: RotateCallback | None = None, **options: Any
    ) -> AsyncCredential:
        from app_connections import policy as policies

        from .aio.credential import AsyncCredential

        policy = policies.current()  # the type's (with a sync run's env=): the instance settings come from it

        def make() -> SyncCredential:  # in the offload pool, on first use: building one may parse key material
            with policies.use(policy):
                built = self.method.token_credential(credentials, on_rotate=on_rotate, **options)
            # this package's methods build azure-core credentials with get_token_info and close
            return cast("SyncCredential", built)

        return AsyncCredential(make, credentials)


class _OAuthSignIn:
    """The ``oauth`` method's ``begin`` / ``complete`` as coroutines (``aio.oauth``)."""

    async def begin(self, sign_in_input: object, **options: Any) -> AuthorizationRequest:
        from .aio import warm_up

        await warm_up()
        from .aio.oauth import begin
        from .methods.oauth import checked_sign_in_input

        return await begin(checked_sign_in_input(sign_in_input), **options)

    async def complete(self, params: Mapping[str, str], **options: Any) -> Credentials:
        from .aio import warm_up

        await warm_up()
        from .aio.oauth import complete

        credentials: Credentials = await complete(params, **options)
        return credentials


def built_in_methods() -> dict[str, AuthMethod]:
    """This package's auth methods by slug, each a new instance."""
    return {
        m.slug: m
        for m in (
            OAuthMethod(),
            ClientSecretMethod(),
            CertificateMethod(),
            WorkloadIdentityMethod(),
            ManagedIdentityMethod(),
            AccessKeyMethod(),
        )
    }


_METHODS = built_in_methods()
"""This package's methods by slug (stateless): ``store_client`` reads their records' cloud and endpoint."""


def async_capabilities(methods: Mapping[str, AuthMethod], *, checks: AsyncChecks | None = None) -> AsyncCapabilities:
    """The async twins of ``methods``' token credentials, the async store client and the OAuth sign-in."""
    return AsyncCapabilities(
        token_credentials={slug: _AsyncCredentialFactory(m) for slug, m in methods.items()},
        client_factory=async_store_client,
        checks=checks,
        sign_in={"oauth": _OAuthSignIn()},
    )
