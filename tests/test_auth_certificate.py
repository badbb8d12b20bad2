"""The certificate method: key material checked before any request, MSAL's certificate credential
replayed from cassettes, secrets never shown."""

from __future__ import annotations

import base64
import json
import logging
import time
from typing import Any

import pytest

import certs
from app_connections.testing import fakes
from azure_appconfig_plugin.auth import certificate_messages as decl
from azure_appconfig_plugin.connection import build_connection_type
from azure_appconfig_plugin.errors import AppNotFound, InvalidClientCertificate, InvalidInput
from azure_appconfig_plugin.methods.certificate import CertificateCredentials

CT = build_connection_type()
SCOPE = "https://azconfig.io/.default"
PASSPHRASE = "canary-passphrase-Kd9"
BASE = {"tenantId": fakes.FAKE_TENANT_ID, "clientId": fakes.FAKE_CLIENT_ID}


def form(**fields: Any) -> dict[str, Any]:
    return {**BASE, **fields}


def pem_form(**extra: Any) -> dict[str, Any]:
    return form(privateKey=certs.key_pem(), certificate=certs.cert_pem(), **extra)


def field_error(data: dict[str, Any]) -> tuple[str, str]:
    with pytest.raises(InvalidInput) as err:
        CT.parse("certificate", data)
    assert len(err.value.errors) == 1, err.value.errors
    e = err.value.errors[0]
    for secret in (certs.key_pem(), PASSPHRASE):
        assert secret not in str(err.value)
    return e.field, e.message


def jwt_parts(token: str) -> tuple[dict[str, Any], dict[str, Any]]:
    def part(p: str) -> dict[str, Any]:
        return json.loads(base64.urlsafe_b64decode(p + "=" * (-len(p) % 4)))  # type: ignore[no-any-return]  # a JSON object here

    header, claims, _ = token.split(".")
    return part(header), part(claims)


@pytest.fixture
def sent(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """The form bodies MSAL posts, before the cassette's sanitizer redacts them."""
    import requests

    bodies: list[dict[str, Any]] = []
    post = requests.Session.post

    def spy(self: Any, url: str, data: Any = None, **kwargs: Any) -> Any:
        bodies.append(dict(data or {}))
        return post(self, url, data=data, **kwargs)

    monkeypatch.setattr(requests.Session, "post", spy)
    return bodies


def sent_assertion(bodies: list[dict[str, Any]]) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    body = bodies[-1]
    assertion = body["client_assertion"]
    return (*jwt_parts(assertion.decode() if isinstance(assertion, bytes) else assertion), body)


# --- parse / load -------------------------------------------------------------------------------


def test_pem_pair_parses_and_round_trips_with_a_computed_thumbprint() -> None:
    creds = CT.parse("certificate", pem_form())
    assert isinstance(creds, CertificateCredentials) and creds.method == "certificate"
    assert creds.thumbprint == certs.sha1(certs.cert())
    stored = creds.to_dict()
    assert stored["method"] == "certificate" and stored["sendCertificateChain"] is False
    assert CT.load(stored) == creds
    assert certs.key_pem() not in repr(creds) and "BEGIN" not in str(creds)


def test_pkcs12_with_passphrase_parses_and_round_trips() -> None:
    creds = CT.parse("certificate", form(pkcs12=certs.pkcs12_b64(passphrase=PASSPHRASE), passphrase=PASSPHRASE))
    assert creds.thumbprint == certs.sha1(certs.cert())
    assert CT.load(creds.to_dict()) == creds
    assert PASSPHRASE not in repr(creds)


def test_encrypted_pem_key_with_its_passphrase_parses() -> None:
    creds = CT.parse(
        "certificate",
        form(privateKey=certs.key_pem(passphrase=PASSPHRASE), certificate=certs.cert_pem(), passphrase=PASSPHRASE),
    )
    assert creds.thumbprint == certs.sha1(certs.cert())


def test_traditional_rsa_pem_parses() -> None:
    CT.parse("certificate", form(privateKey=certs.key_pem(traditional=True), certificate=certs.cert_pem()))


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        (form(privateKey=certs.key_pem("other"), certificate=certs.cert_pem()), "certificate", decl.MISMATCH),
        (
            form(privateKey=certs.key_pem(passphrase=PASSPHRASE), certificate=certs.cert_pem(), passphrase="wrong"),
            "passphrase",
            decl.WRONG_PASSPHRASE,
        ),
        (
            form(privateKey=certs.key_pem(passphrase=PASSPHRASE), certificate=certs.cert_pem()),
            "passphrase",
            decl.NEEDS_PASSPHRASE,
        ),
        (
            form(privateKey=certs.key_pem(), certificate=certs.cert_pem(), passphrase=PASSPHRASE),
            "passphrase",
            decl.UNNEEDED_PASSPHRASE,
        ),
        (
            form(pkcs12=certs.pkcs12_b64(passphrase=PASSPHRASE), passphrase="wrong"),
            "passphrase",
            decl.PKCS12_WRONG_PASSPHRASE,
        ),
        (form(pkcs12=certs.pkcs12_b64(passphrase=PASSPHRASE)), "passphrase", decl.PKCS12_NEEDS_PASSPHRASE),
        (form(pkcs12="bm90IGEgcGZ4"), "pkcs12", decl.NOT_PKCS12),
        (
            form(
                privateKey="-----BEGIN PRIVATE KEY-----\nnope\n-----END PRIVATE KEY-----\n",
                certificate=certs.cert_pem(),
            ),
            "privateKey",
            decl.NOT_A_KEY,
        ),
        (form(privateKey=certs.key_pem(), certificate="not a certificate"), "certificate", decl.NOT_A_CERT),
        (
            form(privateKey=certs.key_pem("ec"), certificate=certs.cert_pem(certs.cert("ec"))),
            "privateKey",
            decl.NOT_RSA,
        ),
    ],
)
def test_bad_material_is_invalid_input_naming_the_field(data: dict[str, Any], field: str, message: str) -> None:
    assert field_error(data) == (field, message)


