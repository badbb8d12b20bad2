"""Key material generated at test time (never committed): RSA keys, self-signed certificates,
PKCS#12 files. Keys are cached per name for the session (RSA generation is slow)."""

from __future__ import annotations

import base64
import datetime as dt
import functools
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import NameOID

NOW = dt.datetime.now(dt.timezone.utc)


def key(name: str = "main") -> Any:
    return _key(name)


@functools.cache
def _key(name: str) -> Any:
    if name.startswith("ec"):
        return ec.generate_private_key(ec.SECP256R1())
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def cert(name: str = "main", *, days_before: int = 1, days_after: int = 365, issuer: str | None = None) -> Any:
    return _cert(name, days_before, days_after, issuer)


@functools.cache
def _cert(name: str, days_before: int, days_after: int, issuer: str | None) -> Any:
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, f"azure-appconfig-plugin test {name}")])
    signer = key(issuer) if issuer else key(name)
    issuer_name = (
        x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, f"azure-appconfig-plugin test {issuer}")])
        if issuer
        else subject
    )
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer_name)
        .public_key(key(name).public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(NOW + dt.timedelta(days=-days_before))
        .not_valid_after(NOW + dt.timedelta(days=days_after))
        .sign(signer, hashes.SHA256())
    )


def key_pem(name: str = "main", passphrase: str | None = None, traditional: bool = False) -> str:
    encryption: Any = (
        serialization.BestAvailableEncryption(passphrase.encode()) if passphrase else serialization.NoEncryption()
    )
    fmt = serialization.PrivateFormat.TraditionalOpenSSL if traditional else serialization.PrivateFormat.PKCS8
    return key(name).private_bytes(serialization.Encoding.PEM, fmt, encryption).decode()


def cert_pem(*certs: Any) -> str:
    return "".join(c.public_bytes(serialization.Encoding.PEM).decode() for c in (certs or (cert(),)))


def pkcs12_b64(
    name: str = "main", passphrase: str | None = None, *, certificate: Any = None, extra: tuple[Any, ...] = ()
) -> str:
    encryption: Any = (
        serialization.BestAvailableEncryption(passphrase.encode()) if passphrase else serialization.NoEncryption()
    )
    data = pkcs12.serialize_key_and_certificates(
        b"test", key(name), certificate or cert(name), list(extra) or None, encryption
    )
    return base64.b64encode(data).decode()


def sha1(certificate: Any) -> str:
    return str(certificate.fingerprint(hashes.SHA1()).hex().upper())
