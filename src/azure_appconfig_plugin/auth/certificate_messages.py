"""What the certificate checks say about key material and validity (import-light).

``auth.certificate`` raises them; ``methods.certificate`` declares ``MATERIAL_MESSAGES`` and
``VALIDITY_MESSAGES`` as its rules' messages.
"""

from __future__ import annotations

from app_connections.fields import PRIVATE_KEY_IN_PUBLIC_FIELD

NOT_A_KEY = "must be a PEM private key (-----BEGIN PRIVATE KEY----- or -----BEGIN RSA PRIVATE KEY-----)"
NOT_RSA = "must be an RSA key: Microsoft Entra ID verifies client assertions signed with RS256"
NOT_A_CERT = "must be a PEM certificate (-----BEGIN CERTIFICATE-----), the certificate first, then any chain"
NOT_PKCS12 = "must be the base64 of a PKCS#12 (.pfx/.p12) file"
PKCS12_INCOMPLETE = "must hold both the private key and its certificate"
NEEDS_PASSPHRASE = "is required: the private key is encrypted"
WRONG_PASSPHRASE = "does not decrypt the private key (wrong passphrase)"
UNNEEDED_PASSPHRASE = "is given but the private key is not encrypted: remove it"
UNSUPPORTED_KEY_ENCRYPTION = (
    "is encrypted with a cipher the cryptography library cannot decrypt, whatever the passphrase: re-encrypt "
    "it with AES (`openssl pkcs8 -topk8 -v2 aes-256-cbc -in key.pem -out key-aes.pem`) and give the new key"
)
_PKCS12_AES = (
    "re-export the file with AES-256 (`openssl pkcs12 -legacy -in old.pfx -nodes | openssl pkcs12 -export "
    "-keypbe AES-256-CBC -certpbe AES-256-CBC -out new.pfx`) and give the new file"
)
PKCS12_WRONG_PASSPHRASE = (
    "does not open the PKCS#12 file: wrong passphrase, or a cipher this OpenSSL cannot decrypt: check the "
    f"passphrase, or {_PKCS12_AES}"
)
PKCS12_NEEDS_PASSPHRASE = (
    "is required: the PKCS#12 file does not open without one, or a cipher this OpenSSL cannot decrypt: give "
    f"its passphrase, or {_PKCS12_AES}"
)
KEY_COST_OVER_CAP = (
    "asks for more key-derivation work than is accepted here (a cap that keeps one input from holding a worker "
    "for minutes): encrypt or export it again with the usual settings, e.g. "
    "`openssl pkcs8 -topk8 -v2 aes-256-cbc -iter 100000` or `openssl pkcs12 -export -iter 100000 -maciter`"
)
KEY_TOO_LARGE = (
    "is a larger key than is accepted here (checking it would hold a worker for minutes): use an RSA key "
    "of 2048 to 4096 bits"
)
MISMATCH = "does not match the private key: it is the certificate of another key pair"
NOT_YET_VALID = "is not valid yet"
EXPIRED = "has expired: create a new certificate, upload it to the app registration, and update the connection"

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
"""Every message the key-material rule gives, in the order the docs list them."""
VALIDITY_MESSAGES = (NOT_YET_VALID, EXPIRED)
"""Every message the certificate-validity rule gives."""
