"""What the sync reads of the SDK's clients and of the store's answers, as narrow Protocols (the
sync and aio ``AzureAppConfigurationClient`` and azure-core's ``HttpResponse`` / ``AsyncHttpResponse``
are ones). Import-light: azure is imported for type checking only."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Protocol

from app_connections.jsontypes import JSONValue

from ..http.retry import Answer as StatusAnswer

if TYPE_CHECKING:
    from azure.core.rest import AsyncHttpResponse, HttpRequest, HttpResponse

    from ..http.pace import Tries


class Answer(StatusAnswer, Protocol):
    """A store's answer, read: azure-core's ``HttpResponse`` and ``AsyncHttpResponse`` (body read) are
    ones; the retry policy's ``Answer`` (status and headers) and its body."""

    @property
    def reason(self) -> str | None:
        """The reason phrase."""

    @property
    def content(self) -> bytes:
        """The body as bytes."""

    def text(self, encoding: str | None = None) -> str:
        """The body as text."""

    def json(self) -> JSONValue:
        """The body as JSON (``ValueError`` when it is not)."""


class StoreClient(Protocol):
    """The sync client as the sync uses it: ``with client:`` and ``send_request`` through its pipeline."""

    def send_request(self, request: HttpRequest, *, stream: bool = ..., **kwargs: object) -> HttpResponse:
        """Send ``request`` through the client's pipeline (auth, Sync-Token, the HTTP policy)."""

    def __enter__(self) -> object: ...

    def __exit__(self, *exc: object) -> None: ...


class AsyncStoreClient(Protocol):
    """The aio client as the async sync uses it: ``async with client:`` and an awaited ``send_request``."""

    def send_request(
        self, request: HttpRequest, *, stream: bool = ..., **kwargs: object
    ) -> Awaitable[AsyncHttpResponse]:
        """Send ``request`` through the client's pipeline (auth, Sync-Token, the HTTP policy)."""

    async def __aenter__(self) -> object: ...

    async def __aexit__(self, *exc: object) -> None: ...


Send = Callable[["HttpRequest", "Tries"], Awaitable[Answer]]
"""``send(request, tries)``, awaited: one call through the client's pipeline (its retries paced by the
run), its attempts counted in ``tries``; the listing's and the executor's way to send a request."""
