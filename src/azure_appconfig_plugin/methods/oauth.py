"""``oauth``: a user signs in through the instance's app registration (interactive): its field
tuples (the fields are in ``common``), its records (``OAuthInput``, ``OAuthCredentials``) and the
method. ``auth.oauth`` runs the flow and returns a ``Grant``; this module stores it. Import-light."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from app_connections.declared import DeclaredAuthMethod
from app_connections.fields import Field
from app_connections.records import Credentials, RotateCallback
from app_connections.stored_record import StoredRecord

from .common import ACCESS_TOKEN, CLOUD, EXPIRES_ON, INSTANCE_CLIENT_ID, OPTIONAL_TENANT, REFRESH_TOKEN, TENANT
from .names import CONNECTION_TYPE, MICROSOFT_ENTRA

if TYPE_CHECKING:
    from azure.core.credentials import TokenCredential

    from app_connections.flow_store import FlowStore

    from ..auth.oauth import AuthorizationRequest, Grant
    from ..settings import InstanceSettings

INPUT_FIELDS: tuple[Field, ...] = (OPTIONAL_TENANT, CLOUD)
STORED_FIELDS: tuple[Field, ...] = (TENANT, INSTANCE_CLIENT_ID, REFRESH_TOKEN, ACCESS_TOKEN, EXPIRES_ON, CLOUD)


class OAuthInput(StoredRecord, fields=INPUT_FIELDS, method="oauth"):
    """What the oauth form collects; ``begin`` turns it into an authorization URL."""

    tenant_id: str | None
    cloud: str


class OAuthCredentials(StoredRecord, fields=STORED_FIELDS, method="oauth"):
    """What a completed OAuth flow yields and a host stores: the grant of the instance app
    registration (``client_id``); ``expires_on`` is the Unix time the access token expires."""

    tenant_id: str
    client_id: str
    refresh_token: str
    access_token: str | None
    expires_on: int | None
    cloud: str

    def with_tokens(self, refresh_token: str, access_token: str | None, expires_on: int | None) -> OAuthCredentials:
        """The same grant with rotated tokens."""
        return self.replace(refresh_token=refresh_token, access_token=access_token, expires_on=expires_on)


def credentials_from_grant(grant: Grant) -> OAuthCredentials:
    """The credentials to store for the grant a completed sign-in yields (``auth.oauth.Grant``)."""
    return OAuthCredentials(
        tenant_id=grant.tenant_id,
        client_id=grant.client_id,
        refresh_token=grant.refresh_token,
        access_token=grant.access_token,
        expires_on=grant.expires_on,
        cloud=grant.cloud,
    )


class OAuthMethod(DeclaredAuthMethod):
    """Sign in a user through the instance's app registration (authorization-code flow)."""

    slug = "oauth"
    name = "OAuth"
    description = "Sign in with a Microsoft work or school account through the instance's app registration."
    connection_type = CONNECTION_TYPE
    title = "Azure App Configuration: OAuth"
    interactive = True
    identity_provider = MICROSOFT_ENTRA
    input_fields = INPUT_FIELDS
    stored_fields: tuple[Field, ...] | None = STORED_FIELDS
    record = OAuthCredentials

    def input_from(self, values: dict[str, object]) -> OAuthInput:
        """The sign-in input ``begin`` takes, from the parsed form."""
        return OAuthInput(**values)

    def begin(
        self,
        sign_in_input: object = None,
        *,
        settings: InstanceSettings | None = None,
        flow_store: FlowStore | None = None,
        **options: Any,
    ) -> AuthorizationRequest:
        """Start a flow from ``parse()``'s result: the authorization URL and its state (``auth.oauth.begin``)."""
        from ..auth import oauth

        return oauth.begin(
            checked_sign_in_input(sign_in_input),
            settings=settings,
            flow_store=flow_store,
            **options,
        )

    def complete(
        self,
        params: Mapping[str, object],
        *,
        settings: InstanceSettings | None = None,
        flow_store: FlowStore | None = None,
        **options: Any,
    ) -> OAuthCredentials:
        """Finish a flow from the callback's query parameters; returns the credentials to store."""
        from ..auth import oauth
        from ..errors import FieldError, InvalidInput

        if not isinstance(params, Mapping):
            raise InvalidInput(
                errors=[FieldError("params", "complete() needs the callback's query parameters as a mapping")]
            )
        return credentials_from_grant(oauth.complete(params, settings=settings, flow_store=flow_store, **options))

    def token_credential(
        self,
        credentials: Credentials,
        *,
        on_rotate: RotateCallback | None = None,
        settings: object = None,
        **_: object,
    ) -> TokenCredential:
        """A token credential that refreshes with the instance's app registration (``settings``,
        default ``InstanceSettings.from_env()``); ``on_rotate`` gets each rotated refresh token."""
        from ..auth.credential import OAuthTokenCredential
        from ..errors import FieldError, InvalidInput
        from ..settings import InstanceSettings

        if settings is not None and not isinstance(settings, InstanceSettings):
            raise InvalidInput(
                errors=[FieldError("settings", f"must be InstanceSettings, not {type(settings).__name__}")]
            )

        if not isinstance(credentials, OAuthCredentials):
            raise InvalidInput(
                errors=[
                    FieldError(
                        "credentials",
                        "oauth needs the OAuthCredentials returned by complete() "
                        f"or load(), not {type(credentials).__name__}",
                    )
                ]
            )
        return OAuthTokenCredential(
            credentials,
            settings or InstanceSettings.from_env(),
            on_rotate=on_rotate,
        )

    def _record(self, credentials: object) -> OAuthCredentials | None:
        return self.own(credentials, OAuthCredentials)

    def principal(self, credentials: Credentials) -> str:
        """``the user who signed in (tenant <tenant>)``."""
        record = self._record(credentials)
        return f"the user who signed in (tenant {record.tenant_id if record else '?'})"

    def cloud_of(self, credentials: Credentials) -> str | None:
        """The record's cloud slug (None for another method's record)."""
        record = self._record(credentials)
        return record.cloud if record else None

    def tenant_of(self, credentials: Credentials) -> str | None:
        """The record's tenant (None for another method's record)."""
        record = self._record(credentials)
        return record.tenant_id if record else None


if TYPE_CHECKING:  # the type checker holds the method to the kit's protocol of an interactive method
    from app_connections.registrars import InteractiveAuthMethod

    _CONFORMS: InteractiveAuthMethod = OAuthMethod()


def checked_sign_in_input(sign_in_input: object) -> OAuthInput | None:
    """What ``begin`` takes: the ``OAuthInput`` that ``parse('oauth', form)`` returns, or None
    (the instance's defaults); anything else is ``InvalidInput`` naming ``input``."""
    from ..errors import FieldError, InvalidInput

    if sign_in_input is None or isinstance(sign_in_input, OAuthInput):
        return sign_in_input
    raise InvalidInput(
        errors=[
            FieldError(
                "input",
                f"begin() needs the OAuthInput that parse('oauth', form) returns, not {type(sign_in_input).__name__}",
            )
        ]
    )
