"""The host pin: a session or client is pinned to the host and port it was made for (``pin``), and
``refusal`` is the one place that decides whether it may go to a URL (another host, or an unusable
address, is refused before a connection is opened); ``redirect_refusal`` applies it to a redirect's
Location, for the sync and the async transport alike."""

from __future__ import annotations

import contextlib
from urllib.parse import urljoin, urlsplit

from .errors import ForeignHostRefused, RedirectRefused

Pin = tuple[str, int]
"""The host (lower case) and port a session is pinned to."""


def pin(host: str, port: int) -> Pin:
    """The pin of a session made for ``host:port``: host names compare case-insensitively."""
    return host.lower(), port


UNUSABLE_ADDRESS = {
    "url": "it does not parse as a URL",
    "scheme": "its scheme is neither https nor http",
    "host": "it names no host",
    "port": "its port is not a number from 1 to 65535",
}
"""Why a URL is an unusable address (never the pinned host), by what is wrong with it."""


def _address(url: str) -> tuple[str, int] | str:
    """``url``'s host and port (as ``host_port``), or the ``UNUSABLE_ADDRESS`` key of what makes it
    unusable: one parse for ``refusal``, which runs before every request."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        return "port" if "port" in str(exc).lower() else "url"
    scheme = parts.scheme.lower()
    if scheme not in ("https", "http"):
        return "scheme"
    host = parts.hostname
    if not host:
        return "host"
    if port is not None and not 0 < port <= 65535:
        return "port"
    return host.lower(), port if port is not None else (443 if scheme == "https" else 80)


def unusable(url: str) -> str | None:
    """Why ``url`` is not a usable address (an ``UNUSABLE_ADDRESS`` text), or None when it is one."""
    found = _address(url)
    return UNUSABLE_ADDRESS[found] if isinstance(found, str) else None


def shown_host(url: str) -> str:
    """The host (and port) a URL names, as it may be shown: no user info, bounded, control-stripped."""
    from app_connections.text import clean

    rest = url.split("://", 1)[-1]
    for end in "/?#\\":
        rest = rest.split(end, 1)[0]
    return clean(rest.rsplit("@", 1)[-1], 100) or "(no host)"


def refusal(url: str, pinned: Pin, kind: str, *, redirect_status: int | None = None) -> ForeignHostRefused | None:
    """The one place that decides whether a session pinned to ``pinned`` may go to ``url``: None when
    it may, else the error saying why not (another host, or an unusable address). ``redirect_status``
    is the status of the redirect answer whose Location ``url`` is (None for a link or a request)."""
    found = _address(url)
    if not isinstance(found, str):
        if found == pinned:
            return None
        why = "another host"
    else:
        why = f"an unusable address: {UNUSABLE_ADDRESS[found]}"
    where = f"{pinned[0]}:{pinned[1]}"
    host = shown_host(url)
    safe = f"this {kind} connection is pinned to {where}, so nothing (no token, no secret) was sent there"
    if redirect_status is None:
        return ForeignHostRefused(
            f"refused to follow a link or redirect to {host} ({why}): {safe}", code="foreign_host"
        )
    return RedirectRefused(
        f"{where} answered {redirect_status} with a redirect to {host} ({why}); the redirect was refused: {safe}",
        status=redirect_status,
        location_host=host,
    )


def redirect_refusal(location: str, answer_url: str, status: int, pinned: Pin, kind: str) -> ForeignHostRefused | None:
    """``refusal`` of a redirect answer's ``location`` (resolved against ``answer_url`` as requests and
    aiohttp resolve it), for the sync and the async transport alike."""
    target = location
    with contextlib.suppress(ValueError):  # one that does not resolve is refused as unusable below
        if target.startswith("//"):  # resolved as requests resolves it (RFC 7231 7.1.2)
            target = f"{urlsplit(answer_url).scheme}:{target}"
        parts = urlsplit(target)
        if not parts.scheme and not parts.netloc:  # a relative reference: on the answer's host
            target = urljoin(answer_url, target)
        # An absolute one with no host (https:///kv) is not resolved against the answer's host:
        # an http(s) URI must name one (RFC 9110 4.2.1), so refusal() refuses it as unusable.
    return refusal(target, pinned, kind, redirect_status=status)


def host_port(url: str) -> Pin:
    """The host and port of a usable URL, as messages show them (``refusal`` or ``unusable`` has
    passed it; an unusable one gives an empty host and port 0, to which nothing is sent)."""
    found = _address(url)
    return ("", 0) if isinstance(found, str) else found
