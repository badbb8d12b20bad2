"""The two auth methods of the Azure App Configuration connection type.

Import-light: msal and azure are imported inside the methods that need them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Mapping

from .records import Credentials, RotateCallback

if TYPE_CHECKING:  # pragma: no cover
    from azure.core.credentials import TokenCredential

    from .schema import ClientSecretCredentials, OAuthCredentials, OAuthInput

    from .auth.flow_store import FlowStore
    from .auth.oauth import AuthorizationRequest
    from .settings import InstanceSettings


class OAuthMethod:
    """Sign in a user through the instance's app registration (authorization-code flow)."""

    slug = "oauth"
    name = "OAuth"

    def __repr__(self) -> str:
        return "OAuthMethod()"

    def input_schema(self) -> dict[str, Any]:
        from .schema import oauth_schema

        return oauth_schema()

    def parse(self, data: Mapping[str, Any]) -> OAuthInput:
        from .schema import parse_oauth_input

        return parse_oauth_input(data)

    def begin(
        self,
        oauth_input: OAuthInput | Mapping[str, Any] | None = None,
        *,
        settings: InstanceSettings | None = None,
        flow_store: FlowStore | None = None,
        **options: Any,
    ) -> AuthorizationRequest:
        """Start a flow: returns the authorization URL and its state (see ``auth.oauth.begin``)."""
        from .auth import oauth
        from .schema import OAuthInput

        if oauth_input is not None and not isinstance(oauth_input, OAuthInput):
            oauth_input = self.parse(oauth_input)
        return oauth.begin(oauth_input, settings=settings, flow_store=flow_store, **options)

    def complete(
        self,
        params: Mapping[str, Any],
        *,
        settings: InstanceSettings | None = None,
        flow_store: FlowStore | None = None,
        **options: Any,
    ) -> OAuthCredentials:
        """Finish a flow from the callback's query parameters; returns the credentials to store."""
        from .auth import oauth

        return oauth.complete(params, settings=settings, flow_store=flow_store, **options)

    def token_credential(
        self,
        credentials: Credentials,
        *,
        on_rotate: RotateCallback | None = None,
        settings: InstanceSettings | None = None,
    ) -> TokenCredential:
        from .auth.credential import OAuthTokenCredential
        from .errors import FieldError, InvalidInput
        from .schema import OAuthCredentials
        from .settings import InstanceSettings

        if not isinstance(credentials, OAuthCredentials):
            raise InvalidInput(errors=[FieldError("credentials", "oauth needs the credentials returned by complete()")])
        return OAuthTokenCredential(credentials, settings or InstanceSettings.from_env(), on_rotate=on_rotate)


class ClientSecretMethod:
    """Authenticate as a service principal (tenant, client ID, client secret)."""

    slug = "client-secret"
    name = "Client secret"

    def __repr__(self) -> str:
        return "ClientSecretMethod()"

    def input_schema(self) -> dict[str, Any]:
        from .schema import client_secret_schema

        return client_secret_schema()

    def parse(self, data: Mapping[str, Any]) -> ClientSecretCredentials:
        from .schema import parse_client_secret

        return parse_client_secret(data)

    def token_credential(
        self, credentials: Credentials, *, on_rotate: RotateCallback | None = None, **_: Any
    ) -> TokenCredential:
        from .auth.credential import ClientSecretTokenCredential
        from .errors import FieldError, InvalidInput
        from .schema import ClientSecretCredentials

        if not isinstance(credentials, ClientSecretCredentials):
            raise InvalidInput(errors=[FieldError("credentials", "client-secret needs ClientSecretCredentials")])
        return ClientSecretTokenCredential(credentials)
