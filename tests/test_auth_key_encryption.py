"""A PEM key encrypted with a cipher the cryptography library cannot decrypt is its own error,
naming the field and the fix (re-encrypt with AES), never "wrong passphrase"; a wrong passphrase is
still one. A PKCS#12 file cryptography refuses is one honest error on the passphrase (cryptography
cannot tell a wrong passphrase from a cipher it cannot decrypt), naming both and the fix. The keys
are built here: cryptography writes AES, and the test swaps the cipher's (or PRF's) identifier for
one of the same length that cryptography refuses."""

from __future__ import annotations

import base64
import hashlib
import hmac
from typing import Any

import pytest
from asn1crypto import pkcs12
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.serialization import PrivateFormat
from cryptography.hazmat.primitives.serialization import pkcs12 as crypto_pkcs12

import certs
from app_connections.testing import fakes
from azure_appconfig_plugin.auth import certificate_messages as decl
from azure_appconfig_plugin.connection import build_connection_type
from azure_appconfig_plugin.errors import InvalidInput
from azure_appconfig_plugin.methods.certificate import CertificateCredentials

CT = build_connection_type()
PASSPHRASE = "canary-passphrase-Vt7"
BASE = {"tenantId": fakes.FAKE_TENANT_ID, "clientId": fakes.FAKE_CLIENT_ID}

# DER of the OIDs swapped below (tag 06, length, contents); each pair has the same length, so no
# enclosing length changes.
AES_256_CBC = bytes.fromhex("060960864801650304012a")  # 2.16.840.1.101.3.4.1.42
ARIA_256_CBC = bytes.fromhex("06092a831a8c9a6e01010c")  # 1.2.410.200046.1.1.12: OpenSSL writes it, cryptography cannot
UNKNOWN_CIPHER = bytes.fromhex("060960864801650304017f")  # 2.16.840.1.101.3.4.1.127: no cipher at all
HMAC_SHA256 = bytes.fromhex("06082a864886f70d0209")  # 1.2.840.113549.2.9, PBKDF2's PRF
HMAC_SHA512_224 = bytes.fromhex("06082a864886f70d020c")  # 1.2.840.113549.2.12: cryptography refuses it as a PRF


def field_error(data: dict[str, Any]) -> tuple[str, str]:
    with pytest.raises(InvalidInput) as err:
        CT.parse("certificate", {**BASE, **data})
    assert len(err.value.errors) == 1, err.value.errors
    material = [data[name][40:80] for name in ("privateKey", "pkcs12") if name in data]
    for secret in (PASSPHRASE, *material):
        assert secret not in str(err.value) and secret not in repr(err.value.to_dict())
    return err.value.errors[0].field, err.value.errors[0].message


def swapped(data: bytes, old: bytes, new: bytes) -> bytes:
    assert old in data and len(old) == len(new)
    return data.replace(old, new)


def pkcs8_der(pem: str) -> bytes:
    return base64.b64decode("".join(pem.strip().splitlines()[1:-1]))


def pkcs8_pem(der: bytes) -> str:
    body = base64.encodebytes(der).decode()
    return f"-----BEGIN ENCRYPTED PRIVATE KEY-----\n{body}-----END ENCRYPTED PRIVATE KEY-----\n"


def camellia_traditional() -> str:
    # `openssl rsa -camellia256` writes this header; cryptography reads AES and DES-EDE3 only
    pem = certs.key_pem(passphrase=PASSPHRASE, traditional=True)
    assert "DEK-Info: AES-256-CBC," in pem  # both ciphers take a 16-byte IV: the header stays valid
    return pem.replace("DEK-Info: AES-256-CBC,", "DEK-Info: CAMELLIA-256-CBC,")


def aria_pkcs8() -> str:  # PBES2 with ARIA-256-CBC (`openssl pkcs8 -topk8 -v2 aria-256-cbc`)
    return pkcs8_pem(swapped(pkcs8_der(certs.key_pem(passphrase=PASSPHRASE)), AES_256_CBC, ARIA_256_CBC))


def sha512_224_prf_pkcs8() -> str:  # PBES2 with AES, but a PRF cryptography lacks (`-v2prf hmacWithSHA512-224`)
    return pkcs8_pem(swapped(pkcs8_der(certs.key_pem(passphrase=PASSPHRASE)), HMAC_SHA256, HMAC_SHA512_224))


