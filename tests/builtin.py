"""What the built-in methods share in tests: their slugs, and the ambient identity environment."""

import pytest

BUILTIN_METHODS = ["oauth", "client-secret", "certificate", "workload-identity", "managed-identity", "access-key"]
"""The built-in auth methods, in registration order (what `types` lists under the operator policy)."""
ACTS_AS_HOST = ("workload-identity", "managed-identity")
"""The built-in methods that use the host's own identity: off under the default (library) host policy."""
LIBRARY_METHODS = [m for m in BUILTIN_METHODS if m not in ACTS_AS_HOST]
"""The built-in methods a host with the default policy offers, in registration order."""

AMBIENT_IDENTITY_ENV = (
    "AZURE_TENANT_ID",
    "AZURE_CLIENT_ID",
    "AZURE_FEDERATED_TOKEN_FILE",
    "IDENTITY_ENDPOINT",
    "IDENTITY_HEADER",
    "IDENTITY_SERVER_THUMBPRINT",
    "MSI_ENDPOINT",
    "MSI_SECRET",
    "IMDS_ENDPOINT",
    "AZURE_POD_IDENTITY_AUTHORITY_HOST",
)
"""Variables workload identity (AKS) and MSAL's managed-identity client read from the environment."""


def clear_ambient_identity(monkeypatch: pytest.MonkeyPatch) -> None:
    """A test sees no identity from the machine it runs on (AKS defaults, managed-identity endpoints)."""
    for var in AMBIENT_IDENTITY_ENV:
        monkeypatch.delenv(var, raising=False)
