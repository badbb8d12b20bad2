"""Authenticated encryption (AES-256-GCM) of what the shared stores keep in Redis.

A *key ring* is one or more 32-byte keys. The first key seals; every key opens, so a key can be
rotated without losing entries in flight: put the new key first, keep the old one second until
the longest-lived entry sealed with it has expired (a token's lifetime, about an hour), then drop
it. The setting holds the keys base64url-encoded, comma-separated.

A sealed blob is ``version (1 byte) | key id (4 bytes) | nonce (12 bytes) | ciphertext+tag``.
The key id (a hash prefix of the key, not the key) picks the key that opens it. The Redis key the
blob is stored under is bound in as associated data, so a blob moved to another key does not open.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import secrets
from collections.abc import Iterable

from .errors import SealError, SealKeyError

KEY_BYTES = 32
_VERSION = b"\x01"
_ID_BYTES = 4
_NONCE_BYTES = 12
_HEADER = len(_VERSION) + _ID_BYTES + _NONCE_BYTES


def generate_key() -> str:
    """A new random key in the setting's format (base64url, 32 bytes)."""
    return base64.urlsafe_b64encode(secrets.token_bytes(KEY_BYTES)).decode("ascii")


def _key_id(key: bytes) -> bytes:
    return hashlib.sha256(b"app-connections seal key id\x00" + key).digest()[:_ID_BYTES]


def parse_keys(value: str, *, setting: str = "encryption key") -> list[bytes]:
    """Decode a comma-separated list of base64url keys; raise ``SealKeyError`` naming the bad one."""
    keys: list[bytes] = []
    for position, part in enumerate((p.strip() for p in value.split(",")), start=1):
        if not part:
            continue
        try:
            key = base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))
        except (binascii.Error, ValueError):
            key = b""
        if len(key) != KEY_BYTES:
            raise SealKeyError(
                f"{setting}: key #{position} is not {KEY_BYTES} bytes of base64url; generate one with "
                "`python -m app_connections.stores.sealing`",
                field=setting,
            )
        keys.append(key)
    if not keys:
        raise SealKeyError(
            f"{setting} is empty; generate a key with `python -m app_connections.stores.sealing`",
            field=setting,
        )
    return keys


class Sealer:
    """Seals with the first key of the ring, opens with any of them."""

    def __init__(self, keys: Iterable[bytes | str]) -> None:
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM

        raw = [parse_keys(k)[0] if isinstance(k, str) else bytes(k) for k in keys]
        if not raw or any(len(k) != KEY_BYTES for k in raw):
            raise SealKeyError(f"a key ring needs at least one key of {KEY_BYTES} bytes")
        self._ciphers = {_key_id(k): AESGCM(k) for k in reversed(raw)}
        self._sealing_id = _key_id(raw[0])
        self._hash_root = hmac.new(raw[0], b"app-connections keyed hash", hashlib.sha256).digest()

    @classmethod
    def from_setting(cls, value: str, *, setting: str = "encryption key") -> Sealer:
        """A sealer from a key setting (comma-separated base64url keys); errors name ``setting``."""
        return cls(parse_keys(value, setting=setting))

    def __repr__(self) -> str:
        return f"Sealer(keys={len(self._ciphers)})"

    def keyed_hash(self, purpose: bytes, data: bytes) -> str:
        """Hex HMAC-SHA256 of ``data`` under a key derived from the sealing key for ``purpose``: the
        same on every replica with the same first key; not computable, nor guessable offline, without it."""
        derived = hmac.new(self._hash_root, purpose, hashlib.sha256).digest()
        return hmac.new(derived, data, hashlib.sha256).hexdigest()

    def seal(self, plaintext: bytes, *, context: bytes) -> bytes:
        """AES-256-GCM under the first key, with a fresh nonce, bound to ``context`` (the Redis key)."""
        nonce = os.urandom(_NONCE_BYTES)
        body = self._ciphers[self._sealing_id].encrypt(nonce, plaintext, _VERSION + context)
        return _VERSION + self._sealing_id + nonce + body

    def open(self, blob: bytes, *, context: bytes) -> bytes:
        """The plaintext of a sealed ``blob`` under any key of the ring; ``SealError`` when it is not
        sealed, sealed with an unknown key, or tampered with or moved to another ``context``."""
        from cryptography.exceptions import InvalidTag

        if len(blob) <= _HEADER or blob[:1] != _VERSION:
            raise SealError("a shared-store entry is not in the sealed format; it was not written by this package")
        cipher = self._ciphers.get(blob[1 : 1 + _ID_BYTES])
        if cipher is None:
            raise SealError(
                "a shared-store entry was sealed with a key this replica does not have: give every replica "
                "the same key list (new key first, old keys after it until their entries expire)",
                code="seal_key_unknown",
            )
        try:
            return cipher.decrypt(blob[1 + _ID_BYTES : _HEADER], blob[_HEADER:], _VERSION + context)
        except InvalidTag:
            raise SealError(
                "a shared-store entry failed its integrity check (tampered with, or moved)", code="seal_invalid"
            ) from None


if __name__ == "__main__":  # pragma: no cover - exercised by docs/replicas.md
    print(generate_key())
