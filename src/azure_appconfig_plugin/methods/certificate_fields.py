"""The field declarations, messages and rules of ``certificate`` (each declared once).

Imported when a schema or parser is first needed, not at registration (``methods.certificate``
reaches them through properties).
"""

from __future__ import annotations

from typing import Any

from app_connections.fields import PRIVATE_KEY_IN_PUBLIC_FIELD, CrossRule, Field, OneOf

from ..auth.certificate_messages import (
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
from .common import CLIENT_ID, CLOUD, TENANT

PEM_MAX_LENGTH = 65536
PRIVATE_KEY = Field(
    "privateKey",
    title="Private key (PEM)",
    description=(
        "The certificate's RSA private key in PEM (-----BEGIN PRIVATE KEY-----, or ENCRYPTED PRIVATE KEY with "
        "passphrase). Give it with certificate, or give pkcs12 instead."
    ),
    secret=True,
    min_length=1,
    max_length=PEM_MAX_LENGTH,
    multiline=True,
)
CERTIFICATE = Field(
    "certificate",
    title="Certificate (PEM)",
    description=(
        "The certificate uploaded to the app registration, in PEM (-----BEGIN CERTIFICATE-----); any chain "
        "follows it. Its thumbprint is computed from it."
    ),
    min_length=1,
    max_length=PEM_MAX_LENGTH,
    multiline=True,
)
PKCS12 = Field(
    "pkcs12",
    title="PKCS#12 file (base64)",
    description=(
        "Instead of privateKey and certificate: the base64 of a .pfx/.p12 file holding the key and certificate."
    ),
    secret=True,
    min_length=1,
    max_length=4 * PEM_MAX_LENGTH,
    pattern=r"[A-Za-z0-9+\/=\r\n]+",
    pattern_message="must be base64 (the .pfx file's bytes, base64-encoded, e.g. `base64 -w0 cert.pfx`)",
    multiline=True,
    encoding="base64",
)
PASSPHRASE = Field(
    "passphrase",
    title="Passphrase",
    description="The passphrase of an encrypted private key or PKCS#12 file.",
    secret=True,
    min_length=1,
    max_length=1024,
)
SEND_CERTIFICATE_CHAIN = Field(
    "sendCertificateChain",
    type="boolean",
    title="Send certificate chain",
    description=(
        "Send the certificate chain (x5c) with each token request, for subject name and issuer (SNI) authentication."
    ),
    default=False,
)
KEY_OR_PKCS12 = OneOf(
    ("privateKey", "certificate"), ("pkcs12",), titles=("Private key and certificate (PEM)", "PKCS#12 file")
)


def _material(values: dict[str, Any]) -> tuple[str, str] | None:
    from ..auth.certificate import material_problem

    return material_problem(values)


def _validity(values: dict[str, Any]) -> tuple[str, str] | None:
    from ..auth.certificate import validity_problem

    return validity_problem(values)


MATERIAL_MESSAGES = (
    NOT_A_KEY,
    NOT_RSA,
    NOT_A_CERT,
    NOT_PKCS12,
    PKCS12_INCOMPLETE,
    NEEDS_PASSPHRASE,
    WRONG_PASSPHRASE,
    UNNEEDED_PASSPHRASE,
    UNSUPPORTED_KEY_ENCRYPTION,
    PKCS12_WRONG_PASSPHRASE,
    PKCS12_NEEDS_PASSPHRASE,
    KEY_COST_OVER_CAP,
    KEY_TOO_LARGE,
    PRIVATE_KEY_IN_PUBLIC_FIELD,
    MISMATCH,
)
VALIDITY_MESSAGES = (NOT_YET_VALID, EXPIRED)
MATERIAL_RULE = CrossRule(_material, MATERIAL_MESSAGES)
VALIDITY_RULE = CrossRule(_validity, VALIDITY_MESSAGES)
INPUT_FIELDS = (TENANT, CLIENT_ID, PRIVATE_KEY, CERTIFICATE, PKCS12, PASSPHRASE, SEND_CERTIFICATE_CHAIN, CLOUD)
INPUT_CHOICES = (KEY_OR_PKCS12,)
INPUT_RULES = (MATERIAL_RULE, VALIDITY_RULE)
STORED_RULES = (MATERIAL_RULE,)
"""Loading stored credentials does not fail on an expired certificate (the host can still show and
replace it); the token credential refuses it before any request."""
