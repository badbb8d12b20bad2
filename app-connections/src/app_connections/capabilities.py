"""What a connection type may offer besides its methods: its checks, its client factory and its
async twins (``AsyncCapabilities``). Re-exported by ``records``; standard library only."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Mapping
from typing import TYPE_CHECKING

from .frozen import _Frozen

if TYPE_CHECKING:
    from .aio import AsyncSignIn, AsyncTokenCredential
    from .jsontypes import JSONInput
    from .reports import Check, ValidationRequest


CheckResults = Iterable["Check | JSONInput"]
"""What a plugin's checks return: ``Check`` records, or mappings of their fields."""
Validator = Callable[["ValidationRequest"], "CheckResults | None"]
"""``checks(request)``: returns the checks, or ``request.add``s them and returns None."""
ClientFactory = Callable[..., object]
"""``(credentials, endpoint, credential, **options) -> client``: see ``ConnectionType.client``."""


AsyncCredentialFactory = Callable[..., "AsyncTokenCredential"]
"""``factory(credentials, *, on_rotate=None, **options)`` -> an ``AsyncTokenCredential``."""
AsyncChecks = Callable[["ValidationRequest"], "Awaitable[CheckResults | None]"]
"""``await checks(request)``: adds (or returns) the type's own checks, like the sync ``checks``."""


class AsyncCapabilities(_Frozen):
    """The async twins a connection type offers (``ConnectionType(aio=...)``); every slot is optional
    and has the default ``app_connections.aio`` documents (sync work offloaded to a bounded pool)."""

    __slots__ = ("token_credentials", "client_factory", "checks", "sign_in")
    _fields = __slots__
    token_credentials: Mapping[str, AsyncCredentialFactory]
    client_factory: ClientFactory | None
    """``client_factory(credentials, endpoint, credential, **options)`` -> an async client."""
    checks: AsyncChecks | None
    sign_in: Mapping[str, AsyncSignIn]

    def __init__(
        self,
        *,
        token_credentials: Mapping[str, AsyncCredentialFactory] | None = None,
        client_factory: ClientFactory | None = None,
        checks: AsyncChecks | None = None,
        sign_in: Mapping[str, AsyncSignIn] | None = None,
    ) -> None:
        self._init(
            token_credentials=dict(token_credentials or {}),
            client_factory=client_factory,
            checks=checks,
            sign_in=dict(sign_in or {}),
        )


ValidationHook = Callable[..., "Iterable[CheckResults | None] | None"]
"""The host's ``pm.hook.validate_connection``: ``hook(request=...)`` -> each implementation's results."""

NO_ASYNC = AsyncCapabilities()
"""What a connection type without ``aio`` offers: every default."""
