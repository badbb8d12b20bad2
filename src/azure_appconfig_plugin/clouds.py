"""Azure clouds: the login host and the App Configuration audience of each.

Sources (checked with the project's documentation search, 2026-11):
- Login hosts: Microsoft Entra "authentication & national clouds"
  (learn.microsoft.com/entra/identity-platform/authentication-national-cloud);
  MSAL for Python lists ``login.partner.microsoftonline.cn`` as the current China host and
  ``login.chinacloudapi.cn`` as deprecated (``msal/authority.py``).
- App Configuration audiences: "Microsoft Entra authentication" of the App Configuration
  REST API (learn.microsoft.com/azure/azure-app-configuration/rest-api-authentication-azure-ad)
  gives ``https://azconfig.io`` for stores on ``*.azconfig.io``; azure-appconfiguration
  (``azure/appconfiguration/_audience.py``) derives the audience from the store host in the same
  way (``x.azconfig.azure.us`` -> ``https://azconfig.azure.us``). Newer docs also list
  ``https://appconfig.azure.{com,us,cn}``; the store-domain audience below is what the service and
  the SDK accept for ``*.azconfig.*`` stores.
"""

from __future__ import annotations

import attrs

from app_connections.text import quoted_value

from .errors import FieldError, InvalidInput


@attrs.frozen
class Cloud:
    """An Azure cloud: its login host and the DNS suffix of its App Configuration stores."""

    slug: str
    title: str
    login_host: str
    store_suffix: str
    """DNS suffix of App Configuration stores in this cloud (``<name>.<suffix>``)."""

    @property
    def authority_base(self) -> str:
        """The identity platform's base URL in this cloud."""
        return f"https://{self.login_host}"

    def authority(self, tenant: str) -> str:
        """The MSAL authority of ``tenant`` in this cloud."""
        return f"{self.authority_base}/{tenant}"

    @property
    def audience(self) -> str:
        """The App Configuration resource (token audience) of this cloud."""
        return f"https://{self.store_suffix}"

    @property
    def scope(self) -> str:
        """The only scope this package ever asks a token for."""
        return f"{self.audience}/.default"

    def store_endpoint(self, name: str) -> str:
        """The endpoint of the store called ``name`` in this cloud."""
        return f"https://{name}.{self.store_suffix}"


PUBLIC = Cloud("public", "Azure (global)", "login.microsoftonline.com", "azconfig.io")
US_GOVERNMENT = Cloud("usgov", "Azure US Government", "login.microsoftonline.us", "azconfig.azure.us")
CHINA = Cloud("china", "Azure operated by 21Vianet (China)", "login.partner.microsoftonline.cn", "azconfig.azure.cn")

CLOUDS: dict[str, Cloud] = {c.slug: c for c in (PUBLIC, US_GOVERNMENT, CHINA)}
DEFAULT_CLOUD = PUBLIC


def get_cloud(slug: str | None) -> Cloud:
    """The cloud ``slug`` names (the public cloud when empty); ``InvalidInput`` for an unknown one."""
    if slug is None or slug == "":
        return DEFAULT_CLOUD
    if not isinstance(slug, str):  # a list or object must be bad input, not TypeError
        raise InvalidInput(errors=[FieldError("cloud", f"must be one of: {', '.join(CLOUDS)}")])
    try:
        return CLOUDS[slug]
    except KeyError:
        raise InvalidInput(
            errors=[FieldError("cloud", f"unknown cloud {quoted_value(slug)}; use one of: {', '.join(CLOUDS)}")]
        ) from None


def cloud_for_host(host: str) -> Cloud | None:
    """The cloud whose store suffix ends ``host``, if any."""
    host = host.lower().rstrip(".")
    for cloud in CLOUDS.values():
        if host.endswith("." + cloud.store_suffix):
            return cloud
    return None
