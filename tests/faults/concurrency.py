"""Many threads asking for a token at once: single-flight token requests."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any


def tokens_at_once(
    make_credential: Callable[[], Any], scope: str, threads: int = 16
) -> tuple[list[str], list[BaseException]]:
    """``threads`` threads each take a credential from ``make_credential`` and, released together by a
    barrier, ask it for a ``scope`` token; returns the tokens and the errors raised."""
    barrier = threading.Barrier(threads)
    tokens: list[str] = []
    errors: list[BaseException] = []

    def work() -> None:
        cred = make_credential()
        barrier.wait()
        try:
            tokens.append(cred.get_token(scope).token)
        except BaseException as exc:  # collected for the caller to assert empty
            errors.append(exc)

    started = [threading.Thread(target=work) for _ in range(threads)]
    for t in started:
        t.start()
    for t in started:
        t.join(30)
    return tokens, errors
