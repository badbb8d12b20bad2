"""The cost of opening user-supplied key material, read before any key is derived.

An encrypted private key or PKCS#12 file names its own work factor: PBKDF2 or PKCS#12-KDF
iterations, scrypt's N, r and p, and the PKCS#12 MAC's iterations. A value of 2^31 costs minutes
of CPU per load, and cryptography panics past 2^32; so every such parameter is read here first (with
asn1crypto, a maintained ASN.1 library) and a value over its cap is refused (``KeyCostTooHigh``,
naming the parameter and the cap) before the cryptography library sees the material. Encrypted
PKCS#12 contents are decrypted here (``pbe``, with capped parameters) so that the keys inside them
are checked too; contents that cannot be opened here are reported (``Pkcs12Facts.opaque``) and never
handed to cryptography.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Callable
from typing import TYPE_CHECKING, ClassVar, TypeVar

import attrs
from asn1crypto import algos, cms, core, keys, pkcs12  # this module is imported only when key material is read

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateNumbers

MAX_ITERATIONS = 1_000_000
"""Most PBKDF2 / PKCS#12-KDF iterations, and PKCS#12 MAC iterations, accepted (OpenSSL writes 2,048;
current guidance for PBKDF2-SHA256 is 600,000)."""
MAX_SCRYPT_WORK = 1 << 23
"""Most scrypt work (N·r·p) accepted (``openssl pkcs8 -scrypt`` writes N=16384, r=8, p=1: 131,072)."""
MAX_SCRYPT_MEMORY = 64 << 20
"""Most scrypt memory (128·N·r bytes) accepted: 64 MiB."""
MAX_KEY_BITS = 16384
"""Largest number (RSA modulus, prime, exponent) accepted in a private key, in bits. Checking a key
(primality of its factors) grows steeply with size: a made-up 80,000-bit key costs a minute."""
KEY_SIZE = "key size (bits)"
"""The parameter name ``KeyCostTooHigh`` carries for a key over ``MAX_KEY_BITS``."""
MAX_NESTING = 4
"""Most levels of SafeContents inside SafeContents read in a PKCS#12 file."""

_SCRYPT_OID = "1.3.6.1.4.1.11591.4.11"
_PBMAC1_OID = "1.2.840.113549.1.5.14"
_PEM_ENCRYPTED = re.compile(
    r"-----BEGIN ENCRYPTED PRIVATE KEY-----(?P<body>[^-]*)-----END ENCRYPTED PRIVATE KEY-----", re.ASCII
)
_T = TypeVar("_T")


class Pbmac1Params(core.Sequence):  # type: ignore[misc]  # asn1crypto is untyped
    """RFC 9579's PBMAC1 parameters (asn1crypto does not define them)."""

    _fields: ClassVar[list[tuple[str, type]]] = [
        ("key_derivation_func", algos.KdfAlgorithm),
        ("message_auth_scheme", algos.HmacAlgorithm),
    ]


class KeyCostTooHigh(Exception):
    """A work-factor parameter over its cap (``parameter`` names it, ``value`` and ``cap`` are numbers)."""

    def __init__(self, parameter: str, value: int, cap: int) -> None:
        super().__init__(f"{parameter}: {shown_number(value)} (at most {cap:,})")
        self.parameter, self.value, self.cap = parameter, value, cap

    @property
    def detail(self) -> str:
        """``(<parameter> <value>; at most <cap>)``, to follow a declared message."""
        return f"({self.parameter}: {shown_number(self.value)}; at most {self.cap:,})"


class Unreadable(Exception):
    """Material whose encryption parameters cannot be read (so its cost cannot be known)."""


@attrs.frozen
class Pkcs12Facts:
    """What was learnt from a PKCS#12 file before cryptography opens it."""

    opaque: bool
    """Some contents are encrypted with an algorithm that cannot be opened here, so their keys'
    costs are unknown: the file must not be handed to cryptography."""


def shown_number(value: int) -> str:
    """``value`` with thousands separators, or ``more than 10^18`` for absurd ones."""
    return f"{value:,}" if abs(value) < 10**18 else "more than 10^18"


