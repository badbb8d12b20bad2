"""``AsyncTokenCredential`` for every token method: the method's own token path, offloaded.

MSAL is sync-only, and some methods read files (certificates, federated token files): each token
request runs in the kit's bounded offload pool (``app_connections.aio.offload``), never on the loop,
and concurrent requests of one credential share one call. The sync credential's own single flight
(``msal_apps.single_flight``) and refresh-token rotation (``on_rotate``, newest first, in issue
order) apply unchanged: this is the same credential, awaited.
"""

from __future__ import annotations

from typing import Any

from app_connections.aio import OffloadedCredential


class AsyncCredential(OffloadedCredential):
    """An ``azure.core.credentials_async.AsyncTokenCredential`` over one of this package's token
    credentials (``get_token``, ``get_token_info``, ``close``, ``async with``)."""

    def __init__(self, sync: Any) -> None:
        super().__init__(sync, info=sync.get_token_info, close=sync.close)

    def __repr__(self) -> str:
        return f"AsyncCredential({self.sync!r})"

    @property
    def credentials(self) -> Any:
        """The current credentials (an OAuth connection's include its rotated refresh token)."""
        return self.sync.credentials
