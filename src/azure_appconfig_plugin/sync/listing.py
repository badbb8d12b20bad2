"""Listing the scope once, every page, within the run's bounds: the rules written once as coroutines
(``list_pages``, ``get_page``) that the sync listing (``list_scope``) runs at once and the async sync
(``aio.sync``) awaits. Retries are the client pipeline's, paced by the run (``http.pace``)."""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING

import attrs

from app_connections.text import clean

from ..http.pace import StatusLine, Tries
from ..http.retry import TRANSIENT_STATUSES
from .apply import PolicyRefusal, _error_text, call, sender
from .entries import Entry
from .scope import Scope, encode_query
from .wire import Answer, Send, StoreClient

if TYPE_CHECKING:
    from azure.core.rest import HttpRequest

    from app_connections.jsontypes import JSONInput

LIST_FIELDS = ["key", "label", "value", "content_type", "tags", "etag", "locked"]
MAX_PAGES = 2_000
"""Pages one run lists at most: 200,000 entries at the service's 100 per page; more means a scope
beyond what one sync run handles, or a store answering in a loop."""
MAX_LIST_BYTES = 256 * 1024 * 1024
"""Bytes of list answers one run reads at most (entries are at most 10 KB each)."""


class ListFailed(Exception):
    """Listing the scope did not complete; nothing was planned or changed. ``code`` is the HTTP
    policy's refusal code when the policy (or the same rule here) stopped it."""

    def __init__(self, message: str, code: str | None = None) -> None:
        super().__init__(message)
        self.code = code


KVSET_ACCEPT = "application/vnd.microsoft.appconfig.kvset+json, application/problem+json"


def _next_request(link: str, store_url: str) -> HttpRequest:
    """The next page's request on the store's own client: the link's path and query as given (the
    query is already encoded: never decoded and re-encoded); an absolute link must name the store's
    host and port (the host pin), and every link the path ``/kv``."""
    from urllib.parse import parse_qsl, urlsplit

    from azure.core.rest import HttpRequest

    from ..http.pin import host_port, refusal
    from ..store import API_VERSION

    parts = urlsplit(link)
    refused = refusal(link, host_port(store_url), "store") if parts.scheme or parts.netloc else None
    if refused is not None:  # the one host pin decides, as for every request and redirect
        raise ListFailed(f"the store sent a next-page link that is not followed: {refused.message}", refused.code)
    if parts.path != "/kv":
        raise ListFailed(f"the store sent a next-page link outside /kv ({clean(parts.path, 100)}); not followed")
    query = parts.query
    if not any(name == "api-version" for name, _ in parse_qsl(query, keep_blank_values=True)):
        query = "&".join(p for p in (query, encode_query({"api-version": API_VERSION})) if p)
    # azure-core formats a URL as a template: braces (never valid raw in a URL) are sent encoded
    query = query.replace("{", "%7B").replace("}", "%7D")
    return HttpRequest("GET", f"/kv?{query}", headers={"Accept": KVSET_ACCEPT})


def _link_next(response: Answer, body: JSONInput) -> str | None:
    link = body.get("@nextLink")
    if isinstance(link, str) and link:
        return link
    header = response.headers.get("Link") or ""
    if 'rel="next"' in header and "<" in header and ">" in header:
        return header[header.index("<") + 1 : header.index(">")]
    return None


async def get_page(send: Send, request: HttpRequest) -> Answer:
    """One page through the client's pipeline (429s, 5xx and connection errors retried there, paced
    by the run); ``ListFailed`` saying why when its last answer is not the page."""
    tries = Tries()
    try:
        response = await call(send, request, tries)
    except PolicyRefusal as found:  # the one HTTP policy refused: never retried
        raise ListFailed(f"{found.code}: {found}", found.code) from None
    if isinstance(response, str):  # no answer: a transport error, the retries spent
        raise ListFailed(f"{response}; gave up after {tries.attempts} attempts")
    status = response.status_code
    if status == 200:
        return response
    if status == 429:
        raise ListFailed(f"429: throttled {tries.throttled} time(s); gave up (waits are capped)")
    if status in TRANSIENT_STATUSES:
        raise ListFailed(f"{status}: {_error_text(response) or 'server error'} after {tries.attempts} attempts")
    raise ListFailed(f"{status}: {_error_text(response) or ('server error' if status >= 500 else 'listing refused')}")


@attrs.frozen
class ListBounds:
    """What one run's listing may read: pages and bytes of answers (declared, injectable)."""

    pages: int = MAX_PAGES
    bytes: int = MAX_LIST_BYTES


def list_scope(
    client: StoreClient,
    scope: Scope,
    store_url: str,
    *,
    deadline: float | None = None,
    bounds: ListBounds | None = None,
    status: StatusLine | None = None,
) -> list[Entry]:
    """List the scope once, every page: its label only (``\\0`` for the null label, never all labels),
    its key prefix only, reserved characters escaped, every query value encoded once; next-page
    links are followed as given and must stay on the store. Only entries that fit the scope are
    kept, and the pages and bytes read are bounded (``bounds``). Throttling and transient errors are
    retried by the client's pipeline, paced by the run (its waits drawn from the run's budget,
    shared with the writes); no page is requested after ``deadline``."""
    import time

    from ..http.deadlines import operation_deadline
    from ..sansio import run_now

    bound = operation_deadline(deadline - time.monotonic()) if deadline is not None else contextlib.nullcontext()
    with bound:  # the policy's deadline model: no request of the listing outlives the run's deadline
        return run_now(list_pages(sender(client), scope, store_url, deadline, bounds or ListBounds(), status))


LIST_TOO_LARGE = "listing_too_large"


async def list_pages(
    send: Send,
    scope: Scope,
    store_url: str,
    deadline: float | None,
    bounds: ListBounds,
    status: StatusLine | None = None,
) -> list[Entry]:
    """``list_scope``'s pages: ``send`` is awaited (the sync listing's never suspends; the async
    sync's is the aio client's)."""
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
        response = await get_page(send, request)
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
