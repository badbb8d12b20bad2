"""Redis-backed flow store (and the one way this package connects to Redis).

Needs the optional extra ``redis`` (redis-py) and a Redis server 6.2 or later (``GETDEL``).
Every command has a deadline: connecting and each reply are bounded by socket timeouts, with at
most one retry on a broken connection, so a down or stalled server raises ``StoreUnavailable``
within about ``2 * (connect_timeout + timeout)`` seconds instead of hanging.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
import secrets
import time
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, TypeAlias
from urllib.parse import parse_qsl, urlsplit

from ..errors import FlowStateError
from ..flow_store import DEFAULT_FLOW_TTL_SECONDS, PendingFlow
from ..jsontypes import JSONInput, JSONObject
from ..text import clean, quoted_value, redact_url_text
from .errors import SealKeyError, SharedStoreError, StoreUnavailable
from .sealing import Sealer

if TYPE_CHECKING:
    import redis

DEFAULT_PREFIX = "app-connections:"
CONNECT_TIMEOUT_SECONDS = 1.0
COMMAND_TIMEOUT_SECONDS = 1.0
SCHEMES = ("redis", "rediss")

KeyRing: TypeAlias = "Sealer | str | Iterable[bytes | str] | None"
"""What the stores seal with: a ``Sealer``, a key setting string, or key bytes/strings (``None`` is
refused with ``SealKeyError``: the host supplies the keys)."""


def redact_url(url: str) -> str:
    """``scheme://host:port/db`` with any user name or password replaced by ``***`` (and without
    control characters); a URL without ``scheme://`` is shown with whatever precedes an ``@`` hidden."""
    if "://" not in url:
        return redact_url_text(url, 120)
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        port = parts.port
    except ValueError:
        return "<unparsable URL>"
    if ":" in host:
        host = f"[{host}]"
    auth = "***@" if parts.username or parts.password else ""
    return clean(f"{parts.scheme}://{auth}{host}{f':{port}' if port else ''}{parts.path}", 120)


def _seconds(text: str) -> bool:
    try:
        value = float(text)
    except ValueError:
        return False
    return 0 < value <= MAX_OPTION_SECONDS


def _whole(low: int, high: int) -> Callable[[str], bool]:
    return lambda text: re.fullmatch(r"[0-9]{1,10}", text.strip()) is not None and low <= int(text) <= high


_BOOLEANS = frozenset({"true", "false", "yes", "no", "1", "0", "y", "n", "t", "f"})
MAX_OPTION_SECONDS = 300.0
QUERY_OPTIONS: dict[str, tuple[Callable[[str], bool], str]] = {
    "db": (_whole(0, 2**31 - 1), "a database number (0, 1, ...)"),
    "socket_timeout": (_seconds, f"seconds, more than 0 and at most {MAX_OPTION_SECONDS:g}"),
    "socket_connect_timeout": (_seconds, f"seconds, more than 0 and at most {MAX_OPTION_SECONDS:g}"),
    "timeout": (_seconds, f"seconds, more than 0 and at most {MAX_OPTION_SECONDS:g}"),
    "health_check_interval": (_whole(0, 86400), "whole seconds, 0 to 86400"),
    "max_connections": (_whole(1, 10000), "a whole number from 1 to 10000"),
    "socket_keepalive": (lambda t: t.lower() in _BOOLEANS, "true or false"),
    "retry_on_timeout": (lambda t: t.lower() in _BOOLEANS, "true or false"),
    "ssl_check_hostname": (lambda t: t.lower() in _BOOLEANS, "true or false"),
    "protocol": (lambda t: t.strip() in ("2", "3"), "2 or 3 (RESP2 or RESP3)"),
}
"""The query options a Redis URL may carry, each with its check and what it must be (redis-py
hands any other name to the connection, where it fails only when a command is sent)."""


def url_problem(url: str) -> str | None:
    """What is wrong with a Redis URL (its scheme, host, port, database and query options), or
    None. Never echoes a password; option names are shown cleaned."""
    try:
        parts = urlsplit(url.strip())
        _ = parts.port  # raises on a bad port
        options = parse_qsl(parts.query, keep_blank_values=True, strict_parsing=bool(parts.query))
    except ValueError:
        return "is not a valid URL; use redis://[:password@]host[:port][/db] or rediss://... (TLS)"
    if parts.scheme not in SCHEMES:
        return "must start with redis:// or rediss:// (TLS)"
    if not parts.hostname:
        return "names no host; use redis://host:6379/0"
    database = parts.path.lstrip("/")
    if "/" in parts.path.lstrip("/") or (database and not QUERY_OPTIONS["db"][0](database)):
        return "has a path that is not a database number; use redis://host:6379/0"
    for name, value in options:
        known = QUERY_OPTIONS.get(name)
        if known is None:
            return f"has an unknown option {quoted_value(name, 40)}; the options are: {', '.join(QUERY_OPTIONS)}"
        if not known[0](value):
            return f"has option {name} that is not {known[1]}"
    return None