def _check(parameter: str, value: object, cap: int) -> None:
    if isinstance(value, int) and value > cap:
        raise KeyCostTooHigh(parameter, value, cap)


def check_encryption(algorithm: algos.EncryptionAlgorithm) -> None:
    """Raise ``KeyCostTooHigh`` when the asn1crypto ``EncryptionAlgorithm`` asks for too much work.

    An algorithm asn1crypto does not know is let through: cryptography cannot derive with it either."""
    name = algorithm["algorithm"].native
    if name == "pbes2":
        kdf = algorithm["parameters"]["key_derivation_func"]
        check_kdf(kdf)
    elif name.startswith(("pkcs12_", "pbes1_")):
        _check("key-derivation iterations", algorithm["parameters"]["iterations"].native, MAX_ITERATIONS)


def check_kdf(kdf: algos.KdfAlgorithm) -> None:
    """Check a PBES2/PBMAC1 ``KdfAlgorithm``: PBKDF2's iterations or scrypt's N, r and p."""
    from .pbe import scrypt_params

    if kdf["algorithm"].dotted == _SCRYPT_OID:
        _, n, r, p, _ = scrypt_params(kdf)
        _check("scrypt memory (128*N*r bytes)", 128 * n * r, MAX_SCRYPT_MEMORY)
        _check("scrypt work (N*r*p)", n * r * p, MAX_SCRYPT_WORK)
    elif kdf["algorithm"].native == "pbkdf2":
        _check("PBKDF2 iterations", kdf["parameters"]["iteration_count"].native, MAX_ITERATIONS)
    else:
        raise Unreadable(kdf["algorithm"].dotted)


def check_key_numbers(numbers: keys.RSAPrivateKey | RSAPrivateNumbers) -> None:
    """Raise ``KeyCostTooHigh`` when any number of a private key (asn1crypto ``RSAPrivateKey`` or
    cryptography's ``RSAPrivateNumbers``) has more than ``MAX_KEY_BITS`` bits."""
    if isinstance(numbers, keys.RSAPrivateKey):  # asn1crypto: every integer of the structure
        values = [v for v in numbers.native.values() if isinstance(v, int)]
    else:  # cryptography's RSAPrivateNumbers
        values = [numbers.public_numbers.n, numbers.public_numbers.e, numbers.d, numbers.p, numbers.q]
        values += [numbers.dmp1, numbers.dmq1, numbers.iqmp]
    largest = max((abs(v).bit_length() for v in values), default=0)
    _check(KEY_SIZE, largest, MAX_KEY_BITS)


def check_private_key_info(info: keys.PrivateKeyInfo | bytes) -> None:
    """Check a PKCS#8 PrivateKeyInfo's numbers (asn1crypto's, or its DER): RSA's each; for other
    algorithms, the whole key's size."""
    if isinstance(info, bytes):
        info = keys.PrivateKeyInfo.load(info, strict=True)
    if info["private_key_algorithm"]["algorithm"].native == "rsa":
        check_key_numbers(info["private_key"].parsed)
    else:
        _check(KEY_SIZE, 8 * len(info["private_key"].contents or b""), 2 * MAX_KEY_BITS)


def check_pem_key(text: str) -> None:
    """Check every ``ENCRYPTED PRIVATE KEY`` block of a PEM text (``Unreadable`` when one cannot
    be read, so that nothing unread reaches cryptography)."""
    blocks = list(_PEM_ENCRYPTED.finditer(text))
    if len(blocks) != text.upper().count("BEGIN ENCRYPTED PRIVATE KEY"):
        raise Unreadable("an ENCRYPTED PRIVATE KEY block that is not PEM")
    for block in blocks:
        lines = [line for line in block["body"].split() if ":" not in line]

        def check(lines: list[str] = lines) -> None:
            der = base64.b64decode("".join(lines), validate=True)
            check_encryption(keys.EncryptedPrivateKeyInfo.load(der, strict=True)["encryption_algorithm"])

        _read(check)


