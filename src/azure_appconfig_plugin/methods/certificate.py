"""``certificate``: a service principal that proves itself with a certificate. Import-light: the key
material is read (``auth.certificate``, cryptography) only when input is parsed."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from app_connections.declared import DeclaredAuthMethod
from app_connections.records import Credentials, RotateCallback

from .names import CONNECTION_TYPE, MICROSOFT_ENTRA

if TYPE_CHECKING:
    from azure.core.credentials import TokenCredential

    from ..auth.certificate import CertificateCredentials


class CertificateMethod(DeclaredAuthMethod):
    """Authenticate as a service principal with a certificate (MSAL's certificate client credential)."""

    slug = "certificate"
    name = "Certificate"
    description = (
        "Authenticate as a service principal with a certificate: its private key and certificate (PEM), "
        "or a PKCS#12 file."
    )
    connection_type = CONNECTION_TYPE
    declarations = ".certificate_fields"
    identity_provider = MICROSOFT_ENTRA

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
        from ..auth.certificate import CertificateCredentials, CertificateTokenCredential

        return CertificateTokenCredential(self.checked(credentials, CertificateCredentials))

    def _record(self, credentials: object) -> CertificateCredentials | None:
        from ..auth.certificate import CertificateCredentials

        return self.own(credentials, CertificateCredentials)

    def principal(self, credentials: Credentials) -> str:
        record = self._record(credentials)
        if record is None:
            return "the service principal of app ?"
        try:
            thumbprint = f" (certificate {record.thumbprint})"
        except Exception:  # unreadable material is reported by the input check
            thumbprint = ""
        return f"the service principal of app {record.client_id}{thumbprint}"

    def cloud_of(self, credentials: Credentials) -> str | None:
        record = self._record(credentials)
        return record.cloud if record else None

    def tenant_of(self, credentials: Credentials) -> str | None:
        record = self._record(credentials)
        return record.tenant_id if record else None