def connect(
    url: str, *, connect_timeout: float = CONNECT_TIMEOUT_SECONDS, timeout: float = COMMAND_TIMEOUT_SECONDS
) -> redis.Redis:
    """A ``redis.Redis`` client for ``url`` (``redis://`` or ``rediss://``) with bounded timeouts.

    Options in the URL's query (e.g. ``?socket_timeout=2``) override the defaults.
    """
    problem = url_problem(url)
    if problem:
        raise SharedStoreError(f"Redis URL {redact_url(url)} {problem}", code="redis_url_invalid")
    try:
        import redis
        from redis.backoff import NoBackoff
        from redis.retry import Retry
    except ImportError:
        raise SharedStoreError(
            'the Redis stores need redis-py: pip install "app-connections[redis]"', code="redis_missing"
        ) from None
    try:
        return redis.Redis.from_url(
            url.strip(),
            socket_connect_timeout=connect_timeout,
            socket_timeout=timeout,
            retry=Retry(NoBackoff(), 1),
            retry_on_timeout=False,
            health_check_interval=30,
        )
    except (ValueError, TypeError) as exc:  # what url_problem did not foresee: still never the password
        raise SharedStoreError(
            f"Redis URL {redact_url(url)} is refused by redis-py ({type(exc).__name__})", code="redis_url_invalid"
        ) from None


MAX_REPLY_BYTES = 1 << 20
"""The largest entry read back from Redis (sealed flows and tokens are a few KB)."""


def reply_bytes(client: object, reply: object, doing: str) -> bytes:
    """A Redis reply that should be a stored entry, as bytes; ``SharedStoreError`` when it is of
    another type (an integer, a list: another program wrote that key) or too large, so callers fall
    back as they do for an unreachable server (never ``bytes(n)`` of an integer reply)."""
    if isinstance(reply, str):
        try:
            reply = reply.encode("utf-8", "surrogateescape")
        except UnicodeEncodeError:  # a lone surrogate no decoding of bytes gives: not an entry of ours
            raise SharedStoreError(
                f"{describe_client(client)} answered {doing} with text that is no stored entry "
                "(another program may be writing under this key prefix)",
                code="redis_reply_invalid",
            ) from None
    if not isinstance(reply, (bytes, bytearray, memoryview)) or len(reply) > MAX_REPLY_BYTES:
        raise SharedStoreError(
            f"{describe_client(client)} answered {doing} with a {type(reply).__name__}, not a stored entry "
            "(another program may be writing under this key prefix)",
            code="redis_reply_invalid",
        )
    return bytes(reply)


def describe_client(client: object) -> str:
    """``host:port/db`` of a client, for messages (never its password)."""
    kw = getattr(getattr(client, "connection_pool", None), "connection_kwargs", None)
    if not isinstance(kw, Mapping):  # a client without a connection pool is just "Redis"
        return "Redis"
    return f"Redis at {kw.get('host', '?')}:{kw.get('port', '?')}/{kw.get('db', 0)}"


def unavailable(client: object, exc: BaseException, doing: str) -> StoreUnavailable:
    """The typed error for a Redis failure; names the server, never the URL's password."""
    kind = type(exc).__name__
    return StoreUnavailable(
        f"{describe_client(client)} failed while {doing} ({kind}); check that the server is up and reachable "
        "and that the URL's password is right",
        code="redis_unavailable",
    )


def make_sealer(keys: KeyRing) -> Sealer:
    """A ``Sealer`` from a ``Sealer``, a setting string, or key bytes/strings (``None`` is refused:
    the host supplies the keys, e.g. from its own setting or vault)."""
    if isinstance(keys, Sealer):
        return keys
    if keys is None:
        raise SealKeyError(
            "the Redis stores need encryption keys: pass keys= (a Sealer, a key setting string or key bytes); "
            "generate one with `python -m app_connections.stores.sealing`",
            field="keys",
        )
    if isinstance(keys, str):
        return Sealer.from_setting(keys)
    return Sealer(keys)


def _entry(plain: bytes) -> JSONObject:
    """A sealed entry's JSON object (``SharedStoreError`` for anything else)."""
    try:
        data = json.loads(plain)
    except (ValueError, RecursionError):
        data = None
    if not isinstance(data, dict) or "ticket" not in data:
        raise SharedStoreError("a stored OAuth flow is not in this package's format", code="redis_reply_invalid")
    return data


def hashed(prefix: str, kind: str, secret_part: str) -> str:
    """A Redis key from a hash of ``secret_part``: the raw value never reaches Redis."""
    return f"{prefix}{kind}:{hashlib.sha256(secret_part.encode('utf-8')).hexdigest()}"


_PUT_FLOW = """
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then
  redis.call('SET', KEYS[2], '1', 'PX', ARGV[2])
  return 1
end
return 0
"""


