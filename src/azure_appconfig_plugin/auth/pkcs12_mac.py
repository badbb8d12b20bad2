"""Does a passphrase open a PKCS#12 file's MAC? (RFC 7292, password integrity mode.)

cryptography says "Invalid password or PKCS12 data" both for a wrong passphrase and for contents
encrypted with a cipher it cannot decrypt (RC2 or DES without OpenSSL's legacy provider, say). The
MAC tells the two apart: it is checked with the passphrase alone, before anything is decrypted.
The file is untrusted: it is read with asn1crypto, and the MAC's iterations are capped
(``key_costs.MAX_ITERATIONS``; ``load_material`` refuses a file over the cap before this runs).
"""

from __future__ import annotations

import hashlib
import hmac

from . import key_costs
from .pbe import bmp_passwords, pkcs12_kdf

_DIGESTS = frozenset({"sha1", "sha224", "sha256", "sha384", "sha512"})
"""The HMAC digests of RFC 7292 MACs checked here (hashlib names, as asn1crypto names them)."""


def mac_matches(data: bytes, passphrase: bytes | None) -> bool | None:
    """True when the file's MAC verifies with ``passphrase``, False when it does not, None when
    that cannot be told (no MAC, a MAC other than RFC 7292's HMAC such as PBMAC1, a file that is
    not DER, too many iterations)."""
    from asn1crypto import pkcs12

    try:
        pfx = pkcs12.Pfx.load(data, strict=True)
        mac_data = pfx["mac_data"]
        if mac_data.native is None or pfx["auth_safe"]["content_type"].native != "data":
            return None
        digest = mac_data["mac"]["digest_algorithm"]["algorithm"].native
        expected, salt = mac_data["mac"]["digest"].native, mac_data["mac_salt"].native
        iterations = mac_data["iterations"].native
        signed = pfx["auth_safe"]["content"].native  # the MAC covers these bytes
    except Exception:  # asn1crypto's errors on a file of another shape: cannot tell
        return None
    if digest not in _DIGESTS or not isinstance(signed, bytes) or not 1 <= iterations <= key_costs.MAX_ITERATIONS:
        return None
    for password in bmp_passwords(passphrase):
        key = pkcs12_kdf(digest, password, salt, iterations, 3, hashlib.new(digest).digest_size)
        if hmac.compare_digest(hmac.new(key, signed, digest).digest(), expected):
            return True
    return False
