"""``certificate``: key material (PEM or PKCS#12), its checks and the token credential (MSAL's
certificate client credential).

Everything that can be wrong with the material is found here, before any request: a key that
cannot be read (or needs, or refuses, the passphrase, or is encrypted with a cipher that cannot be
decrypted here), a certificate that is not PEM, a key that
does not match its certificate, a certificate outside its validity period. The thumbprints are
computed from the certificate, never typed in.
"""

from __future__ import annotations

import base64
import binascii
import datetime as _dt
import hashlib
import time
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, TypeVar

import attrs

from app_connections.fields import PRIVATE_KEY_IN_PUBLIC_FIELD
from app_connections.text import holds_private_key

from ..clouds import get_cloud
from ..errors import FieldError, InvalidInput
from . import msal_apps
from .certificate_messages import (  # the declared messages
    EXPIRED,
    KEY_COST_OVER_CAP,
    KEY_TOO_LARGE,
    MISMATCH,
    NEEDS_PASSPHRASE,
    NOT_A_CERT,
    NOT_A_KEY,
    NOT_PKCS12,
    NOT_RSA,
    NOT_YET_VALID,
    PKCS12_INCOMPLETE,
    PKCS12_NEEDS_PASSPHRASE,
    PKCS12_WRONG_PASSPHRASE,
    UNNEEDED_PASSPHRASE,
    UNSUPPORTED_KEY_ENCRYPTION,
    WRONG_PASSPHRASE,
)
from .credential import ConfidentialClientCredential

if TYPE_CHECKING:
    import msal
    from cryptography import x509
    from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey
    from cryptography.hazmat.primitives.asymmetric.types import PrivateKeyTypes

    from ..methods.certificate import CertificateCredentials
    from ..stores.token_cache import TokenKey

_T = TypeVar("_T")


