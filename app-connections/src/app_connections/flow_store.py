"""Server-side storage of pending OAuth flows, keyed by ``state``: single use, expiring.

A host backs ``FlowStore`` with its own storage (Redis, a database row) to run the flow across
processes; ``InMemoryFlowStore`` serves a single process and the CLI.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Protocol, runtime_checkable

import attrs

from .jsontypes import JSONInput, JSONObject

DEFAULT_FLOW_TTL_SECONDS = 600


@attrs.frozen
class PendingFlow:
    """The secret half of an authorization request; never sent to the browser."""

    state: str
    nonce: str = attrs.field(repr=False)
    code_verifier: str = attrs.field(repr=False)
    tenant: str
    cloud: str
    redirect_uri: str
    client_id: str
    scopes: tuple[str, ...]
    expires_at: float

    def to_dict(self) -> JSONObject:
        """JSON-ready form for hosts that store flows outside the process."""
        return {**attrs.asdict(self), "scopes": list(self.scopes)}

    @classmethod
    def from_dict(cls, data: JSONInput) -> PendingFlow:
        """The flow stored as ``to_dict`` wrote it."""
        return cls(**{**data, "scopes": tuple(data["scopes"])})


@runtime_checkable
class FlowStore(Protocol):
    """Where pending sign-in flows wait between ``begin`` and the callback, each taken once."""

    def put(self, flow: PendingFlow) -> None:
        """Keep ``flow`` until it is taken or expires."""

    def take(self, state: str) -> PendingFlow | None:
        """Remove and return the flow for ``state`` (atomically: a second take gets None)."""


class InMemoryFlowStore:
    """Thread-safe, bounded, in-process ``FlowStore``."""

    def __init__(self, *, max_flows: int = 10_000, clock: Callable[[], float] = time.time) -> None:
        self._flows: dict[str, PendingFlow] = {}
        self._lock = threading.Lock()
        self._max = max_flows
        self._clock = clock

    def put(self, flow: PendingFlow) -> None:
        """Keep ``flow`` until it is taken or expires (expired flows are dropped here)."""
        with self._lock:
            now = self._clock()
            for state in [s for s, f in self._flows.items() if f.expires_at <= now]:
                del self._flows[state]
            if len(self._flows) >= self._max:
                oldest = min(self._flows.values(), key=lambda f: f.expires_at)
                del self._flows[oldest.state]
            self._flows[flow.state] = flow

    def take(self, state: str) -> PendingFlow | None:
        """The flow started with ``state``, removed so it is taken once; None when unknown."""
        with self._lock:
            return self._flows.pop(state, None)

    def __len__(self) -> int:
        with self._lock:
            return len(self._flows)