@pytest.mark.parametrize(
    ("certificate", "words"),
    [
        (certs.cert("old", days_before=400, days_after=-1), "has expired"),
        (certs.cert("future", days_before=-2, days_after=30), "is not valid yet"),
    ],
)
def test_a_certificate_outside_its_validity_period_is_refused_at_parse(certificate: Any, words: str) -> None:
    name = "old" if "expired" in words else "future"
    field, message = field_error(form(privateKey=certs.key_pem(name), certificate=certs.cert_pem(certificate)))
    assert field == "certificate" and message.startswith(words) and "UTC" in message
    field, _ = field_error(form(pkcs12=certs.pkcs12_b64(name, certificate=certificate)))
    assert field == "pkcs12"


def test_stored_expired_certificate_loads_but_gets_no_token_and_sends_nothing() -> None:
    old = certs.cert("old", days_before=400, days_after=-1)
    stored = {"method": "certificate", **form(privateKey=certs.key_pem("old"), certificate=certs.cert_pem(old))}
    creds = CT.load(stored)  # the host can still show (and replace) it
    with pytest.raises(InvalidInput) as err:  # the network is blocked: a request would fail differently
        CT.token_credential(creds).get_token(SCOPE)
    assert err.value.field == "certificate" and "expired" in str(err.value)


@pytest.mark.parametrize(
    ("data", "field"),
    [
        (form(), "privateKey"),
        (form(privateKey=certs.key_pem()), "certificate"),
        (form(certificate=certs.cert_pem()), "privateKey"),
        (form(privateKey=certs.key_pem(), certificate=certs.cert_pem(), pkcs12=certs.pkcs12_b64()), "pkcs12"),
    ],
)
def test_key_and_certificate_or_pkcs12(data: dict[str, Any], field: str) -> None:
    assert field_error(data)[0] == field


def test_schema_says_privatekey_and_certificate_or_pkcs12() -> None:
    import jsonschema

    schema = CT.methods["certificate"].input_schema()
    validator = jsonschema.Draft202012Validator(schema)
    assert validator.is_valid(pem_form()) and validator.is_valid(form(pkcs12="QUJD"))
    assert not validator.is_valid(form(privateKey="k")) and not validator.is_valid(form())
    assert not validator.is_valid({**pem_form(), "pkcs12": "QUJD"})
    assert schema["properties"]["privateKey"]["writeOnly"] and schema["properties"]["pkcs12"]["writeOnly"]
    assert "thumbprint" not in schema["properties"]


# --- tokens (cassettes) ---------------------------------------------------------------------------