# --- PEM --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("key", [camellia_traditional, aria_pkcs8, sha512_224_prf_pkcs8])
@pytest.mark.parametrize("passphrase", [PASSPHRASE, "wrong", None])
def test_a_pem_key_in_a_cipher_cryptography_cannot_decrypt_says_so_whatever_the_passphrase(
    key: Any, passphrase: str | None
) -> None:
    data = {"privateKey": key(), "certificate": certs.cert_pem()}
    if passphrase:
        data["passphrase"] = passphrase
    field, message = field_error(data)
    assert (field, message) == ("privateKey", decl.UNSUPPORTED_KEY_ENCRYPTION)
    assert "openssl pkcs8 -topk8 -v2 aes-256-cbc" in message and "wrong passphrase" not in message


def test_the_credential_refuses_such_a_key_before_any_request() -> None:
    creds = CertificateCredentials(  # a record a host built without parsing
        tenant_id=fakes.FAKE_TENANT_ID,
        client_id=fakes.FAKE_CLIENT_ID,
        private_key=aria_pkcs8(),
        certificate=certs.cert_pem(),
        passphrase=PASSPHRASE,
    )
    with pytest.raises(InvalidInput) as err:  # the network is blocked: a request would fail differently
        CT.token_credential(creds)
    assert err.value.field == "privateKey" and decl.UNSUPPORTED_KEY_ENCRYPTION in str(err.value)
    assert PASSPHRASE not in str(err.value)


