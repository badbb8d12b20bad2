"""The one vcrpy configuration: replay-only by default, sanitizing, stable matching."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING
from urllib.parse import parse_qsl, urlsplit

from .sanitize import Sanitizer

if TYPE_CHECKING:
    import vcr
    from vcr.request import Request

VOLATILE_QUERY_PARAMS = frozenset({"client-request-id", "state", "nonce", "code_challenge", "_"})
"""Query parameters that change on every run and are ignored when matching."""


def _stable_query(request: Request) -> list[tuple[str, str]]:
    pairs = parse_qsl(urlsplit(request.uri).query, keep_blank_values=True)
    return sorted((k, v) for k, v in pairs if k.lower() not in VOLATILE_QUERY_PARAMS)


def stable_query_matcher(r1: Request, r2: Request) -> None:
    """Every query parameter (``api-version`` included) must match, except volatile ones."""
    q1, q2 = _stable_query(r1), _stable_query(r2)
    if q1 != q2:
        raise AssertionError(f"query differs: {q1} != {q2}")


LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
"""Hosts of local test servers, whose ports are ephemeral: a port there never decides a match."""


def stable_port_matcher(r1: Request, r2: Request) -> None:
    """Ports must match, except between two loopback hosts (a provider's own HTTPS test server gets
    a new port every run, and its cassette must still replay)."""
    if r1.host in LOOPBACK_HOSTS and r2.host in LOOPBACK_HOSTS:
        return
    if r1.port != r2.port:
        raise AssertionError(f"port differs: {r1.port} != {r2.port}")


MATCH_ON = ("method", "scheme", "host", "stable_port", "path", "stable_query")


def make_vcr(
    cassette_dir: str | os.PathLike[str], *, record_mode: str = "none", sanitizer: Sanitizer | None = None
) -> vcr.VCR:
    """A ``vcr.VCR`` with our matching and sanitizing. ``record_mode`` is vcrpy's."""
    import vcr

    sanitizer = sanitizer or Sanitizer()
    v = vcr.VCR(
        cassette_library_dir=str(cassette_dir),
        serializer="yaml",
        record_mode=record_mode,
        match_on=MATCH_ON,
        before_record_request=sanitizer.request,
        before_record_response=sanitizer.response,
        decode_compressed_response=True,
        record_on_exception=False,
    )
    v.register_matcher("stable_query", stable_query_matcher)
    v.register_matcher("stable_port", stable_port_matcher)
    return v
