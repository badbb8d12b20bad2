"""``managed-identity``: the token credential (MSAL's managed-identity client), with bounded
timeouts and plain errors when no identity endpoint answers.

MSAL picks the identity endpoint from the environment: App Service / Functions / Container Apps
(``IDENTITY_ENDPOINT`` + ``IDENTITY_HEADER``), Azure ML (``MSI_ENDPOINT`` + ``MSI_SECRET``), Azure
Arc, Service Fabric, else the VM's Instance Metadata Service (IMDS, ``http://169.254.169.254``,
or ``AZURE_POD_IDENTITY_AUTHORITY_HOST``). Off Azure, IMDS does not answer: the short connect
timeout makes that a quick, plain error instead of a long hang.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from azure.core.credentials import AccessTokenInfo

from ..clouds import get_cloud
from ..errors import AuthError, IdentityServiceError, IdentityThrottled, ManagedIdentityUnavailable
from ..http import transport
from ..http.errors import HttpPolicyError
from ..http.pin import host_port
from . import msal_apps
from .credential import _accept, _Base, msal_answer, refresh_on, seconds_field

if TYPE_CHECKING:
    from ..methods.managed_identity import ManagedIdentityCredentials

CONNECT_TIMEOUT_SECONDS = 2.0
"""Off Azure nothing listens on the identity endpoint: fail fast."""
READ_TIMEOUT_SECONDS = 15.0
IMDS = "http://169.254.169.254"
_STATUS = re.compile(r"^\s*(\d{3})\b")


def identity_source(env: Mapping[str, str] | None = None) -> tuple[str, str]:
    """``(platform, endpoint)`` MSAL will ask, named for messages (the same order MSAL checks);
    ``env`` defaults to the host policy's (``app_connections.policy.current()``)."""
    if env is None:
        from app_connections import policy as policies

        env = policies.current().env
    if "IDENTITY_ENDPOINT" in env and "IDENTITY_HEADER" in env:
        where = "Service Fabric" if "IDENTITY_SERVER_THUMBPRINT" in env else "App Service / Functions / Container Apps"
        return where, env["IDENTITY_ENDPOINT"]
    if "MSI_ENDPOINT" in env and "MSI_SECRET" in env:
        return "Azure Machine Learning", env["MSI_ENDPOINT"]
    if "IDENTITY_ENDPOINT" in env and "IMDS_ENDPOINT" in env:
        return "Azure Arc", env["IDENTITY_ENDPOINT"]
    host = env.get("AZURE_POD_IDENTITY_AUTHORITY_HOST", IMDS).strip("/")
    return (
        "the Instance Metadata Service (Azure VMs, VM scale sets, AKS nodes)",
        host + "/metadata/identity/oauth2/token",
    )


def _same_as_msal(where: str, endpoint: str) -> None:
    """Refuse an identity endpoint named by the host policy's environment when MSAL, which reads the
    process's own environment, would ask another one (its request would be refused by the pin)."""
    import os

    msal_where, msal_endpoint = identity_source(os.environ)
    if msal_endpoint != endpoint:
        raise ManagedIdentityUnavailable(
            f"the host policy's environment names the managed identity endpoint of {where} ({endpoint}), "
            f"but MSAL reads this process's environment, which names {msal_where} ({msal_endpoint}): "
            "give the policy the process's identity variables (HostPolicy.operator() reads them)",
            code="identity_environment_mismatch",
        )


def _usable(where: str, endpoint: str) -> None:
    """Refuse an identity endpoint the environment names that is not a usable URL, naming it."""
    from ..http.pin import shown_host, unusable

    why = unusable(endpoint)
    if why is not None:
        raise ManagedIdentityUnavailable(
            f"the environment names the managed identity endpoint of {where} as {shown_host(endpoint)}, "
            f"which is not a usable address ({why}): correct the variable that names it "
            "(IDENTITY_ENDPOINT, MSI_ENDPOINT or AZURE_POD_IDENTITY_AUTHORITY_HOST)",
            code="identity_endpoint_unusable",
        )


def _http_client(endpoint: str, timeout: tuple[float, float]) -> Any:
    """MSAL's ``http_client``: the policy's session pinned to the identity endpoint's host and port
    (``kind="identity"``: plain http allowed there, no proxy, the token deadline and size cap),
    with ``timeout`` as the default ``(connect, read)``."""
    return transport.session(*host_port(endpoint), kind="identity", timeout=timeout)