def test_token_with_a_certificate_signed_assertion(azure_vcr, sent: list[dict[str, Any]]) -> None:
    creds = CT.parse("certificate", pem_form())
    with azure_vcr.use_cassette("certificate_token.yaml") as cassette:
        token = CT.token_credential(creds).get_token(SCOPE)
    assert token.token == fakes.FAKE_ACCESS_TOKEN and cassette.all_played
    header, claims, body = sent_assertion(sent)
    assert body["client_assertion_type"] == "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
    assert b"REDACTED" in cassette.requests[1].body  # what a recording would keep
    assert "client_secret" not in body
    thumb = base64.urlsafe_b64encode(bytes.fromhex(certs.sha1(certs.cert()))).decode()
    assert header["alg"] == "RS256" and header["x5t"].rstrip("=") == thumb.rstrip("=") and "x5c" not in header
    assert claims["iss"] == claims["sub"] == fakes.FAKE_CLIENT_ID
    assert claims["aud"] == f"https://login.microsoftonline.com/{fakes.FAKE_TENANT_ID}/oauth2/v2.0/token"
    assert claims["exp"] - time.time() <= 601


def test_send_certificate_chain_puts_the_chain_in_x5c(azure_vcr, sent: list[dict[str, Any]]) -> None:
    leaf = certs.cert("leaf", issuer="ca")
    creds = CT.parse(
        "certificate",
        form(pkcs12=certs.pkcs12_b64("leaf", certificate=leaf, extra=(certs.cert("ca"),)), sendCertificateChain=True),
    )
    with azure_vcr.use_cassette("certificate_token.yaml"):
        CT.token_credential(creds).get_token(SCOPE)
    header, _, _ = sent_assertion(sent)
    assert len(header["x5c"]) == 2
    assert base64.b64decode(header["x5c"][0]) == leaf.public_bytes(certs.serialization.Encoding.DER)


@pytest.mark.parametrize(
    ("cassette", "error", "code", "field", "words"),
    [
        (
            "certificate_not_uploaded.yaml",
            InvalidClientCertificate,
            "AADSTS700027",
            "certificate",
            "Certificates & secrets",
        ),
        ("certificate_clock_skew.yaml", InvalidClientCertificate, "AADSTS700024", None, "clock"),
    ],
)
def test_identity_errors_are_typed_and_say_what_to_fix(
    azure_vcr, cassette: str, error: type, code: str, field: str | None, words: str
) -> None:
    creds = CT.parse("certificate", pem_form())
    with azure_vcr.use_cassette(cassette), pytest.raises(error) as err:
        CT.token_credential(creds).get_token(SCOPE)
    exc = err.value
    assert exc.code == code and exc.field == field and words in str(exc)
    assert "BEGIN" not in str(exc) and "BEGIN" not in repr(exc.to_dict())


def test_app_not_found_keeps_its_meaning_for_certificates(azure_vcr) -> None:
    creds = CT.parse("certificate", pem_form())
    with azure_vcr.use_cassette("client_secret_app_not_found.yaml"), pytest.raises(AppNotFound):
        CT.token_credential(creds).get_token(SCOPE)


def test_validation_reaches_the_store_and_names_the_certificate(azure_vcr, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    key = certs.key_pem(passphrase=PASSPHRASE)
    data = form(privateKey=key, certificate=certs.cert_pem(), passphrase=PASSPHRASE)
    with azure_vcr.use_cassette("certificate_store_healthy.yaml"):
        report = build_connection_type().validate(
            data,
            method="certificate",
            endpoint=fakes.FAKE_STORE_ENDPOINT,
            env={},
            client_options={"retry_backoff_factor": 0},
        )
    assert report.ok, report.to_dict()
    checks = {c.name: c for c in report.checks}
    assert certs.sha1(certs.cert()) in checks["KeyValue.Read"].detail
    assert "instance settings" not in checks
    text = json.dumps(report.to_dict()) + "\n".join(
        r.getMessage() for r in caplog.records if not r.name.startswith("vcr")
    )
    for secret in (key, PASSPHRASE, certs.key_pem()):
        assert secret not in text


def test_validation_reports_bad_material_as_input_failure() -> None:
    report = build_connection_type().validate(
        form(privateKey=certs.key_pem("other"), certificate=certs.cert_pem()),
        method="certificate",
        endpoint=fakes.FAKE_STORE_ENDPOINT,
        env={},
    )
    first = report.checks[0]
    assert first.name == "input" and first.status.value == "failed" and "certificate" in first.detail
    assert "BEGIN" not in json.dumps(report.to_dict())