def _read(call: Callable[[], _T]) -> _T:
    """``call()``, with asn1crypto's errors about malformed input as ``Unreadable``."""
    try:
        return call()
    except (KeyCostTooHigh, Unreadable):
        raise
    except Exception as exc:  # asn1crypto raises ValueError, TypeError, KeyError ... on malformed DER
        raise Unreadable(type(exc).__name__) from None


def inspect_pkcs12(data: bytes, passphrase: bytes | None) -> Pkcs12Facts:
    """Check a PKCS#12 file's MAC and every key derivation in it, decrypting the encrypted contents
    with ``passphrase`` (capped work) to reach the keys inside. ``KeyCostTooHigh`` or ``Unreadable``."""

    def read() -> Pkcs12Facts:
        pfx = pkcs12.Pfx.load(data, strict=True)
        _check_mac(pfx["mac_data"])
        if pfx["auth_safe"]["content_type"].native != "data":
            raise Unreadable("public-key integrity mode")
        opaque = False
        for info in pfx.authenticated_safe:
            opaque |= _check_content(info, passphrase)
        return Pkcs12Facts(opaque=opaque)

    return _read(read)


def _check_mac(mac_data: pkcs12.MacData) -> None:
    if mac_data.native is None:
        return
    _check("MAC iterations", mac_data["iterations"].native, MAX_ITERATIONS)
    algorithm = mac_data["mac"]["digest_algorithm"]
    if algorithm["algorithm"].dotted == _PBMAC1_OID:  # RFC 9579: the key from PBKDF2 with its own count
        check_kdf(Pbmac1Params.load(algorithm["parameters"].dump())["key_derivation_func"])


def _check_content(info: cms.ContentInfo, passphrase: bytes | None) -> bool:
    """Check one ContentInfo of the authenticated safe; True when some of it cannot be opened here."""
    from .pbe import CannotDecrypt, decrypt

    kind = info["content_type"].native
    if kind == "data":
        return _check_bags(pkcs12.SafeContents.load(info["content"].native, strict=True), 0, passphrase)
    if kind != "encrypted_data":
        return True  # enveloped (public-key privacy mode): not opened here
    encrypted = info["content"]["encrypted_content_info"]
    algorithm = encrypted["content_encryption_algorithm"]
    check_encryption(algorithm)
    try:
        plain = decrypt(
            algorithm, encrypted["encrypted_content"].native or b"", passphrase, _parses(pkcs12.SafeContents)
        )
    except CannotDecrypt:
        return True
    if plain is None:  # the passphrase does not open it: neither will cryptography
        return False
    return _check_bags(pkcs12.SafeContents.load(plain, strict=True), 0, passphrase)


def _parses(spec: type[core.Asn1Value]) -> Callable[[bytes], bool]:
    """Whether a decrypted plaintext is DER of ``spec`` (so the password that made it was right)."""

    def accept(plain: bytes) -> bool:
        try:
            spec.load(plain, strict=True).native  # noqa: B018 - parsing it whole is the test
        except Exception:  # asn1crypto's errors on what is not that structure
            return False
        return True

    return accept


def _check_bags(bags: pkcs12.SafeContents, depth: int, passphrase: bytes | None) -> bool:
    """Check every key in ``bags`` (shrouded keys decrypted here); True when one cannot be opened here."""
    from .pbe import CannotDecrypt, decrypt

    if depth > MAX_NESTING:
        raise Unreadable("SafeContents nested too deeply")
    opaque = False
    for bag in bags:
        kind = bag["bag_id"].native
        if kind == "key_bag":
            check_private_key_info(bag["bag_value"])
        elif kind == "pkcs8_shrouded_key_bag":
            algorithm = bag["bag_value"]["encryption_algorithm"]
            check_encryption(algorithm)
            try:
                plain = decrypt(
                    algorithm,
                    bag["bag_value"]["encrypted_data"].native or b"",
                    passphrase,
                    _parses(keys.PrivateKeyInfo),
                )
            except CannotDecrypt:
                opaque = True
                continue
            if plain is not None:  # else the passphrase does not open it: neither will cryptography
                check_private_key_info(plain)
        elif kind == "safe_contents":
            opaque |= _check_bags(bag["bag_value"], depth + 1, passphrase)
    return opaque