class ManagedIdentityTokenCredential(_Base):
    """Tokens from the host's managed identity for the store's audience (MSAL caches them)."""

    def __init__(
        self,
        credentials: ManagedIdentityCredentials,
        *,
        timeout: tuple[float, float] = (CONNECT_TIMEOUT_SECONDS, READ_TIMEOUT_SECONDS),
        env: Mapping[str, str] | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._credentials = credentials
        self.cloud = get_cloud(credentials.cloud)
        self._timeout = timeout
        self._clock = clock
        found = credentials.user_assigned
        self._where, self._endpoint = identity_source(env)
        _usable(self._where, self._endpoint)
        _same_as_msal(self._where, self._endpoint)
        self._client = msal_apps.get_managed_identity_client(
            found and found[0],
            found and found[1],
            lambda: _http_client(self._endpoint, timeout),
            timeout,
            endpoint=self._endpoint,
        )

    def __repr__(self) -> str:
        return f"ManagedIdentityTokenCredential({self._credentials.describe()}, cloud={self._credentials.cloud!r})"

    def _token(self, scopes: tuple[str, ...], claims: str | None) -> AccessTokenInfo:
        import requests

        _accept(self.cloud, scopes)
        where, endpoint = self._where, self._endpoint
        who = self._credentials.describe()
        found = self._credentials.user_assigned
        # One request per identity and audience at a time: the others wait, then find the token
        # in the MSAL client's cache (IMDS throttles a burst of identical requests).
        with msal_apps.single_flight(endpoint, found[1] if found else "system", self.cloud.audience):
            try:
                result = self._client.acquire_token_for_client(resource=self.cloud.audience, claims_challenge=claims)
            except (AuthError, HttpPolicyError):
                raise
            except requests.Timeout:
                raise ManagedIdentityUnavailable(
                    f"the managed identity endpoint of {where} ({endpoint}) did not answer within "
                    f"{self._timeout[0]:g} s (connect) / {self._timeout[1]:g} s (read): "
                    "this process is probably not on an Azure host with a managed identity",
                    code="identity_endpoint_timeout",
                ) from None
            except (requests.ConnectionError, OSError):
                raise ManagedIdentityUnavailable(
                    f"no managed identity endpoint answered at {endpoint} ({where}): this process is not running on an "
                    "Azure host with a managed identity",
                    code="no_identity_endpoint",
                ) from None
            except ValueError:  # not JSON: something else answers there
                raise ManagedIdentityUnavailable(
                    f"{endpoint} ({where}) answered, but not as a managed identity endpoint",
                    code="no_identity_endpoint",
                ) from None
            except (TypeError, KeyError, AttributeError, OverflowError, RecursionError) as exc:
                raise IdentityServiceError(
                    f"the managed identity endpoint of {where} sent an answer MSAL could not use "
                    f"({type(exc).__name__})",
                    code="malformed_answer",
                ) from None
        result = msal_answer(result, f"the managed identity endpoint of {where}")
        if "access_token" not in result:
            raise _error(result, who, where)
        now = int(self._clock())
        expires_in = seconds_field(result, "expires_in")
        return AccessTokenInfo(
            str(result["access_token"]), now + expires_in, refresh_on=refresh_on(result, now, expires_in)
        )


def _error(result: Mapping[str, Any], who: str, where: str) -> AuthError:
    """MSAL's error result, typed. App Service answers arrive as ``"<status>, <message>"``."""
    error = str(result.get("error") or "")
    description = str(result.get("error_description") or "")
    match = _STATUS.match(description)
    status = int(match.group(1)) if match else None
    said = " ".join(description.split())[:300]
    if status is not None and (status == 429 or status >= 500):
        return (IdentityThrottled if status == 429 else IdentityServiceError)(
            f"the managed identity endpoint of {where} answered {status}; retry later", code=str(status)
        )
    if status in (400, 404) or error in ("invalid_request", "invalid_client", "invalid_scope"):
        return ManagedIdentityUnavailable(
            f"{who} is not available on this host ({where}): enable it, or assign it to this resource. "
            f"The endpoint said: {said or error}",
            code="identity_not_found",
        )
    return ManagedIdentityUnavailable(
        f"{who} could not get a token from {where}: {said or error or 'no details'}", code="identity_error"
    )
