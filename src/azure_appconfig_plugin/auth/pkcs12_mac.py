"""Does a passphrase open a PKCS#12 file's MAC? (RFC 7292, password integrity mode.)

cryptography says "Invalid password or PKCS12 data" both for a wrong passphrase and for contents
encrypted with a cipher it cannot decrypt (RC2 or DES without OpenSSL's legacy provider, say). The
MAC tells the two apart: it is checked with the passphrase alone, before anything is decrypted.
The file is untrusted: a small DER reader with definite lengths only, and a cap on the iterations.
"""

from __future__ import annotations

import hashlib
import hmac

MAX_ITERATIONS = 1_000_000
"""More MAC iterations than this are not checked (the answer is then "cannot tell")."""

_DIGESTS = {  # DER contents of the digest OIDs RFC 7292 MACs use -> hashlib name
    bytes.fromhex("2b0e03021a"): "sha1",
    bytes.fromhex("608648016503040204"): "sha224",
    bytes.fromhex("608648016503040201"): "sha256",
    bytes.fromhex("608648016503040202"): "sha384",
    bytes.fromhex("608648016503040203"): "sha512",
}
_ID_DATA = bytes.fromhex("2a864886f70d010701")  # 1.2.840.113549.1.7.1, PKCS#7 data
_SEQUENCE, _OCTETS, _OID = 0x30, 0x04, 0x06


class _Malformed(Exception):
    pass


def _items(buf: bytes) -> list[tuple[int, bytes]]:
    """The (tag, contents) of each DER element in ``buf``, in order (IndexError when truncated)."""
    out, pos = [], 0
    while pos < len(buf):
        tag, first = buf[pos], buf[pos + 1]
        count = first - 0x80 if first > 0x80 else 0  # long form: the length takes that many bytes
        start = pos + 2 + count
        length = int.from_bytes(buf[pos + 2 : start], "big") if count else first
        if first == 0x80 or count > 4 or start + length > len(buf):  # 0x80: BER's indefinite length
            raise _Malformed
        out.append((tag, buf[start : start + length]))
        pos = start + length
    return out


def _one(buf: bytes, tag: int) -> bytes:
    ((found, contents),) = _items(buf)  # ValueError unless exactly one element
    if found != tag:
        raise _Malformed
    return contents


def _mac_key(digest: str, password: bytes, salt: bytes, iterations: int) -> bytes:
    """RFC 7292 appendix B.2 with ID 3 (a MAC key), as long as the digest."""
    u, v = hashlib.new(digest).digest_size, hashlib.new(digest).block_size

    def stretch(data: bytes) -> bytes:  # repeated to a whole number of v-byte blocks
        size = v * -(-len(data) // v)
        return (data * (size // len(data) + 1))[:size] if data else b""

    i = bytearray(stretch(salt) + stretch(password))
    a = bytes([3]) * v + bytes(i)
    for _ in range(iterations):
        a = hashlib.new(digest, a).digest()
    return a[:u]  # one round of A is u bytes, all a MAC key needs (no I_j update is used)


def _passwords(passphrase: bytes | None) -> list[bytes]:
    """The BMPString forms OpenSSL tries: the UTF-8 text as Unicode, then each byte as a character."""
    if passphrase is None:  # no passphrase: OpenSSL tries an absent and an empty password
        return [b"", b"\x00\x00"]
    as_text = passphrase.decode("utf-8", "replace").encode("utf-16-be")  # the field's text is UTF-8
    return [as_text + b"\x00\x00", b"".join(b"\x00" + bytes([c]) for c in passphrase) + b"\x00\x00"]


def mac_matches(data: bytes, passphrase: bytes | None) -> bool | None:
    """True when the file's MAC verifies with ``passphrase``, False when it does not, None when
    that cannot be told (no MAC, a MAC other than RFC 7292's HMAC such as PBMAC1, BER, too many
    iterations)."""
    try:
        _version, (_, auth_safe), (_, mac_data) = _items(_one(data, _SEQUENCE))
        content_type, (_, content) = _items(auth_safe)
        signed = _one(content, _OCTETS)  # the MAC covers these bytes
        (_, mac), (_, salt), *rest = _items(mac_data)
        (_, algorithm), (_, expected) = _items(mac)
        digest = _DIGESTS[_items(algorithm)[0][1]]
        iterations = int.from_bytes(rest[0][1], "big") if rest else 1
        if content_type != (_OID, _ID_DATA) or not 1 <= iterations <= MAX_ITERATIONS:
            raise _Malformed
    except (_Malformed, ValueError, IndexError, KeyError):  # not the shape above: cannot tell
        return None
    for password in _passwords(passphrase):
        key = _mac_key(digest, password, salt, iterations)
        if hmac.compare_digest(hmac.new(key, signed, digest).digest(), expected):
            return True
    return False
