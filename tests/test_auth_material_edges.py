"""Edges of the certificate and workload-identity material: every unusable key, PKCS#12 file or token
file ends in a typed error naming its field, before any request; the credentials' reprs show no secret."""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.serialization import pkcs12

import certs
from app_connections.policy import HostPolicy
from app_connections.testing import fakes
from azure_appconfig_plugin.auth import certificate_messages as decl
from azure_appconfig_plugin.auth.workload_identity import MAX_TOKEN_FILE_BYTES, UNUSABLE
from azure_appconfig_plugin.connection import build_connection_type
from azure_appconfig_plugin.errors import InvalidFederatedToken, InvalidInput
from azure_appconfig_plugin.methods.certificate import CertificateCredentials
from azure_appconfig_plugin.methods.workload_identity import WorkloadIdentityCredentials

CT = build_connection_type().with_policy(HostPolicy.operator())  # an operator's host: its own identity and disk
SCOPE = "https://azconfig.io/.default"
PASSPHRASE = "canary-passphrase-Qm4"
BASE = {"tenantId": fakes.FAKE_TENANT_ID, "clientId": fakes.FAKE_CLIENT_ID}
GARBAGE_KEY = "-----BEGIN PRIVATE KEY-----\nnope\n-----END PRIVATE KEY-----\n"


def pem(label: str, der: bytes) -> str:
    return f"-----BEGIN {label}-----\n{base64.b64encode(der).decode()}\n-----END {label}-----\n"


def field_error(data: dict[str, Any]) -> tuple[str, str]:
    with pytest.raises(InvalidInput) as err:
        CT.parse("certificate", {**BASE, **data})
    assert len(err.value.errors) == 1, err.value.errors
    assert PASSPHRASE not in str(err.value)
    return err.value.errors[0].field, err.value.errors[0].message


# --- certificate -----------------------------------------------------------------------------------


def test_a_key_that_is_not_a_key_is_named_even_with_a_passphrase() -> None:
    # not "wrong passphrase": without the passphrase it does not load either, as no kind of key
    assert field_error({"privateKey": GARBAGE_KEY, "certificate": certs.cert_pem(), "passphrase": PASSPHRASE}) == (
        "privateKey",
        decl.NOT_A_KEY,
    )


def test_a_key_of_an_algorithm_cryptography_does_not_know_is_not_a_key() -> None:
    # PKCS#8 PrivateKeyInfo {version 0, algorithm 1.2.3 (unknown), empty key}: UnsupportedAlgorithm
    unknown = pem("PRIVATE KEY", bytes.fromhex("300b020100300406022a030400"))
    assert field_error({"privateKey": unknown, "certificate": certs.cert_pem()}) == ("privateKey", decl.NOT_A_KEY)


def test_pkcs12_that_passes_the_pattern_but_is_not_base64_is_named() -> None:
    assert field_error({"pkcs12": "QUJDR"}) == ("pkcs12", decl.NOT_PKCS12)  # base64 alphabet, bad padding


def test_pkcs12_without_its_private_key_is_incomplete() -> None:
    data = pkcs12.serialize_key_and_certificates(b"cert-only", None, certs.cert(), None, serialization.NoEncryption())
    assert field_error({"pkcs12": base64.b64encode(data).decode()}) == ("pkcs12", decl.PKCS12_INCOMPLETE)


def test_a_record_built_by_a_host_with_bad_material_is_invalid_input_not_a_crash() -> None:
    creds = CertificateCredentials(
        tenant_id=fakes.FAKE_TENANT_ID,
        client_id=fakes.FAKE_CLIENT_ID,
        private_key=GARBAGE_KEY,
        certificate=certs.cert_pem(),
    )
    with pytest.raises(InvalidInput) as err:
        creds.thumbprint  # noqa: B018 - the property is what a host reads
    assert err.value.field == "privateKey" and GARBAGE_KEY not in str(err.value)
    with pytest.raises(InvalidInput):  # and no token credential (no request) either
        CT.token_credential(creds)


@pytest.mark.parametrize(
    ("material", "field", "message"),
    [
        ({"certificate": certs.cert_pem()}, "privateKey", decl.NOT_A_KEY),
        ({"private_key": certs.key_pem()}, "certificate", decl.NOT_A_CERT),
    ],
)
def test_a_record_built_by_a_host_without_half_its_material_names_the_missing_field(
    material: dict[str, str], field: str, message: str
) -> None:
    creds = CertificateCredentials(tenant_id=fakes.FAKE_TENANT_ID, client_id=fakes.FAKE_CLIENT_ID, **material)
    with pytest.raises(InvalidInput) as err:  # not a TypeError from reading a missing value as text
        creds.thumbprint  # noqa: B018 - the property is what a host reads
    assert [(e.field, e.message) for e in err.value.errors] == [(field, message)]


def test_certificate_credential_repr_shows_the_thumbprint_and_no_key() -> None:
    key = certs.key_pem(passphrase=PASSPHRASE)
    creds = CT.parse(
        "certificate", {**BASE, "privateKey": key, "certificate": certs.cert_pem(), "passphrase": PASSPHRASE}
    )
    text = repr(CT.token_credential(creds))
    assert certs.sha1(certs.cert()) in text and fakes.FAKE_CLIENT_ID in text
    assert "PRIVATE KEY" not in text and PASSPHRASE not in text and key[40:80] not in text


# --- workload identity -----------------------------------------------------------------------------


def wi(path: Path | str) -> WorkloadIdentityCredentials:
    return WorkloadIdentityCredentials(
        tenant_id=fakes.FAKE_TENANT_ID, client_id=fakes.FAKE_CLIENT_ID, token_file_path=str(path)
    )


def _too_long_name(tmp_path: Path) -> Path:
    return tmp_path / ("t" * 300)  # ENAMETOOLONG: an OSError that is neither missing nor a directory


def _too_large(tmp_path: Path) -> Path:
    path = tmp_path / "token"
    path.write_bytes(b"a" * (MAX_TOKEN_FILE_BYTES + 1))
    return path


def _binary(tmp_path: Path) -> Path:
    path = tmp_path / "token"
    path.write_bytes(b"\xff\xfe\x00binary")
    return path


@pytest.mark.parametrize(
    ("make", "reason"),
    [
        (_too_long_name, "ENAMETOOLONG"),
        (_too_large, f"larger than {MAX_TOKEN_FILE_BYTES} bytes"),
        (_binary, "not text"),
    ],
)
def test_more_bad_token_files_are_one_generic_error_before_any_request(
    tmp_path: Path, make: Any, reason: str, caplog: pytest.LogCaptureFixture
) -> None:
    path = make(tmp_path)
    with pytest.raises(InvalidFederatedToken) as err:  # the network is blocked: a request would fail differently
        CT.token_credential(wi(path)).get_token(SCOPE)
    assert err.value.code == "token_file_unusable" and err.value.field == "tokenFilePath"
    assert err.value.message == UNUSABLE and reason in caplog.text


def test_workload_identity_repr_names_the_file_not_its_token(tmp_path: Path) -> None:
    path = tmp_path / "token"
    path.write_text("canary-federated-token-contents")
    text = repr(CT.token_credential(wi(path)))
    assert str(path) in text and fakes.FAKE_CLIENT_ID in text and "canary-federated" not in text
