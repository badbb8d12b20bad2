"""``certificate``: a service principal that proves itself with a certificate: its fields, rules,
credentials record and the method. Import-light: the key material is read (``auth.certificate``,
cryptography) only when input is parsed or a token credential is made."""

from __future__ import annotations

from typing import TYPE_CHECKING

from app_connections.declared import DeclaredAuthMethod
from app_connections.fields import CrossRule, Field, OneOf
from app_connections.records import Credentials, RotateCallback
from app_connections.stored_record import StoredRecord

from ..auth.certificate_messages import MATERIAL_MESSAGES, VALIDITY_MESSAGES
from .common import CLIENT_ID, CLOUD, TENANT
from .names import CONNECTION_TYPE, MICROSOFT_ENTRA

if TYPE_CHECKING:
    from azure.core.credentials import TokenCredential

    from app_connections.jsontypes import JSONObject

    from ..auth.certificate import Material

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
    (PRIVATE_KEY.name, CERTIFICATE.name), (PKCS12.name,), titles=("Private key and certificate (PEM)", "PKCS#12 file")
)


def _material(values: JSONObject) -> tuple[str, str] | None:
    from ..auth.certificate import material_problem

    return material_problem(values)


def _validity(values: JSONObject) -> tuple[str, str] | None:
    from ..auth.certificate import validity_problem

    return validity_problem(values)


MATERIAL_RULE = CrossRule(_material, MATERIAL_MESSAGES)
VALIDITY_RULE = CrossRule(_validity, VALIDITY_MESSAGES)
INPUT_FIELDS: tuple[Field, ...] = (
    TENANT,
    CLIENT_ID,
    PRIVATE_KEY,
    CERTIFICATE,
    PKCS12,
    PASSPHRASE,
    SEND_CERTIFICATE_CHAIN,
    CLOUD,
)
INPUT_CHOICES = (KEY_OR_PKCS12,)
INPUT_RULES = (MATERIAL_RULE, VALIDITY_RULE)
STORED_RULES = (MATERIAL_RULE,)
"""Loading stored credentials does not fail on an expired certificate (the host can still show and
replace it); the token credential refuses it before any request."""


class CertificateCredentials(StoredRecord, fields=INPUT_FIELDS, method="certificate"):
    """A service principal that proves itself with a certificate (PEM key and certificate, or PKCS#12)."""

    tenant_id: str
    client_id: str
    private_key: str | None
    certificate: str | None
    pkcs12: str | None
    passphrase: str | None
    send_certificate_chain: bool
    cloud: str

    def material(self) -> Material:
        """The loaded key and chain (``InvalidInput`` naming the field when unusable)."""
        from ..auth.certificate import MaterialProblem, load_material
        from ..errors import FieldError, InvalidInput

        try:
            return load_material(self.stored_values())
        except MaterialProblem as problem:
            raise InvalidInput(errors=[FieldError(problem.field, problem.message)]) from None

    @property
    def thumbprint(self) -> str:
        """SHA-1 thumbprint of the certificate, as the app registration's Certificates list shows it."""
        return self.material().sha1_thumbprint


class CertificateMethod(DeclaredAuthMethod):
    """Authenticate as a service principal with a certificate (MSAL's certificate client credential)."""

    slug = "certificate"
    name = "Certificate"
    description = (
        "Authenticate as a service principal with a certificate: its private key and certificate (PEM), "
        "or a PKCS#12 file."
    )
    connection_type = CONNECTION_TYPE
    identity_provider = MICROSOFT_ENTRA
    input_fields = INPUT_FIELDS
    input_choices = INPUT_CHOICES
    input_rules = INPUT_RULES
    stored_rules = STORED_RULES
    record = CertificateCredentials

    def token_credential(
        self, credentials: Credentials, *, on_rotate: RotateCallback | None = None, **_: object
    ) -> TokenCredential:
        """MSAL's certificate client credential (``InvalidInput`` for unusable material)."""
        from ..auth.certificate import CertificateTokenCredential

        return CertificateTokenCredential(self.checked(credentials, CertificateCredentials))

    def principal(self, credentials: Credentials) -> str:
        """``the service principal of app <client ID> (certificate <thumbprint>)``."""
        record = self.own(credentials, CertificateCredentials)
        if record is None:
            return "the service principal of app ?"
        try:
            thumbprint = f" (certificate {record.thumbprint})"
        except Exception:  # unreadable material is reported by the input check
            thumbprint = ""
        return f"the service principal of app {record.client_id}{thumbprint}"

    def cloud_of(self, credentials: Credentials) -> str | None:
        """The record's cloud slug (None for another method's record)."""
        record = self.own(credentials, CertificateCredentials)
        return record.cloud if record else None

    def tenant_of(self, credentials: Credentials) -> str | None:
        """The record's tenant (None for another method's record)."""
        record = self.own(credentials, CertificateCredentials)
        return record.tenant_id if record else None