def test_an_older_cryptography_that_raises_unsupported_algorithm_is_read_the_same(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from cryptography.exceptions import UnsupportedAlgorithm
    from cryptography.hazmat.primitives import serialization

    def refuse(data: bytes, password: bytes | None, *args: Any, **kwargs: Any) -> Any:
        if password is None:
            raise TypeError("Password was not given but private key is encrypted")
        raise UnsupportedAlgorithm("Unsupported encryption algorithm")

    monkeypatch.setattr(serialization, "load_pem_private_key", refuse)
    data = {"privateKey": certs.key_pem(passphrase=PASSPHRASE), "certificate": certs.cert_pem()}
    assert field_error({**data, "passphrase": PASSPHRASE}) == ("privateKey", decl.UNSUPPORTED_KEY_ENCRYPTION)
    assert field_error(data) == ("privateKey", decl.UNSUPPORTED_KEY_ENCRYPTION)


@pytest.mark.parametrize("traditional", [False, True])
def test_a_wrong_passphrase_on_a_supported_cipher_is_still_a_wrong_passphrase(traditional: bool) -> None:
    key = certs.key_pem(passphrase=PASSPHRASE, traditional=traditional)
    data = {"privateKey": key, "certificate": certs.cert_pem()}
    assert field_error({**data, "passphrase": "wrong"}) == ("passphrase", decl.WRONG_PASSPHRASE)
    assert field_error(data) == ("passphrase", decl.NEEDS_PASSPHRASE)


def test_a_key_whose_passphrase_is_the_probes_stand_in_still_needs_its_passphrase() -> None:
    # without a passphrase, the key is tried with a stand-in one to learn whether its cipher is usable;
    # a key that opens with the stand-in is still refused without its passphrase
    key = certs.key_pem(passphrase="\x00probe")
    assert field_error({"privateKey": key, "certificate": certs.cert_pem()}) == ("passphrase", decl.NEEDS_PASSPHRASE)


def test_garbage_labelled_encrypted_is_not_a_key_not_a_cipher_problem() -> None:
    garbage = "-----BEGIN ENCRYPTED PRIVATE KEY-----\nnope\n-----END ENCRYPTED PRIVATE KEY-----\n"
    data = {"privateKey": garbage, "certificate": certs.cert_pem(), "passphrase": PASSPHRASE}
    assert field_error(data) == ("privateKey", decl.NOT_A_KEY)


# --- PKCS#12 ----------------------------------------------------------------------------------------


def _mac_key_sha256(password: str | None, salt: bytes, iterations: int) -> bytes:
    # RFC 7292 appendix B.2 for SHA-256 (u = 32, v = 64), ID 3 (MAC key): A = H^r(D || S' || P'),
    # D = 64 bytes of 3, S' and P' the salt and the BMPString password repeated to whole 64-byte blocks
    bmp = b"" if password is None else password.encode("utf-16-be") + b"\x00\x00"

    def fill(x: bytes) -> bytes:
        return (x * 64)[: 64 * -(-len(x) // 64)]

    a = b"\x03" * 64 + fill(salt) + fill(bmp)
    for _ in range(iterations):
        a = hashlib.sha256(a).digest()
    return a


def remac(pfx: bytes, password: str | None) -> bytes:
    """``pfx`` with its SHA-256 MAC recomputed over its (changed) contents, for ``password`` (read and
    written with asn1crypto; the MAC key by the test's own RFC 7292 code above)."""
    parsed = pkcs12.Pfx.load(pfx)
    mac_data = parsed["mac_data"]
    key = _mac_key_sha256(password, mac_data["mac_salt"].native, mac_data["iterations"].native)
    mac_data["mac"]["digest"] = hmac.new(key, parsed["auth_safe"]["content"].native, "sha256").digest()
    return bytes(parsed.dump(force=True))


def aes_pfx() -> bytes:
    encryption = (
        PrivateFormat.PKCS12.encryption_builder()
        .kdf_rounds(2048)
        .key_cert_algorithm(crypto_pkcs12.PBES.PBESv2SHA256AndAES256CBC)
        .hmac_hash(hashes.SHA256())
        .build(PASSPHRASE.encode())
    )
    return crypto_pkcs12.serialize_key_and_certificates(b"test", certs.key(), certs.cert(), None, encryption)


def unusable_pfx(mac_password: str | None = PASSPHRASE) -> str:
    # stands for a PKCS#12 file in a cipher this OpenSSL lacks (RC2 without the legacy provider, say):
    # the cipher's OID is swapped for one no library knows, and the MAC recomputed over the result
    return base64.b64encode(remac(swapped(aes_pfx(), AES_256_CBC, UNKNOWN_CIPHER), mac_password)).decode()


def test_the_tests_mac_helper_reproduces_cryptographys_own_mac() -> None:
    pfx = aes_pfx()
    assert remac(pfx, PASSPHRASE) == pfx and remac(pfx, "wrong") != pfx


def _refused_with(passphrase: str | None, expected: tuple[str, str], pfx: str) -> None:
    data = {"pkcs12": pfx} if passphrase is None else {"pkcs12": pfx, "passphrase": passphrase}
    field, message = field_error(data)
    assert (field, message) == expected
    assert "wrong passphrase" in message or passphrase is None
    assert "cipher this OpenSSL cannot decrypt" in message and "AES-256" in message


def test_a_pkcs12_in_a_cipher_that_cannot_be_decrypted_here_is_one_honest_passphrase_error() -> None:
    # whatever the passphrase, cryptography cannot tell a wrong one from a cipher it cannot decrypt: one
    # message names both, and the fix
    for passphrase in (PASSPHRASE, "wrong"):
        _refused_with(passphrase, ("passphrase", decl.PKCS12_WRONG_PASSPHRASE), unusable_pfx())


def test_a_pkcs12_with_no_password_in_such_a_cipher_names_the_passphrase_and_the_cipher() -> None:
    expected = ("passphrase", decl.PKCS12_NEEDS_PASSPHRASE)
    _refused_with(None, expected, unusable_pfx(mac_password=None))
    _refused_with(None, expected, unusable_pfx())


def test_a_pkcs12_cryptography_refuses_with_its_right_passphrase_gets_the_same_message(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # an OpenSSL without a legacy cipher answers "Invalid password or PKCS12 data" for the right passphrase
    def refuse(data: bytes, password: bytes | None, *args: Any, **kwargs: Any) -> Any:
        raise ValueError("Invalid password or PKCS12 data")

    monkeypatch.setattr(crypto_pkcs12, "load_key_and_certificates", refuse)
    pfx = base64.b64encode(aes_pfx()).decode()
    _refused_with(PASSPHRASE, ("passphrase", decl.PKCS12_WRONG_PASSPHRASE), pfx)
    _refused_with(None, ("passphrase", decl.PKCS12_NEEDS_PASSPHRASE), pfx)


def test_a_passphrase_for_a_pkcs12_without_one_is_still_unneeded() -> None:
    # cryptography refuses it with the passphrase, and the file opens without one
    assert field_error({"pkcs12": certs.pkcs12_b64(), "passphrase": PASSPHRASE}) == (
        "passphrase",
        decl.UNNEEDED_PASSPHRASE,
    )
