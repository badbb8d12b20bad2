"""Password-based encryption of PKCS#12 contents (RFC 7292, RFC 8018), decrypted here so that what
is inside can be inspected before the cryptography library derives any key for it.

Only key derivations whose cost was checked first (``key_costs``) reach this module. The ASN.1 is
read with asn1crypto; the ciphers are cryptography's, except RC2 with a key shorter than 128 bits
(PKCS#12's 40-bit RC2, still written by ``openssl pkcs12 -legacy``), which cryptography does not
offer and which is decrypted by the small RFC 2268 routine below (decryption only).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import TYPE_CHECKING, ClassVar

from asn1crypto import algos, core  # this module is imported only when key material is read

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.ciphers import CipherAlgorithm

_SCRYPT_OID = "1.3.6.1.4.1.11591.4.11"


class CannotDecrypt(Exception):
    """The content is encrypted with something this module does not implement."""


def pkcs12_kdf(digest: str, password: bytes, salt: bytes, iterations: int, purpose: int, size: int) -> bytes:
    """RFC 7292 appendix B.2: ``size`` bytes for ``purpose`` (1 key, 2 IV, 3 MAC key)."""
    u, v = hashlib.new(digest).digest_size, hashlib.new(digest).block_size

    def stretch(data: bytes) -> bytes:  # repeated to a whole number of v-byte blocks
        size = v * -(-len(data) // v)
        return (data * (size // len(data) + 1))[:size] if data else b""

    i = bytearray(stretch(salt) + stretch(password))
    out = b""
    while len(out) < size:
        a = bytes([purpose]) * v + bytes(i)
        for _ in range(iterations):
            a = hashlib.new(digest, a).digest()
        out += a
        b = int.from_bytes((a * (v // u + 1))[:v], "big") + 1
        for j in range(0, len(i), v):
            block = (int.from_bytes(i[j : j + v], "big") + b) % (1 << (8 * v))
            i[j : j + v] = block.to_bytes(v, "big")
    return out[:size]


def bmp_passwords(passphrase: bytes | None) -> list[bytes]:
    """The BMPString forms OpenSSL tries for PKCS#12's own derivations: the UTF-8 text as Unicode,
    then each byte as a character; with no passphrase, an absent and an empty password."""
    if passphrase is None:
        return [b"", b"\x00\x00"]
    as_text = passphrase.decode("utf-8", "replace").encode("utf-16-be")  # the field's text is UTF-8
    return [as_text + b"\x00\x00", b"".join(b"\x00" + bytes([c]) for c in passphrase) + b"\x00\x00"]


class ScryptParams(core.Sequence):  # type: ignore[misc]  # asn1crypto is untyped
    """RFC 7914 section 7.1 (asn1crypto does not define it)."""

    _fields: ClassVar[list[tuple[str, type] | tuple[str, type, dict[str, bool]]]] = [
        ("salt", core.OctetString),
        ("cost_parameter", core.Integer),
        ("block_size", core.Integer),
        ("parallelization_parameter", core.Integer),
        ("key_length", core.Integer, {"optional": True}),
    ]


def scrypt_params(kdf: algos.KdfAlgorithm) -> tuple[bytes, int, int, int, int | None]:
    """(salt, N, r, p, key length) of an RFC 7914 scrypt ``KdfAlgorithm``."""
    params = ScryptParams.load(kdf["parameters"].dump()).native
    return (
        params["salt"],
        params["cost_parameter"],
        params["block_size"],
        params["parallelization_parameter"],
        params["key_length"],
    )


def _pbes2_key(algorithm: algos.EncryptionAlgorithm, passphrase: bytes, size: int) -> bytes:
    kdf = algorithm["parameters"]["key_derivation_func"]
    if kdf["algorithm"].dotted == _SCRYPT_OID:
        from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

        salt, n, r, p, _ = scrypt_params(kdf)
        return Scrypt(salt=salt, length=size, n=n, r=r, p=p).derive(passphrase)
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.kdf.pbkdf2 import PBKDF2HMAC

    prf: dict[str, hashes.HashAlgorithm] = {
        "sha1": hashes.SHA1(),
        "sha224": hashes.SHA224(),
        "sha256": hashes.SHA256(),
        "sha384": hashes.SHA384(),
        "sha512": hashes.SHA512(),
    }
    hmac = algorithm.kdf_hmac
    if algorithm.kdf != "pbkdf2" or hmac not in prf:
        raise CannotDecrypt(hmac)
    return PBKDF2HMAC(prf[hmac], size, algorithm.kdf_salt, algorithm.kdf_iterations).derive(passphrase)


def _cipher(name: str, key: bytes) -> CipherAlgorithm:
    """cryptography's cipher for one of the names ``decrypt`` accepts (aes, tripledes, rc4, rc2 with a
    128-bit key: a shorter RC2 key is decrypted by ``rc2_cbc_decrypt`` and never reaches this)."""
    from cryptography.hazmat.primitives.ciphers import algorithms

    if name == "aes":
        return algorithms.AES(key)
    from cryptography.hazmat.decrepit.ciphers import algorithms as decrepit

    if name == "tripledes":
        return decrepit.TripleDES(key)
    if name == "rc4":
        return decrepit.ARC4(key)
    return decrepit.RC2(key)


def _decrypt_with(name: str, key: bytes, iv: bytes | None, data: bytes) -> bytes | None:
    """The plaintext, or None when the padding is wrong (a wrong password)."""
    from cryptography.hazmat.primitives.ciphers import Cipher, modes

    try:
        if name == "rc2" and len(key) != 16:
            plain = rc2_cbc_decrypt(key, iv or b"", data)
        else:
            cipher = _cipher(name, key)
            if name == "rc4":
                return Cipher(cipher, None).decryptor().update(data)
            decryptor = Cipher(cipher, modes.CBC(iv or b"")).decryptor()
            plain = decryptor.update(data) + decryptor.finalize()
    except ValueError:  # a length that does not fit the cipher: not decryptable with this key
        return None
    pad = plain[-1] if plain else 0
    if not 1 <= pad <= 16 or plain[-pad:] != bytes([pad]) * pad:
        return None
    return plain[:-pad]


def _key_length(algorithm: algos.EncryptionAlgorithm, kdf: str) -> int:
    """The key size in bytes: asn1crypto's ``key_length`` reads PBKDF2's parameters only (for scrypt's,
    it raises TypeError), so scrypt's own key length is read here, else the cipher's."""
    if kdf != _SCRYPT_OID:
        return int(algorithm.key_length)
    length = scrypt_params(algorithm["parameters"]["key_derivation_func"])[4]
    return int(length or algorithm["parameters"]["encryption_scheme"].key_length)


def decrypt(
    algorithm: algos.EncryptionAlgorithm,
    data: bytes,
    passphrase: bytes | None,
    accept: Callable[[bytes], bool] = lambda _: True,
) -> bytes | None:
    """``data`` decrypted with ``passphrase`` (the forms OpenSSL tries), or None when no form opens
    it; ``CannotDecrypt`` when the algorithm is not one implemented here. A plaintext counts only
    when ``accept(plaintext)`` (a wrong password passes the padding check about once in 256 tries)."""
    try:
        kdf, name = algorithm.kdf, algorithm.encryption_cipher
        size = _key_length(algorithm, kdf)
    except (ValueError, KeyError) as exc:  # asn1crypto: an algorithm it does not describe
        raise CannotDecrypt(str(exc)) from None
    if name not in ("aes", "tripledes", "rc2", "rc4") or algorithm.encryption_mode not in ("cbc", None):
        raise CannotDecrypt(name)
    if kdf == "pkcs12_kdf":
        digest = algorithm["algorithm"].native.split("_")[1]  # pkcs12_sha1_<cipher>: SHA-1 throughout
        salt, iterations = algorithm.kdf_salt, algorithm.kdf_iterations
        for password in bmp_passwords(passphrase):
            key = pkcs12_kdf(digest, password, salt, iterations, 1, size)
            iv = None if name == "rc4" else pkcs12_kdf(digest, password, salt, iterations, 2, 8)
            plain = _decrypt_with(name, key, iv, data)
            if plain is not None and accept(plain):
                return plain
        return None
    if algorithm["algorithm"].native != "pbes2":
        raise CannotDecrypt(str(kdf))  # PBES1 (DES, RC2-64): not written by any current tool
    key = _pbes2_key(algorithm, passphrase or b"", size)
    plain = _decrypt_with(name, key, algorithm.encryption_iv, data)
    return plain if plain is not None and accept(plain) else None


# --- RC2 (RFC 2268), decryption only, for PKCS#12's 40-bit RC2 ---------------------------------------

_PITABLE = bytes.fromhex(
    "d978f9c419ddb5ed28e9fd794aa0d89dc67e37832b76538e624c6488448bfba2"
    "179a59f587b34f1361456d8d09817d32bd8f40eb86b77b0bf09521225c6b4e82"
    "54d66593ce60b21c7356c014a78cf1dc1275ca1f3bbee4d1423dd430a33cb626"
    "6fbf0eda4669075727f21d9bbc944303f811c7f690ef3ee706c3d52fc8661ed7"
    "08e8eade8052eef784aa72ac354d6a2a961ad2715a1549744b9fd05e0418a4ec"
    "c2e0416e0f51cbcc2491af50a1f47039997c3a8523b8b47afc02365b25559731"
    "2d5dfa98e38a92ae05df2910676cbac9d300e6cfe19ea82c6316013f58e289a9"
    "0d38341bab33ffb0bb480c5fb9b1cd2ec5f3db47e5a59c770aa62068fe7fc1ad"
)
_SHIFTS = (1, 2, 3, 5)


def _rc2_expand(key: bytes, effective_bits: int) -> list[int]:
    table = bytearray(128)
    table[: len(key)] = key
    for i in range(len(key), 128):
        table[i] = _PITABLE[(table[i - 1] + table[i - len(key)]) & 255]
    t8 = (effective_bits + 7) // 8
    table[128 - t8] = _PITABLE[table[128 - t8] & (255 % (1 << (8 + effective_bits - 8 * t8)))]
    for i in range(127 - t8, -1, -1):
        table[i] = _PITABLE[table[i + 1] ^ table[i + t8]]
    return [table[2 * i] | (table[2 * i + 1] << 8) for i in range(64)]


def _rc2_decrypt_block(k: list[int], block: bytes) -> bytes:
    r = [int.from_bytes(block[2 * i : 2 * i + 2], "little") for i in range(4)]
    j = 63
    for rounds in (5, 0, 6, 0, 5):  # 0: one mashing round
        if not rounds:
            for i in (3, 2, 1, 0):
                r[i] = (r[i] - k[r[i - 1] & 63]) & 0xFFFF
            continue
        for _ in range(rounds):
            for i in (3, 2, 1, 0):
                s = _SHIFTS[i]
                r[i] = ((r[i] << (16 - s)) | (r[i] >> s)) & 0xFFFF
                r[i] = (r[i] - k[j] - (r[i - 1] & r[i - 2]) - (~r[i - 1] & r[i - 3])) & 0xFFFF
                j -= 1
    return b"".join(x.to_bytes(2, "little") for x in r)


def rc2_cbc_decrypt(key: bytes, iv: bytes, data: bytes) -> bytes:
    """RC2-CBC decryption with an effective key length equal to the key's (RFC 2268)."""
    if len(iv) != 8 or len(data) % 8:
        return b""
    k = _rc2_expand(key, 8 * len(key))
    out, previous = bytearray(), iv
    for pos in range(0, len(data), 8):
        block = data[pos : pos + 8]
        out += bytes(a ^ b for a, b in zip(_rc2_decrypt_block(k, block), previous, strict=True))
        previous = block
    return bytes(out)
