"""``certificate``: a service principal that proves itself with a certificate. Import-light: the key
material is read (``auth.certificate``, cryptography) only when input is parsed."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..records import Credentials, RotateCallback
from .base import DeclaredAuthMethod
from .names import CONNECTION_TYPE, MICROSOFT_ENTRA

if TYPE_CHECKING:  # pragma: no cover
    from azure.core.credentials import TokenCredential

    from ..auth.certificate import CertificateCredentials
    from ..fields import CrossRule, Field, OneOf


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

    # The declarations import lazily (import-light registration): read-only properties.
    @property
    def input_fields(self) -> tuple[Field, ...]:  # type: ignore[override]  # read-only: the fields import lazily
        from .certificate_fields import INPUT_FIELDS

        return INPUT_FIELDS

    @property
    def input_choices(self) -> tuple[OneOf, ...]:  # type: ignore[override]  # read-only: the fields import lazily
        from .certificate_fields import KEY_OR_PKCS12

        return (KEY_OR_PKCS12,)

    @property
    def input_rules(self) -> tuple[CrossRule, ...]:  # type: ignore[override]  # read-only: the fields import lazily
        from .certificate_fields import MATERIAL_RULE, VALIDITY_RULE

        return (MATERIAL_RULE, VALIDITY_RULE)

    @property
    def stored_rules(self) -> tuple[CrossRule, ...]:  # type: ignore[override]  # read-only: the fields import lazily
        """Loading stored credentials does not fail on an expired certificate (the host can still show and
        replace it); the token credential refuses it before any request."""
        from .certificate_fields import MATERIAL_RULE

        return (MATERIAL_RULE,)

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

    def principal(self, credentials: Any) -> str:
        try:
            thumbprint = f" (certificate {credentials.thumbprint})"
        except Exception:  # unreadable material is reported by the input check
            thumbprint = ""
        return f"the service principal of app {getattr(credentials, 'client_id', '?')}{thumbprint}"
