"""A token cache shared by every replica, for non-interactive (app-only) tokens.

The seam: a credential builds a ``TokenKey`` and calls ``cache.get_or_fetch(key, fetch)``, where
``fetch`` is how it gets a token without the shared cache (MSAL). The cache answers from Redis
when it can; otherwise one replica takes a short lock (redis-py's ``redis.lock.Lock``) and fetches
while the others wait for its result. A fleet therefore asks the identity platform once per token
lifetime, not once per replica.

Bounded duplicates: a lock lives ``lock_seconds``; a replica that waited ``wait_seconds`` without
seeing a token fetches its own (and stores it). So a holder that dies or stalls costs at most one
extra request per waiting replica, never a hang. Waiters never block inside the lock: each try is
non-blocking, and between tries they sleep ``poll_seconds`` (on the injected ``sleep``) and read the
entry again, so a token the holder wrote is used as soon as it is there.

Each process remembers a token it read or wrote until the token needs refreshing, so a warm
``get_token`` makes no Redis round trip; Redis is read again when the token enters its refresh
window (and then holds the token another replica refreshed, or the lock decides who refreshes).

Faults never fail the caller: when Redis is down, slow, or an entry does not open, the cache logs a
warning (once, until Redis works again) and calls ``fetch`` directly. Errors raised by ``fetch``
itself (a wrong secret, throttling) reach the caller unchanged.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import math
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Protocol, runtime_checkable

import attrs
from azure.core.credentials import AccessTokenInfo

from app_connections.stores.errors import SharedStoreError
from app_connections.stores.redis import DEFAULT_PREFIX, KeyRing, make_sealer, reply_bytes, unavailable

from .seal_key import sealer_from_env

if TYPE_CHECKING:
    import redis
    from redis.lock import Lock

logger = logging.getLogger("azure_appconfig_plugin.stores")

REFRESH_MARGIN_SECONDS = 300
"""A shared token is refreshed this long before it expires (as MSAL and the OAuth credential do)."""
MEMO_MAX = 1024
"""Tokens this process keeps after reading them from Redis (per cache object)."""
STALE_GRACE_SECONDS = 30
"""While one replica refreshes, the others keep serving the old token until this close to expiry."""

Fetch = Callable[[], AccessTokenInfo]


def _proof(kind: str, *material: bytes) -> str:
    return hashlib.sha256(b"\x00".join((kind.encode("ascii"), *material))).hexdigest()


@attrs.frozen
class TokenKey:
    """What makes two token requests interchangeable: the authority, the client, the scope, and the
    proof the credential holds (its secret material). A cached token is handed only to a credential
    holding the same material: the Redis key is a keyed hash (HMAC under the fleet's sealing key) of
    all four, so neither the material nor an offline-guessable hash of it ever reaches Redis."""

    authority: str
    client_id: str
    scope: str
    proof: str = attrs.field(repr=False)
    """A hash of the secret material (never the material itself)."""

    @classmethod
    def for_client_secret(cls, authority: str, client_id: str, scope: str, client_secret: str) -> TokenKey:
        """Keyed by the secret: another secret of the same client never gets this token."""
        proof = _proof("client-secret", client_secret.encode("utf-8"))
        return cls(authority.lower().rstrip("/"), client_id.lower(), scope, proof)

    @classmethod
    def for_certificate(
        cls, authority: str, client_id: str, scope: str, sha256_thumbprint: str, private_key: bytes
    ) -> TokenKey:
        """Keyed by the certificate and its private key (``private_key``: the key's private bytes, e.g.
        its private exponent): a token is handed only to a credential holding that key."""
        proof = _proof("certificate", sha256_thumbprint.upper().encode("ascii"), private_key)
        return cls(authority.lower().rstrip("/"), client_id.lower(), scope, proof)

    @classmethod
    def for_workload_identity(cls, authority: str, client_id: str, scope: str, assertion: str) -> TokenKey:
        """Keyed by the exact federated token (the assertion) as well: only the identity platform can
        check an assertion, so a token is shared only with a credential presenting the same one (a
        pod's replicas reading one projected token), never with another assertion for the same
        tenant and client, which gets its own answer. The assertion itself is never stored."""
        proof = _proof("workload-identity", assertion.encode("utf-8"))
        return cls(authority.lower().rstrip("/"), client_id.lower(), scope, proof)

    def identity(self) -> bytes:
        """What the cache hashes, under its key, into the Redis key."""
        return json.dumps([self.authority, self.client_id, self.scope, self.proof]).encode("utf-8")


@runtime_checkable
class SharedTokenCache(Protocol):
    """What a credential shares its app-only tokens through (``RedisTokenCache`` is the one here)."""

    def get_or_fetch(self, key: TokenKey, fetch: Fetch) -> AccessTokenInfo:
        """The shared token for ``key``, calling ``fetch`` (at most once) when there is none."""

    def put(self, key: TokenKey, token: AccessTokenInfo) -> None:
        """Replace the shared token (e.g. one issued after a claims challenge); never raises."""


class RedisTokenCache:
    """``SharedTokenCache`` on Redis: sealed entries, expiring with the token, a short refresh lock."""

    def __init__(
        self,
        client: redis.Redis,
        *,
        keys: KeyRing = None,
        prefix: str = DEFAULT_PREFIX,
        lock_seconds: float = 10.0,
        wait_seconds: float = 5.0,
        poll_seconds: float = 0.02,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if not lock_seconds >= 0.001:  # redis-py's Lock has no expiry for 0: a dead holder would stay forever
            raise ValueError("lock_seconds must be at least 0.001")
        self._client = client
        self._sealer = sealer_from_env() if keys is None else make_sealer(keys)
        self._prefix = prefix
        self._lock_seconds = lock_seconds
        self._wait = wait_seconds
        self._poll = poll_seconds
        self._clock = clock
        self._sleep = sleep
        self._warned = False
        self._warn_lock = threading.Lock()
        self._memo: dict[str, AccessTokenInfo] = {}  # tokens read from Redis, served while fresh
        self._memo_lock = threading.Lock()

    def __repr__(self) -> str:
        return f"RedisTokenCache(prefix={self._prefix!r})"

    # -- the seam -------------------------------------------------------------------------------
    def get_or_fetch(self, key: TokenKey, fetch: Fetch) -> AccessTokenInfo:
        """The shared token for ``key``; ``fetch`` is called by the replica holding the refresh lock,
        or by any replica when Redis fails or the holder is stuck past ``wait_seconds``."""
        rkey = self._key(key)
        with self._memo_lock:
            memo = self._memo.get(rkey)
        if memo is not None and self._fresh(memo, self._clock()):
            return memo  # this process already read it from Redis: no round trip until it needs refreshing
        try:
            entry = self._read(rkey)
        except SharedStoreError as exc:
            return self._fallback(exc, fetch)
        now = self._clock()
        if entry is not None and self._fresh(entry, now):
            self._recovered()
            return self._remember(rkey, entry)
        stale = entry if entry is not None and entry.expires_on - STALE_GRACE_SECONDS > now else None
        deadline = now + self._wait
        lock = self._lock(rkey.replace(":token:", ":token-lock:", 1))
        while True:
            try:
                acquired = self._acquire(lock)
            except SharedStoreError as exc:
                return stale or self._fallback(exc, fetch)
            if acquired:
                return self._refresh(rkey, lock, fetch)
            if stale is not None:  # someone else refreshes; the old token is still good
                return stale
            self._sleep(self._poll)
            try:
                entry = self._read(rkey)
            except SharedStoreError as exc:
                return self._fallback(exc, fetch)
            if entry is not None and self._fresh(entry, self._clock()):
                return self._remember(rkey, entry)
            if self._clock() >= deadline:  # the holder is stuck: a bounded duplicate
                token = fetch()
                self._write_quietly(rkey, token)
                return token

    def put(self, key: TokenKey, token: AccessTokenInfo) -> None:
        """Replace the shared token for ``key`` (sealed, expiring with the token); never raises."""
        self._write_quietly(self._key(key), token)

    # -- steps ----------------------------------------------------------------------------------
    def _key(self, key: TokenKey) -> str:
        return f"{self._prefix}token:{self._sealer.keyed_hash(b'token', key.identity())}"

    def _remember(self, rkey: str, token: AccessTokenInfo) -> AccessTokenInfo:
        with self._memo_lock:
            if len(self._memo) >= MEMO_MAX and rkey not in self._memo:
                self._memo.clear()  # bounded; entries are only a shortcut to Redis
            self._memo[rkey] = token
        return token

    def _refresh(self, rkey: str, lock: Lock, fetch: Fetch) -> AccessTokenInfo:
        try:
            try:
                entry = self._read(rkey)  # another replica may have refreshed just before our lock
            except SharedStoreError:
                entry = None
            if entry is not None and self._fresh(entry, self._clock()):
                return self._remember(rkey, entry)
            token = fetch()
            self._write_quietly(rkey, token)
            return token
        finally:
            with contextlib.suppress(Exception):  # the lock expires on its own (and is never another's)
                lock.release()

    def _fresh(self, token: AccessTokenInfo, now: float) -> bool:
        if token.refresh_on is not None and now >= token.refresh_on:
            return False
        return token.expires_on - now > REFRESH_MARGIN_SECONDS

    def _read(self, rkey: str) -> AccessTokenInfo | None:
        import redis

        try:
            blob = self._client.get(rkey)
        except redis.RedisError as exc:
            raise unavailable(self._client, exc, "reading the shared token cache") from None
        if blob is None:
            return None
        plain = self._sealer.open(reply_bytes(self._client, blob, "a token read"), context=rkey.encode("utf-8"))
        try:
            data = json.loads(plain)
            token, expires_on, refresh_on = data["token"], data["expires_on"], data.get("refresh_on")
            if not isinstance(token, str) or not all(
                isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)
                for v in (expires_on, *([] if refresh_on is None else [refresh_on]))
            ):
                raise TypeError
            return AccessTokenInfo(token, int(expires_on), refresh_on=refresh_on)
        except (ValueError, TypeError, KeyError, AttributeError, RecursionError):
            raise SharedStoreError(
                "a shared token cache entry is not in this package's format", code="redis_reply_invalid"
            ) from None

    def _write_quietly(self, rkey: str, token: AccessTokenInfo) -> None:
        import redis

        ttl_ms = int((token.expires_on - self._clock()) * 1000)
        if ttl_ms <= 0:
            return
        data = {"token": token.token, "expires_on": token.expires_on, "refresh_on": token.refresh_on}
        blob = self._sealer.seal(json.dumps(data).encode("utf-8"), context=rkey.encode("utf-8"))
        try:
            self._client.set(rkey, blob, px=ttl_ms)
        except redis.RedisError as exc:
            self._warn(unavailable(self._client, exc, "writing the shared token cache"))
        else:
            self._recovered()
            self._remember(rkey, token)

    def _lock(self, lkey: str) -> Lock:
        """redis-py's lock on ``lkey``, living ``lock_seconds``; its value is a random token (no secret)."""
        from redis.lock import Lock

        return Lock(self._client, lkey, timeout=self._lock_seconds, blocking=False, thread_local=False)

    def _acquire(self, lock: Lock) -> bool:
        """One non-blocking try (``SET NX PX``): the wait between tries is ``get_or_fetch``'s, bounded."""
        import redis

        try:
            return bool(lock.acquire(blocking=False))
        except redis.RedisError as exc:
            raise unavailable(self._client, exc, "locking the shared token cache") from None

    # -- faults ---------------------------------------------------------------------------------
    def _fallback(self, exc: SharedStoreError, fetch: Fetch) -> AccessTokenInfo:
        self._warn(exc)
        return fetch()

    def _warn(self, exc: SharedStoreError) -> None:
        with self._warn_lock:
            if self._warned:
                return
            self._warned = True
        logger.warning("shared token cache unavailable, asking the identity platform directly: %s", exc)

    def _recovered(self) -> None:
        if self._warned:
            with self._warn_lock:
                self._warned = False
