"""Secrets stay in their lane: a private key in a public field is refused, never stored under a
public name nor shown to a hook without the secrets grant; rejected names, paths and URLs that look
like secrets are not repeated, and none is repeated with its control characters."""

from __future__ import annotations

from typing import Any

import pytest

import certs
from app_connections.fields import PRIVATE_KEY_IN_PUBLIC_FIELD
from app_connections.stores.redis import connect, redact_url
from app_connections.testing import fakes
from app_connections.text import WITHHELD, holds_private_key, looks_secret, quoted_value, shown_value
from app_connections.trust.hooks import SecretWithheld, credentials_view
from azure_appconfig_plugin.connection import build_connection_type
from azure_appconfig_plugin.doctor import run_doctor
from azure_appconfig_plugin.errors import AppConnectionError, InvalidInput
from azure_appconfig_plugin.methods.certificate import CertificateCredentials

CT = build_connection_type()
BASE = {"tenantId": fakes.FAKE_TENANT_ID, "clientId": fakes.FAKE_CLIENT_ID}
JWT = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJjYW5hcnktand0LVE5In0.c2lnbmF0dXJlLWNhbmFyeQ"
PASSWORD = "canary-redis-pw-Z3"


def key_body() -> str:
    return certs.key_pem().splitlines()[5]


def everything_shown(err: AppConnectionError) -> str:
    return str(err) + repr(err.to_dict()) + repr(err)


def test_a_combined_pem_in_the_public_certificate_field_is_refused_and_not_repeated() -> None:
    combined = certs.cert_pem() + certs.key_pem()
    with pytest.raises(InvalidInput) as err:
        CT.parse("certificate", {**BASE, "privateKey": certs.key_pem(), "certificate": combined})
    assert [(e.field, e.message) for e in err.value.errors] == [("certificate", PRIVATE_KEY_IN_PUBLIC_FIELD)]
    assert key_body() not in everything_shown(err.value)


def test_any_public_field_refuses_a_private_key() -> None:
    with pytest.raises(InvalidInput) as err:
        CT.parse("client-secret", {**BASE, "tenantId": certs.key_pem(), "clientSecret": "s"})
    assert ("tenantId", PRIVATE_KEY_IN_PUBLIC_FIELD) in [(e.field, e.message) for e in err.value.errors]


def test_a_record_built_with_a_key_in_its_certificate_gets_no_token_and_shows_no_hook() -> None:
    record = CertificateCredentials(
        tenant_id=fakes.FAKE_TENANT_ID,
        client_id=fakes.FAKE_CLIENT_ID,
        private_key=certs.key_pem(),
        certificate=certs.cert_pem() + certs.key_pem(),
    )
    with pytest.raises(InvalidInput) as err:
        record.material()
    assert err.value.errors[0].field == "certificate" and key_body() not in everything_shown(err.value)
    with pytest.raises(InvalidInput):
        CT.load(record.to_dict())  # stored under the public name: refused when read back
    view = credentials_view(record, CT.methods["certificate"].input_schema())
    assert view is not None and "certificate" not in view.to_dict()
    with pytest.raises(SecretWithheld):
        _ = view.certificate
    assert key_body() not in repr(view) + repr(view.to_dict())


@pytest.mark.parametrize(
    "name",
    [JWT, certs.key_pem(), f"redis://u:{PASSWORD}@h", f"u:{PASSWORD}@h:6379", f"Endpoint=x;Secret={PASSWORD}"],
    ids=["jwt", "pem", "url userinfo", "bare userinfo", "connection string"],
)
def test_a_secret_pasted_as_a_field_name_is_not_repeated(name: str) -> None:
    with pytest.raises(InvalidInput) as err:
        CT.parse("client-secret", {**BASE, "clientSecret": "s", name: "x"})
    shown = everything_shown(err.value)
    assert WITHHELD in shown
    for secret in (JWT, PASSWORD, key_body()):
        assert secret not in shown


def test_control_characters_in_a_field_name_are_stripped() -> None:
    with pytest.raises(InvalidInput) as err:
        CT.parse("client-secret", {**BASE, "clientSecret": "s", "evil\x1b[31m\r\nname\u202e": "x"})
    field = err.value.errors[-1].field
    assert field == "evil[31m name" or "evilname" in field.replace(" ", "")
    assert not any(ch in everything_shown(err.value) for ch in "\x1b\r\u202e")


def test_a_federated_token_pasted_as_the_token_file_path_is_not_repeated() -> None:
    with pytest.raises(AppConnectionError) as err:
        record = CT.parse("workload-identity", {**BASE, "tokenFilePath": "/" + JWT})
        CT.token_credential(record).get_token("https://azconfig.io/.default")
    assert JWT not in everything_shown(err.value)


@pytest.mark.parametrize(
    "url",
    [f"u:{PASSWORD}@redis.internal:6379", f":{PASSWORD}@redis.internal", f"redis://:{PASSWORD}@h\x1b[2J:6379/0"],
)
def test_a_redis_url_never_shows_its_password_or_control_characters(url: str) -> None:
    shown = redact_url(url)
    assert PASSWORD not in shown and "\x1b" not in shown
    report = run_doctor({"INF_APP_CONNECTION_AZURE_APP_CONFIGURATION_REDIS_URL": url})
    text = repr(report.to_dict()) + repr(report)
    assert PASSWORD not in text and "\x1b" not in text
    with pytest.raises(AppConnectionError) as err:
        connect(url if "://" not in url else "bogus" + url)
    assert PASSWORD not in everything_shown(err.value)


@pytest.mark.parametrize(
    ("value", "secret"),
    [(JWT, True), ("-----BEGIN CERTIFICATE-----", True), ("https://a:b@h", True), ("tenantId", False), ("/x/y", False)],
)
def test_the_text_helpers(value: str, secret: bool) -> None:
    assert looks_secret(value) is secret
    assert (shown_value(value) == WITHHELD) is secret
    assert quoted_value(value) == (WITHHELD if secret else repr(value))
    assert holds_private_key(certs.key_pem()) and holds_private_key(certs.key_pem(traditional=True))
    assert not holds_private_key(certs.cert_pem()) and not holds_private_key(None)


def test_unknown_method_and_cloud_are_not_repeated_when_secret() -> None:
    errors: list[Any] = []
    for call in (
        lambda: CT.parse(JWT, {}),
        lambda: CT.parse("client-secret", {**BASE, "clientSecret": "s", "cloud": JWT}),
    ):
        with pytest.raises(InvalidInput) as err:
            call()
        errors.append(err.value)
    for err in errors:
        assert JWT not in everything_shown(err)