class RedisFlowStore:
    """``FlowStore`` on Redis: sealed, expiring on the server, taken at most once across processes.

    Single use holds against a replayed value too: the sealed entry carries a one-time ticket,
    stored beside it (under a hash of the ticket) and spent when the flow is taken, so
    writing a consumed entry back into Redis does not make its flow usable again."""

    def __init__(
        self,
        client: redis.Redis,
        *,
        keys: KeyRing,
        prefix: str = DEFAULT_PREFIX,
        ttl_seconds: int = DEFAULT_FLOW_TTL_SECONDS,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if ttl_seconds <= 0:
            raise ValueError("ttl_seconds must be positive")
        self._client = client
        self._sealer = make_sealer(keys)
        self._prefix = prefix
        self._ttl = ttl_seconds
        self._clock = clock
        self._put_flow = client.register_script(_PUT_FLOW)

    @classmethod
    def from_url(
        cls,
        url: str,
        *,
        keys: KeyRing,
        prefix: str = DEFAULT_PREFIX,
        ttl_seconds: int = DEFAULT_FLOW_TTL_SECONDS,
        connect_timeout: float = CONNECT_TIMEOUT_SECONDS,
        timeout: float = COMMAND_TIMEOUT_SECONDS,
    ) -> RedisFlowStore:
        """A store on a new client for ``url``, sealing with ``keys``."""
        sealer = make_sealer(keys)
        return cls(
            connect(url, connect_timeout=connect_timeout, timeout=timeout),
            keys=sealer,
            prefix=prefix,
            ttl_seconds=ttl_seconds,
        )

    def __repr__(self) -> str:
        return f"RedisFlowStore({describe_client(self._client)}, prefix={self._prefix!r}, ttl_seconds={self._ttl})"

    def key_for(self, state: str) -> str:
        """The Redis key of the flow started with ``state`` (a hash: the state never reaches Redis)."""
        return hashed(self._prefix, "flow", state)

    def _ticket_key(self, ticket: str) -> str:
        return hashed(self._prefix, "flow-ticket", ticket)  # 128 random bits: a plain hash hides it

    def put(self, flow: PendingFlow) -> None:
        """Store ``flow`` sealed, expiring on the server; raises ``StoreUnavailable`` if it was not stored."""
        import redis

        keys, args = self.sealed(flow)
        try:
            stored = self._put_flow(keys=keys, args=args)
        except redis.RedisError as exc:
            raise unavailable(self._client, exc, "storing an OAuth flow") from None
        self.check_stored(stored)

    def sealed(self, flow: PendingFlow) -> tuple[list[str], list[bytes | int]]:
        """The keys and arguments of the script that stores ``flow`` (sealed, with its one-time ticket)."""
        key = self.key_for(flow.state)
        remaining = min(float(self._ttl), flow.expires_at - self._clock())
        ttl_ms = max(1, math.ceil(remaining * 1000))
        ticket = secrets.token_hex(16)
        entry = {"flow": flow.to_dict(), "ticket": ticket}
        blob = self._sealer.seal(json.dumps(entry).encode("utf-8"), context=key.encode("utf-8"))
        return [key, self._ticket_key(ticket)], [blob, ttl_ms]

    @staticmethod
    def check_stored(stored: object) -> None:
        """``state_collision`` when the script found a flow with this state already."""
        if not stored:
            raise SharedStoreError(
                "an OAuth flow with this state already exists; start the connection again", code="state_collision"
            )

    def take(self, state: str) -> PendingFlow | None:
        """Remove and return the flow (``GETDEL``: of two replicas taking it at once, one gets it),
        spending its one-time ticket; ``FlowStateError`` (``state_replayed``) when the ticket is spent."""
        import redis

        key = self.key_for(state)
        try:
            blob = self._client.getdel(key)
        except redis.RedisError as exc:
            raise unavailable(self._client, exc, "taking an OAuth flow") from None
        if blob is None:
            return None
        data, ticket_key = self.opened(state, blob)
        try:
            spent = self._client.delete(ticket_key)
        except redis.RedisError as exc:
            raise unavailable(self._client, exc, "taking an OAuth flow") from None
        return self.flow_of(data, spent)

    def opened(self, state: str, blob: object) -> tuple[JSONObject, str]:
        """The entry sealed under ``state``'s key, and the key of its one-time ticket."""
        plain = self._sealer.open(
            reply_bytes(self._client, blob, "an OAuth flow"), context=self.key_for(state).encode()
        )
        data = _entry(plain)
        return data, self._ticket_key(str(data["ticket"]))

    @staticmethod
    def flow_of(data: JSONInput, spent: object) -> PendingFlow:
        """The flow of an opened entry whose ticket was spent now (``spent == 1``), else ``state_replayed``."""
        if spent != 1:
            raise FlowStateError(
                "this OAuth flow was already used (its one-time ticket is spent): a replayed callback or a "
                "replayed store entry; start the connection again",
                code="state_replayed",
            )
        try:
            return PendingFlow.from_dict(data["flow"])
        except (KeyError, TypeError, ValueError, AttributeError):
            raise SharedStoreError(
                "a stored OAuth flow is not in this package's format", code="redis_reply_invalid"
            ) from None