class MaterialProblem(Exception):
    """A field whose key material is unusable (internal: surfaces as ``InvalidInput``)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field, self.message = field, message


@attrs.frozen
class Material:
    """The loaded key and certificate chain (leaf first). Never printed."""

    private_key: RSAPrivateKey = attrs.field(repr=False)
    chain: tuple[x509.Certificate, ...] = attrs.field(repr=False)

    @property
    def leaf(self) -> x509.Certificate:
        """The certificate of the key (the chain's first)."""
        return self.chain[0]

    @property
    def sha1_thumbprint(self) -> str:
        """The leaf's SHA-1 thumbprint, upper-case hex: the ``x5t`` header, as Entra shows it."""
        from cryptography.hazmat.primitives import hashes

        return self.leaf.fingerprint(hashes.SHA1()).hex().upper()

    @property
    def sha256_thumbprint(self) -> str:
        """The leaf's SHA-256 thumbprint, upper-case hex (the token cache's key)."""
        from cryptography.hazmat.primitives import hashes

        return self.leaf.fingerprint(hashes.SHA256()).hex().upper()

    def chain_pem(self) -> str:
        """The chain in PEM, leaf first (MSAL's ``public_certificate``, sent as ``x5c``)."""
        from cryptography.hazmat.primitives.serialization import Encoding

        return "".join(c.public_bytes(Encoding.PEM).decode("ascii") for c in self.chain)

    def validity_problem(self, now: float | None = None) -> tuple[str, str] | None:
        """``("certificate", message)`` when the leaf is not valid at ``now`` (default: this clock), else None."""
        at = _dt.datetime.fromtimestamp(time.time() if now is None else now, _dt.timezone.utc)
        start, end = self.leaf.not_valid_before_utc, self.leaf.not_valid_after_utc
        if at < start:
            return "certificate", f"{NOT_YET_VALID} (valid from {start:%Y-%m-%d %H:%M} UTC; check this machine's clock)"
        if at > end:
            return "certificate", f"{EXPIRED} (it expired on {end:%Y-%m-%d %H:%M} UTC)"
        return None


def _text(values: Mapping[str, object], name: str) -> str:
    """The text of field ``name`` ("" when absent)."""
    value = values.get(name)
    return value if isinstance(value, str) else ""


def _passphrase(values: Mapping[str, object]) -> bytes | None:
    value = _text(values, "passphrase")
    return value.encode("utf-8") if value else None


def _cannot_decrypt(error: Exception) -> bool:
    """cryptography's words for an encryption it does not implement, never for a wrong passphrase:
    "Unknown key encryption algorithm: <OID>" (PKCS#8), "Key encrypted with unknown cipher."
    (a DEK-Info header), or an ``UnsupportedAlgorithm`` about a cipher or encryption."""
    from cryptography.exceptions import UnsupportedAlgorithm

    text = str(error).lower()
    about_encryption = "cipher" in text or "encryption" in text
    return about_encryption and ("unknown" in text or isinstance(error, UnsupportedAlgorithm))


def _marked_encrypted(data: bytes) -> bool:
    """The PEM says it is encrypted: PKCS#8's label or the traditional format's Proc-Type header."""
    return b"-----BEGIN ENCRYPTED PRIVATE KEY-----" in data or b"Proc-Type: 4,ENCRYPTED" in data


def _cryptography(call: Callable[[], _T]) -> _T:
    """``call()`` (cryptography on user input), with a library panic raised as a plain ``Exception``
    (pyo3's ``PanicException`` derives from ``BaseException``: ``except Exception`` misses it)."""
    from app_connections.panics import is_library_panic

    try:
        return call()
    except Exception:
        raise
    except BaseException as exc:
        if is_library_panic(exc):
            raise RuntimeError("the cryptography library gave up on this input") from None
        raise


def _check_cost(field: str, check: Callable[[], _T], unreadable: str) -> _T:
    """Run a ``key_costs`` check: its refusals as ``MaterialProblem``s of ``field``."""
    from . import key_costs

    try:
        return check()
    except key_costs.KeyCostTooHigh as too_high:
        message = KEY_TOO_LARGE if too_high.parameter == key_costs.KEY_SIZE else KEY_COST_OVER_CAP
        raise MaterialProblem(field, f"{message} {too_high.detail}") from None
    except key_costs.Unreadable:
        raise MaterialProblem(field, unreadable) from None


def _load_key(pem: str, passphrase: bytes | None) -> PrivateKeyTypes:
    from cryptography.hazmat.primitives.serialization import load_pem_private_key

    from . import key_costs

    _check_cost("privateKey", lambda: key_costs.check_pem_key(pem), NOT_A_KEY)  # before any derivation
    data = pem.encode("utf-8")

    def load(password: bytes | None) -> PrivateKeyTypes:  # the RSA key check runs once its size is known (below)
        return _cryptography(lambda: load_pem_private_key(data, password, unsafe_skip_rsa_key_validation=True))

    try:
        key = load(passphrase)
    except TypeError:  # a passphrase is missing, or given for an unencrypted key
        if passphrase is None:
            try:  # whether any passphrase could open it: an unusable cipher is said first
                load(b"\x00probe")
            except Exception as error:  # the probe is refused either way; only the reason counts
                if _cannot_decrypt(error) and _marked_encrypted(data):
                    raise MaterialProblem("privateKey", UNSUPPORTED_KEY_ENCRYPTION) from None
            raise MaterialProblem("passphrase", NEEDS_PASSPHRASE) from None
        raise MaterialProblem("passphrase", UNNEEDED_PASSPHRASE) from None
    except Exception as error:  # cryptography raises a few kinds for malformed input
        if _cannot_decrypt(error) and _marked_encrypted(data):  # no passphrase opens this cipher here
            raise MaterialProblem("privateKey", UNSUPPORTED_KEY_ENCRYPTION) from None
        if isinstance(error, ValueError) and passphrase is not None:
            try:
                load(None)
            except TypeError:  # it is an encrypted key: the passphrase is wrong
                raise MaterialProblem("passphrase", WRONG_PASSPHRASE) from None
            except Exception:  # not a key at all
                pass
        raise MaterialProblem("privateKey", NOT_A_KEY) from None
    return _checked_rsa(key)


def _checked_rsa(key: PrivateKeyTypes) -> PrivateKeyTypes:
    """An RSA key, checked (factors prime, numbers consistent) only after its numbers are known to
    be of a bounded size; other keys as they are."""
    from cryptography.hazmat.primitives.asymmetric import rsa

    from . import key_costs

    if not isinstance(key, rsa.RSAPrivateKey):
        return key
    numbers = key.private_numbers()
    _check_cost("privateKey", lambda: key_costs.check_key_numbers(numbers), NOT_A_KEY)
    try:
        return _cryptography(numbers.private_key)
    except Exception:  # the numbers are not a consistent RSA key
        raise MaterialProblem("privateKey", NOT_A_KEY) from None


def _load_certs(pem: str) -> tuple[x509.Certificate, ...]:
    from cryptography.x509 import load_pem_x509_certificates

    try:  # raises ValueError when the text holds no certificate at all, so the tuple is never empty
        return tuple(_cryptography(lambda: load_pem_x509_certificates(pem.encode("utf-8"))))
    except Exception:  # any failure: not PEM certificates
        raise MaterialProblem("certificate", NOT_A_CERT) from None


def _open_pkcs12(
    data: bytes, passphrase: bytes | None
) -> tuple[PrivateKeyTypes | None, x509.Certificate | None, list[x509.Certificate]] | None:
    """cryptography's reading of a PKCS#12 file whose costs were checked first, or None when it
    does not open with ``passphrase`` (or holds contents that cannot be checked here)."""
    from cryptography.hazmat.primitives.serialization import pkcs12

    from . import key_costs

    facts = _check_cost("pkcs12", lambda: key_costs.inspect_pkcs12(data, passphrase), NOT_PKCS12)
    if facts.opaque:  # encrypted with something not opened here: its keys' costs are unknown
        return None
    try:
        return _cryptography(lambda: pkcs12.load_key_and_certificates(data, passphrase))
    except Exception:  # "Invalid password or PKCS12 data", for a wrong passphrase and an unusable cipher alike
        return None


def _load_pkcs12(b64: str, passphrase: bytes | None) -> tuple[PrivateKeyTypes, tuple[x509.Certificate, ...]]:
    try:
        data = base64.b64decode("".join(b64.split()), validate=True)
    except (binascii.Error, ValueError):
        raise MaterialProblem("pkcs12", NOT_PKCS12) from None
    opened = _open_pkcs12(data, passphrase)
    if opened is None:  # cryptography cannot tell a wrong passphrase from a cipher it cannot decrypt
        if passphrase is None:
            raise MaterialProblem("passphrase", PKCS12_NEEDS_PASSPHRASE)
        if _open_pkcs12(data, None) is not None:
            raise MaterialProblem("passphrase", UNNEEDED_PASSPHRASE)
        raise MaterialProblem("passphrase", PKCS12_WRONG_PASSPHRASE)
    key, cert, extra = opened
    if key is None or cert is None:
        raise MaterialProblem("pkcs12", PKCS12_INCOMPLETE)
    return key, (cert, *extra)


def load_material(values: Mapping[str, object]) -> Material:
    """The key and chain from parsed values (attribute names). Raises ``MaterialProblem``."""
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

    passphrase = _passphrase(values)
    key: PrivateKeyTypes
    if values.get("pkcs12"):
        key, chain = _load_pkcs12(_text(values, "pkcs12"), passphrase)
        key_field = cert_field = "pkcs12"
    else:
        if holds_private_key(_text(values, "certificate")):  # a record built by a host: the field is public
            raise MaterialProblem("certificate", PRIVATE_KEY_IN_PUBLIC_FIELD)
        chain = _load_certs(_text(values, "certificate"))
        key = _load_key(_text(values, "private_key"), passphrase)
        key_field, cert_field = "privateKey", "certificate"
    if not isinstance(key, rsa.RSAPrivateKey):
        raise MaterialProblem(key_field, NOT_RSA)
    spki = (PublicFormat.SubjectPublicKeyInfo, Encoding.DER)
    if key.public_key().public_bytes(spki[1], spki[0]) != chain[0].public_key().public_bytes(spki[1], spki[0]):
        raise MaterialProblem(cert_field, MISMATCH)
    return Material(key, chain)


def material_problem(values: Mapping[str, object]) -> tuple[str, str] | None:
    """``(field, message)`` of the first problem ``load_material`` finds, or None when the material loads."""
    try:
        load_material(values)
    except MaterialProblem as problem:
        return problem.field, problem.message
    return None


def validity_problem(values: Mapping[str, object]) -> tuple[str, str] | None:
    """Runs only after ``material_problem`` found nothing (cross rules stop at the first failure, and
    ``INPUT_RULES`` lists the material rule first), so the material loads."""
    found = load_material(values).validity_problem()
    if found and values.get("pkcs12"):
        return "pkcs12", found[1]  # the certificate inside the PKCS#12 file
    return found


class CertificateTokenCredential(ConfidentialClientCredential):
    """Client-credentials grant with a certificate-signed client assertion (MSAL builds and signs
    it: ``x5t`` is the computed SHA-1 thumbprint; with ``sendCertificateChain`` the chain goes in
    ``x5c`` for subject-name/issuer authentication). The token path is ``ConfidentialClientCredential``'s;
    the shared cache keys the token by the certificate's SHA-256 thumbprint."""

    stage = "certificate"
    _credentials: CertificateCredentials

    def __init__(self, credentials: CertificateCredentials, *, clock: Callable[[], float] = time.time) -> None:
        self._credentials = credentials
        self.cloud = get_cloud(credentials.cloud)
        self._clock = clock
        self._material = credentials.material()  # InvalidInput before any request

    def __repr__(self) -> str:
        c = self._credentials
        return (
            f"CertificateTokenCredential(tenant_id={c.tenant_id!r}, client_id={c.client_id!r}, "
            f"thumbprint={self._material.sha1_thumbprint!r}, cloud={c.cloud!r})"
        )

    def _preflight(self) -> None:
        found = self._material.validity_problem(self._clock())
        if found:
            field = "pkcs12" if self._credentials.pkcs12 else found[0]
            raise InvalidInput(errors=[FieldError(field, found[1])])

    def _app(self, authority: str) -> msal.ConfidentialClientApplication:
        c, material = self._credentials, self._material
        client_credential: dict[str, object] = {
            "private_key": material.private_key,
            "thumbprint": material.sha1_thumbprint,
        }
        if c.send_certificate_chain:
            client_credential["public_certificate"] = material.chain_pem()
        fingerprint = hashlib.sha256(
            f"certificate:{material.sha256_thumbprint}:{c.send_certificate_chain}".encode()
        ).hexdigest()
        return msal_apps.get_app_for(authority, c.client_id, client_credential, fingerprint=fingerprint)

    def _token_key(self, authority: str) -> TokenKey:
        from ..stores.token_cache import TokenKey

        material = self._material
        exponent = material.private_key.private_numbers().d  # an RSA key (checked when it was loaded)
        return TokenKey.for_certificate(
            authority,
            self._credentials.client_id,
            self.cloud.scope,
            material.sha256_thumbprint,
            exponent.to_bytes((exponent.bit_length() + 7) // 8, "big"),
        )
