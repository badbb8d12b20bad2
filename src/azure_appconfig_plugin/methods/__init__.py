"""The auth methods of the Azure App Configuration connection type: one module per method, each a
field declaration (``fields.Field``) plus its token factory. Import-light."""

from app_connections.declared import DeclaredAuthMethod

from .access_key import AccessKeyMethod
from .certificate import CertificateMethod
from .client_secret import ClientSecretMethod
from .managed_identity import ManagedIdentityMethod
from .oauth import OAuthMethod
from .workload_identity import WorkloadIdentityMethod

__all__ = [
    "AccessKeyMethod",
    "CertificateMethod",
    "ClientSecretMethod",
    "DeclaredAuthMethod",
    "ManagedIdentityMethod",
    "OAuthMethod",
    "WorkloadIdentityMethod",
]
