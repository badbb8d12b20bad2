"""The HTTP policy's checks of what answered: a token answer's shape (``check_token_answer``), a body
described without its content (``describe_body``), a certificate this machine does not trust
(``untrusted_certificate``)."""

from __future__ import annotations

import math

from .errors import MalformedAnswer

TOKEN_NUMBER_FIELDS = ("expires_in", "ext_expires_in", "refresh_in")
MAX_TOKEN_SECONDS = 10 * 365 * 24 * 3600


def describe_body(body: bytes, content_type: str | None = None) -> str:
    """What a body looks like, never what it says (it may hold tokens): type, size, first character."""
    text = body.lstrip()[:1].decode("ascii", "replace") if body.strip() else ""
    kind = "HTML" if text == "<" else ("empty" if not text else "text")
    shown = f"{kind} ({len(body)} bytes"
    if content_type:
        from app_connections.text import clean

        shown += f", Content-Type {clean(content_type, 60)}"
    return shown + ")"


def check_token_answer(body: bytes, content_type: str | None, where: str) -> None:
    """Raise ``MalformedAnswer`` unless ``body`` is a JSON object whose number fields are finite, positive numbers."""
    import json

    try:
        data = json.loads(body)
    except (ValueError, RecursionError):
        raise MalformedAnswer(
            f"the identity platform at {where} answered with {describe_body(body, content_type)}, not JSON; "
            "check that the login host is the Microsoft identity platform (or a proxy is not rewriting answers)",
            code="malformed_answer",
        ) from None
    if not isinstance(data, dict):
        raise MalformedAnswer(
            f"the identity platform at {where} answered with a JSON {type(data).__name__}, not an object",
            code="malformed_answer",
        )
    for name in TOKEN_NUMBER_FIELDS:
        if name not in data:
            continue
        value = data[name]
        try:
            number = float(value) if isinstance(value, (int, float, str)) and not isinstance(value, bool) else math.nan
        except (ValueError, OverflowError):
            number = math.nan
        if not (math.isfinite(number) and 0 <= number <= MAX_TOKEN_SECONDS):
            shown = (
                "null"
                if value is None
                else (type(value).__name__ if not isinstance(value, (int, float)) else repr(value)[:40])
            )
            raise MalformedAnswer(
                f"the identity platform at {where} sent a token answer whose {name} is {shown}, "
                f"not a number of seconds between 0 and {MAX_TOKEN_SECONDS}",
                code="malformed_answer",
            )


CERTIFICATE_UNTRUSTED = "certificate_untrusted"
CERTIFICATE_FIX = (
    "if it (or a proxy in front of it) uses a private or corporate CA, set REQUESTS_CA_BUNDLE to a PEM file "
    "holding that CA (docs/limits.md: Trusting a private CA)"
)


def untrusted_certificate(exc: BaseException | None, whose: str = "the store's") -> str | None:
    """The message for a TLS certificate this machine does not trust (``CERTIFICATE_VERIFY_FAILED``)
    anywhere in ``exc``'s chain (azure-core, requests and urllib3 each wrap it), else None.
    ``whose`` names the server (``the store's``, ``the Microsoft identity platform's``)."""
    import ssl

    chain: list[BaseException] = []
    pending: list[BaseException] = [exc] if exc is not None else []
    while pending and len(chain) < 50:
        current = pending.pop()
        if any(current is e for e in chain):
            continue
        chain.append(current)
        linked = [getattr(current, "inner_exception", None), getattr(current, "reason", None)]
        linked += [current.__cause__, current.__context__, *current.args]
        pending.extend(e for e in linked if isinstance(e, BaseException))
    verifier = next((e for e in chain if isinstance(e, ssl.SSLCertVerificationError)), None)
    if verifier is None and not any("CERTIFICATE_VERIFY_FAILED" in str(e) for e in chain):
        return None
    from app_connections.text import clean

    # ssl sets verify_message on the errors it raises; one made by hand may lack it
    said = getattr(verifier, "verify_message", None)
    why = f": {clean(said, 120)}" if isinstance(said, str) and said else ""
    return (
        f"{whose} TLS certificate is not trusted on this machine (CERTIFICATE_VERIFY_FAILED{why}); " + CERTIFICATE_FIX
    )
