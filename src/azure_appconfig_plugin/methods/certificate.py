"""``certificate``: a service principal that proves itself with a certificate. Import-light: the key
material is read (``auth.certificate``, cryptography) only when input is parsed."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..fields import CrossRule, Field, OneOf
from ..records import Credentials, RotateCallback
from .base import DeclaredAuthMethod
from .common import CLIENT_ID, CLOUD, CONNECTION_TYPE, MICROSOFT_ENTRA, TENANT

if TYPE_CHECKING:  # pragma: no cover
    from azure.core.credentials import TokenCredential

    from ..auth.certificate import CertificateCredentials

PEM_MAX_LENGTH = 65536
PRIVATE_KEY = Field(
    "privateKey",
    title="Private key (PEM)",
    description=("The certificate's RSA private key in PEM (-----BEGIN PRIVATE KEY-----, or ENCRYPTED PRIVATE KEY with "
                 "passphrase). Give it with certificate, or give pkcs12 instead."),
    secret=True,
    min_length=1,
    max_length=PEM_MAX_LENGTH,
)
CERTIFICATE = Field(
    "certificate",
    title="Certificate (PEM)",
    description=("The certificate uploaded to the app registration, in PEM (-----BEGIN CERTIFICATE-----); any chain "
                 "follows it. Its thumbprint is computed from it."),
    min_length=1,
    max_length=PEM_MAX_LENGTH,
)
PKCS12 = Field(
    "pkcs12",
    title="PKCS#12 file (base64)",
    description="Instead of privateKey and certificate: the base64 of a .pfx/.p12 file holding the key and certificate.",
    secret=True,
    min_length=1,
    max_length=4 * PEM_MAX_LENGTH,
    pattern=r"[A-Za-z0-9+/=\r\n]+",
    pattern_message="must be base64 (the .pfx file's bytes, base64-encoded, e.g. `base64 -w0 cert.pfx`)",
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
    description=("Send the certificate chain (x5c) with each token request, for subject name and issuer (SNI) "
                 "authentication."),
    default=False,
)
KEY_OR_PKCS12 = OneOf(("privateKey", "certificate"), ("pkcs12",))


def _material(values: dict[str, Any]) -> tuple[str, str] | None:
    from ..auth.certificate import material_problem

    return material_problem(values)


def _validity(values: dict[str, Any]) -> tuple[str, str] | None:
    from ..auth.certificate import validity_problem

    return validity_problem(values)


# What the rules say (declared here, import-light; auth.certificate raises them).
NOT_A_KEY = "must be a PEM private key (-----BEGIN PRIVATE KEY----- or -----BEGIN RSA PRIVATE KEY-----)"
NOT_RSA = "must be an RSA key: Microsoft Entra ID verifies client assertions signed with RS256"
NOT_A_CERT = "must be a PEM certificate (-----BEGIN CERTIFICATE-----), the certificate first, then any chain"
NOT_PKCS12 = "must be the base64 of a PKCS#12 (.pfx/.p12) file"
PKCS12_INCOMPLETE = "must hold both the private key and its certificate"
NEEDS_PASSPHRASE = "is required: the private key is encrypted"
WRONG_PASSPHRASE = "does not decrypt the private key (wrong passphrase)"
UNNEEDED_PASSPHRASE = "is given but the private key is not encrypted: remove it"
MISMATCH = "does not match the private key: it is the certificate of another key pair"
NOT_YET_VALID = "is not valid yet"
EXPIRED = "has expired: create a new certificate, upload it to the app registration, and update the connection"
MATERIAL_MESSAGES = (NOT_A_KEY, NOT_RSA, NOT_A_CERT, NOT_PKCS12, PKCS12_INCOMPLETE, NEEDS_PASSPHRASE, WRONG_PASSPHRASE,
                     UNNEEDED_PASSPHRASE, MISMATCH)
VALIDITY_MESSAGES = (NOT_YET_VALID, EXPIRED)
MATERIAL_RULE = CrossRule(_material, MATERIAL_MESSAGES)
VALIDITY_RULE = CrossRule(_validity, VALIDITY_MESSAGES)


class CertificateMethod(DeclaredAuthMethod):
    """Authenticate as a service principal with a certificate (MSAL's certificate client credential)."""

    slug = "certificate"
    name = "Certificate"
    description = ("Authenticate as a service principal with a certificate: its private key and certificate (PEM), "
                   "or a PKCS#12 file.")
    connection_type = CONNECTION_TYPE
    identity_provider = MICROSOFT_ENTRA
    input_fields = (TENANT, CLIENT_ID, PRIVATE_KEY, CERTIFICATE, PKCS12, PASSPHRASE, SEND_CERTIFICATE_CHAIN, CLOUD)
    input_choices = (KEY_OR_PKCS12,)
    input_rules = (MATERIAL_RULE, VALIDITY_RULE)
    stored_rules = (MATERIAL_RULE,)
    """Loading stored credentials does not fail on an expired certificate (the host can still show and
    replace it); the token credential refuses it before any request."""

    @property
    def credentials_type(self) -> type:
        from ..auth.certificate import CertificateCredentials

        return CertificateCredentials

    def credentials_from(self, values: dict[str, Any]) -> CertificateCredentials:
        from ..auth.certificate import CertificateCredentials

        return CertificateCredentials(**values)

    def token_credential(
        self, credentials: Credentials, *, on_rotate: RotateCallback | None = None, **_: Any
    ) -> TokenCredential:
        from ..auth.certificate import CertificateTokenCredential
        from ..errors import FieldError, InvalidInput

        if not isinstance(credentials, self.credentials_type):
            raise InvalidInput(errors=[FieldError("credentials", "certificate needs CertificateCredentials "
                                                  f"(from parse() or load()), not {type(credentials).__name__}")])
        return CertificateTokenCredential(credentials)  # type: ignore[arg-type]

    def principal(self, credentials: Any) -> str:
        try:
            thumbprint = f" (certificate {credentials.thumbprint})"
        except Exception:  # noqa: BLE001 - unreadable material is reported by the input check
            thumbprint = ""
        return f"the service principal of app {getattr(credentials, 'client_id', '?')}{thumbprint}"
