"""``AsyncTokenCredential`` for every token method: the method's own token path, offloaded.

MSAL is sync-only, and some methods read files or parse key material (certificates, federated
token files): the sync credential is built on first use, and each token request runs, in the kit's
bounded offload pool (``app_connections.aio.offload``), never on the loop; concurrent requests of
one credential share one call. The sync credential's own single flight (``msal_apps.single_flight``)
and refresh-token rotation (``on_rotate``, newest first, in issue order) apply unchanged: this is
the same credential, awaited. What building it may raise (unusable certificate material, an OAuth
connection of another app registration) is raised by the first ``get_token``.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol, cast

from app_connections.aio import OffloadedCredential

if TYPE_CHECKING:
    from azure.core.credentials import (
        AccessToken,
        AccessTokenInfo,
        SupportsTokenInfo,
        TokenCredential,
        TokenRequestOptions,
    )

    from app_connections.records import Credentials

    class SyncCredential(TokenCredential, SupportsTokenInfo, Protocol):
        """What ``make`` builds: a sync token credential with ``get_token_info`` and ``close`` (this package's)."""


class _Built:
    """The sync credential, built by ``make`` on first use (in an offload thread), once."""

    def __init__(self, make: Callable[[], SyncCredential], credentials: Credentials) -> None:
        self._make = make
        self._credentials = credentials
        self._lock = threading.Lock()
        self.value: SyncCredential | None = None

    def get(self) -> SyncCredential:
        with self._lock:
            if self.value is None:
                self.value = self._make()
            return self.value

    def get_token(self, *scopes: str, **kwargs: Any) -> AccessToken:
        return self.get().get_token(*scopes, **kwargs)  # the caller's keywords, as azure-core's get_token takes them

    def get_token_info(self, *scopes: str, options: TokenRequestOptions | None = None) -> AccessTokenInfo:
        return self.get().get_token_info(*scopes, options=options)

    def close(self) -> None:
        if self.value is not None:
            self.value.close()

    @property
    def credentials(self) -> Credentials:
        from ..auth.credential import OAuthTokenCredential

        if isinstance(self.value, OAuthTokenCredential):  # the one whose credentials change (rotation)
            return self.value.credentials
        return self._credentials

    def __repr__(self) -> str:
        return repr(self.value) if self.value is not None else "not built yet"


class AsyncCredential(OffloadedCredential):
    """An ``azure.core.credentials_async.AsyncTokenCredential`` over one of this package's token
    credentials (``get_token``, ``get_token_info``, ``close``, ``async with``); ``make`` builds the
    sync credential (on first use, off the loop) for ``credentials``."""

    def __init__(self, make: Callable[[], SyncCredential], credentials: Credentials) -> None:
        built = _Built(make, credentials)
        super().__init__(built, info=built.get_token_info, close=built.close)

    def __repr__(self) -> str:
        return f"AsyncCredential({self.sync!r})"

    @property
    def credentials(self) -> Credentials:
        """The current credentials (an OAuth connection's include its rotated refresh token)."""
        return cast("_Built", self.sync).credentials  # __init__ wraps a _Built
