"""The work an encrypted key or PKCS#12 file asks for is read (asn1crypto) and capped before any key
is derived: a typed error names the field, the parameter and the cap. The hostile inputs are built
here with asn1crypto; their ciphertext is garbage, since nothing may get as far as decrypting it."""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
from typing import Any, ClassVar

import pytest
from asn1crypto import algos, cms, core, keys, pem, pkcs12
from cryptography.hazmat.primitives import hashes, padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.kdf.pbkdf2 import PBKDF2HMAC
from cryptography.hazmat.primitives.serialization import PrivateFormat
from cryptography.hazmat.primitives.serialization import pkcs12 as crypto_pkcs12

import certs
from app_connections.panics import is_library_panic
from app_connections.testing import fakes
from azure_appconfig_plugin.auth import certificate_messages as decl
from azure_appconfig_plugin.auth import key_costs, pbe
from azure_appconfig_plugin.auth.certificate import CertificateTokenCredential
from azure_appconfig_plugin.cli import main
from azure_appconfig_plugin.connection import build_connection_type
from azure_appconfig_plugin.errors import InvalidInput
from azure_appconfig_plugin.methods.certificate import CertificateCredentials

CT = build_connection_type()
PASSPHRASE = "canary-passphrase-Qm4"
BASE = {"tenantId": fakes.FAKE_TENANT_ID, "clientId": fakes.FAKE_CLIENT_ID}
HUGE = (2**31 - 1, 2**32)


# --- builders ---------------------------------------------------------------------------------------


def pbkdf2(iterations: int, salt: bytes | None = None) -> dict[str, Any]:
    salt_value = algos.Pbkdf2Salt(name="specified", value=core.OctetString(salt or os.urandom(8)))
    prf = {"algorithm": "sha256", "parameters": None}
    return {"algorithm": "pbkdf2", "parameters": {"salt": salt_value, "iteration_count": iterations, "prf": prf}}


class ScryptParams(core.Sequence):
    _fields: ClassVar[list[tuple[Any, ...]]] = [
        ("salt", core.OctetString),
        ("cost_parameter", core.Integer),
        ("block_size", core.Integer),
        ("parallelization_parameter", core.Integer),
    ]


def scrypt(n: int, r: int = 8, p: int = 1) -> Any:
    params = ScryptParams({"salt": os.urandom(8), "cost_parameter": n, "block_size": r, "parallelization_parameter": p})
    return algos.KdfAlgorithm({"algorithm": "1.3.6.1.4.1.11591.4.11", "parameters": core.Any.load(params.dump())})


def pbes2(kdf: Any, iv: bytes | None = None) -> algos.EncryptionAlgorithm:
    scheme = {"algorithm": "aes256_cbc", "parameters": core.OctetString(iv or os.urandom(16))}
    return algos.EncryptionAlgorithm(
        {"algorithm": "pbes2", "parameters": {"key_derivation_func": kdf, "encryption_scheme": scheme}}
    )


def encrypted_key_der(algorithm: algos.EncryptionAlgorithm) -> bytes:
    return keys.EncryptedPrivateKeyInfo({"encryption_algorithm": algorithm, "encrypted_data": os.urandom(1200)}).dump()


def encrypted_pem(algorithm: algos.EncryptionAlgorithm) -> str:
    return pem.armor("ENCRYPTED PRIVATE KEY", encrypted_key_der(algorithm)).decode()


def aes_pfx() -> bytes:
    encryption = (
        PrivateFormat.PKCS12.encryption_builder()
        .kdf_rounds(2048)
        .key_cert_algorithm(crypto_pkcs12.PBES.PBESv2SHA256AndAES256CBC)
        .hmac_hash(hashes.SHA256())
        .build(PASSPHRASE.encode())
    )
    return crypto_pkcs12.serialize_key_and_certificates(b"test", certs.key(), certs.cert(), None, encryption)


def remac(pfx: pkcs12.Pfx, iterations: int | None = None) -> bytes:
    """``pfx`` re-encoded with its SHA-256 MAC recomputed for PASSPHRASE (with ``iterations``, or its own)."""
    mac_data = pfx["mac_data"]
    count = iterations or mac_data["iterations"].native
    signed = pfx["auth_safe"]["content"].native
    salt = mac_data["mac_salt"].native
    cheap = min(count, 2048)  # a huge count is refused before the MAC is ever checked: no need to compute it
    password = PASSPHRASE.encode("utf-16-be") + b"\x00\x00"
    key = pbe.pkcs12_kdf("sha256", password, salt, cheap, 3, 32)
    digest = hmac.new(key, signed, "sha256").digest()
    mac = {"mac": {"digest_algorithm": {"algorithm": "sha256"}, "digest": digest}, "mac_salt": salt}
    mac["iterations"] = count
    return pkcs12.Pfx({"version": 3, "auth_safe": pfx["auth_safe"].copy(), "mac_data": mac}).dump(force=True)


def with_safe(pfx_der: bytes, contents: list[Any]) -> bytes:
    """The file with its authenticated safe replaced by ``contents`` (ContentInfos), MAC recomputed."""
    pfx = pkcs12.Pfx.load(pfx_der)
    safe = pkcs12.AuthenticatedSafe(contents).dump()
    auth_safe = cms.ContentInfo({"content_type": "data", "content": core.OctetString(safe)})
    rebuilt = pkcs12.Pfx({"version": 3, "auth_safe": auth_safe, "mac_data": pfx["mac_data"].copy()})
    return remac(pkcs12.Pfx.load(rebuilt.dump()))


def shrouded_bag(algorithm: algos.EncryptionAlgorithm) -> Any:
    value = keys.EncryptedPrivateKeyInfo({"encryption_algorithm": algorithm, "encrypted_data": os.urandom(1200)})
    return pkcs12.SafeBag({"bag_id": "pkcs8_shrouded_key_bag", "bag_value": value})


def data_info(bags: list[Any]) -> Any:
    return cms.ContentInfo({"content_type": "data", "content": core.OctetString(pkcs12.SafeContents(bags).dump())})


def encrypted_info(bags: list[Any], iterations: int = 2048) -> Any:
    """An encryptedData ContentInfo holding ``bags``, really encrypted (PBES2, AES) with PASSPHRASE."""
    salt, iv = os.urandom(8), os.urandom(16)
    key = PBKDF2HMAC(hashes.SHA256(), 32, salt, iterations).derive(PASSPHRASE.encode())
    padder = padding.PKCS7(128).padder()
    plain = padder.update(pkcs12.SafeContents(bags).dump()) + padder.finalize()
    encryptor = Cipher(algorithms.AES(key), modes.CBC(iv)).encryptor()
    content = {
        "content_type": "data",
        "content_encryption_algorithm": pbes2(pbkdf2(iterations, salt), iv),
        "encrypted_content": encryptor.update(plain) + encryptor.finalize(),
    }
    encrypted = cms.EncryptedData({"version": "v0", "encrypted_content_info": content})
    return cms.ContentInfo({"content_type": "encrypted_data", "content": encrypted})


def pfx_b64(der: bytes) -> str:
    return base64.b64encode(der).decode()


# --- no derivation may run ------------------------------------------------------------------------------


@pytest.fixture
def derivations(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every call that would derive a key from the material (cryptography's loaders, our KDFs)."""
    return spy_on_derivations(monkeypatch)


def spy_on_derivations(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The list every call that would derive a key from the material is recorded in, from now on."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.serialization import pkcs12 as loader

    ran: list[str] = []

    def spy(name: str, real: Any) -> Any:
        def call(*args: Any, **kwargs: Any) -> Any:
            ran.append(name)
            return real(*args, **kwargs)

        return call

    monkeypatch.setattr(serialization, "load_pem_private_key", spy("pem", serialization.load_pem_private_key))
    monkeypatch.setattr(loader, "load_key_and_certificates", spy("pkcs12", loader.load_key_and_certificates))
    monkeypatch.setattr(pbe, "pkcs12_kdf", spy("pkcs12_kdf", pbe.pkcs12_kdf))
    monkeypatch.setattr(pbe, "_pbes2_key", spy("pbes2", pbe._pbes2_key))
    return ran


def refused(data: dict[str, Any], field: str, parameter: str) -> InvalidInput:
    with pytest.raises(InvalidInput) as err:
        CT.parse("certificate", {**BASE, **data})
    assert [e.field for e in err.value.errors] == [field]
    message = err.value.errors[0].message
    assert message.startswith(decl.KEY_COST_OVER_CAP) and parameter in message, message
    assert "at most" in message and PASSPHRASE not in str(err.value)
    return err.value


# --- PEM keys ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("iterations", HUGE)
def test_a_pem_key_with_huge_pbkdf2_iterations_is_refused_before_any_derivation(
    iterations: int, derivations: list[str]
) -> None:
    key = encrypted_pem(pbes2(pbkdf2(iterations)))
    for passphrase in (PASSPHRASE, None):
        data = {"privateKey": key, "certificate": certs.cert_pem()}
        if passphrase:
            data["passphrase"] = passphrase
        err = refused(data, "privateKey", "PBKDF2 iterations")
        assert f"{key_costs.MAX_ITERATIONS:,}" in str(err) and f"{iterations:,}" in str(err)
    assert derivations == []


def test_a_pem_key_with_scrypt_past_its_caps_is_refused(derivations: list[str]) -> None:
    memory = encrypted_pem(pbes2(scrypt(2**30)))
    refused({"privateKey": memory, "certificate": certs.cert_pem()}, "privateKey", "scrypt memory")
    work = encrypted_pem(pbes2(scrypt(2**14, r=1, p=2**12)))  # little memory, much work
    refused({"privateKey": work, "certificate": certs.cert_pem()}, "privateKey", "scrypt work")
    assert derivations == []


def test_keys_within_the_caps_still_load() -> None:
    key = certs.key_pem(passphrase=PASSPHRASE)
    CT.parse("certificate", {**BASE, "privateKey": key, "certificate": certs.cert_pem(), "passphrase": PASSPHRASE})
    key_costs.check_encryption(pbes2(scrypt(2**14)))  # openssl pkcs8 -scrypt's defaults
    key_costs.check_encryption(pbes2(pbkdf2(key_costs.MAX_ITERATIONS)))


@pytest.mark.parametrize(
    "pem_text",
    [
        "-----BEGIN ENCRYPTED PRIVATE KEY-----\nAAAA\n-----END ENCRYPTED PRIVATE KEY-----\n",
        "-----BEGIN ENCRYPTED PRIVATE KEY-----\n!!!\n-----END ENCRYPTED PRIVATE KEY-----\n",
        "-----BEGIN ENCRYPTED PRIVATE KEY-----\nMIIB-----END ENCRYPTED PRIVATE KEY-----",
        "-----BEGIN ENCRYPTED PRIVATE KEY-----\nMA==\n-----END encrypted private key-----\n",
    ],
    ids=["not DER", "not base64", "truncated", "a label cryptography might read otherwise"],
)
def test_an_encrypted_block_that_cannot_be_read_never_reaches_cryptography(
    pem_text: str, derivations: list[str]
) -> None:
    with pytest.raises(InvalidInput) as err:
        CT.parse("certificate", {**BASE, "privateKey": pem_text, "certificate": certs.cert_pem()})
    assert err.value.errors[0].message == decl.NOT_A_KEY and derivations == []


# --- PKCS#12 ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("iterations", HUGE)
def test_a_pkcs12_with_huge_mac_iterations_is_refused_before_any_derivation(
    iterations: int, derivations: list[str]
) -> None:
    pfx = pfx_b64(remac(pkcs12.Pfx.load(aes_pfx()), iterations))
    derivations.clear()  # building the input used the KDF
    refused({"pkcs12": pfx, "passphrase": PASSPHRASE}, "pkcs12", "MAC iterations")
    refused({"pkcs12": pfx}, "pkcs12", "MAC iterations")
    assert derivations == []


@pytest.mark.parametrize("iterations", HUGE)
def test_a_pkcs12_key_bag_or_encrypted_contents_with_huge_iterations_are_refused(
    iterations: int, derivations: list[str]
) -> None:
    bag = with_safe(aes_pfx(), [data_info([shrouded_bag(pbes2(pbkdf2(iterations)))])])
    refused({"pkcs12": pfx_b64(bag), "passphrase": PASSPHRASE}, "pkcs12", "PBKDF2 iterations")
    outer = pkcs12.Pfx.load(aes_pfx())
    kinds = [i["content_type"].native for i in outer.authenticated_safe]
    info = outer.authenticated_safe[kinds.index("encrypted_data")]  # cryptography's certificate goes there
    plain = outer.authenticated_safe[kinds.index("data")]
    algorithm = info["content"]["encrypted_content_info"]["content_encryption_algorithm"]
    algorithm["parameters"]["key_derivation_func"]["parameters"]["iteration_count"] = iterations
    contents = with_safe(aes_pfx(), [plain, cms.ContentInfo.load(info.dump(force=True))])
    derivations.clear()  # building the inputs used the KDF
    refused({"pkcs12": pfx_b64(contents), "passphrase": PASSPHRASE}, "pkcs12", "PBKDF2 iterations")
    assert "pkcs12" not in derivations and "pem" not in derivations


def test_a_key_hidden_in_encrypted_contents_is_decrypted_here_and_refused() -> None:
    hidden = with_safe(aes_pfx(), [encrypted_info([shrouded_bag(pbes2(pbkdf2(2**32)))])])
    refused({"pkcs12": pfx_b64(hidden), "passphrase": PASSPHRASE}, "pkcs12", "PBKDF2 iterations")
    nested = pkcs12.SafeBag({"bag_id": "safe_contents", "bag_value": [shrouded_bag(pbes2(scrypt(2**30)))]})
    deeper = with_safe(aes_pfx(), [encrypted_info([nested])])
    refused({"pkcs12": pfx_b64(deeper), "passphrase": PASSPHRASE}, "pkcs12", "scrypt")


def test_legacy_and_modern_pkcs12_files_still_open() -> None:
    for algorithm in (crypto_pkcs12.PBES.PBESv1SHA1And3KeyTripleDESCBC, crypto_pkcs12.PBES.PBESv2SHA256AndAES256CBC):
        encryption = PrivateFormat.PKCS12.encryption_builder().key_cert_algorithm(algorithm).build(PASSPHRASE.encode())
        der = crypto_pkcs12.serialize_key_and_certificates(b"t", certs.key(), certs.cert(), None, encryption)
        assert key_costs.inspect_pkcs12(der, PASSPHRASE.encode()) == key_costs.Pkcs12Facts(opaque=False)
        creds = CT.parse("certificate", {**BASE, "pkcs12": pfx_b64(der), "passphrase": PASSPHRASE})
        assert creds.thumbprint == certs.sha1(certs.cert())


def test_rc2_decryption_matches_cryptographys_for_a_128_bit_key() -> None:
    from cryptography.hazmat.decrepit.ciphers.algorithms import RC2

    key, iv, plain = os.urandom(16), os.urandom(8), os.urandom(32)
    encryptor = Cipher(RC2(key), modes.CBC(iv)).encryptor()
    assert pbe.rc2_cbc_decrypt(key, iv, encryptor.update(plain) + encryptor.finalize()) == plain


def test_the_pkcs12_kdf_matches_the_tests_own_mac_key_and_longer_outputs_extend_it() -> None:
    password, salt = PASSPHRASE.encode("utf-16-be") + b"\x00\x00", b"12345678"
    a = b"\x03" * 64 + (salt * 8)[:64] + (password * 64)[: 64 * -(-len(password) // 64)]
    for _ in range(3):
        a = hashlib.sha256(a).digest()
    assert pbe.pkcs12_kdf("sha256", password, salt, 3, 3, 32) == a
    assert pbe.pkcs12_kdf("sha256", password, salt, 3, 1, 40)[:32] == pbe.pkcs12_kdf("sha256", password, salt, 3, 1, 32)


# --- every entry point, and what cryptography raises --------------------------------------------------------


def huge_key_record() -> CertificateCredentials:
    return CertificateCredentials(
        tenant_id=fakes.FAKE_TENANT_ID,
        client_id=fakes.FAKE_CLIENT_ID,
        private_key=encrypted_pem(pbes2(pbkdf2(2**32))),
        certificate=certs.cert_pem(),
        passphrase=PASSPHRASE,
    )


def test_every_entry_point_answers_with_the_typed_error(derivations: list[str], tmp_path: Any) -> None:
    record = huge_key_record()
    with pytest.raises(InvalidInput, match="PBKDF2 iterations"):
        CT.load(record.to_dict())
    with pytest.raises(InvalidInput, match="PBKDF2 iterations"):
        CertificateTokenCredential(record)
    with pytest.raises(InvalidInput, match="PBKDF2 iterations"):
        CT.token_credential(record)
    report = build_connection_type().validate(record.to_dict(), method=None, endpoint=None, env={}, settings=None)
    assert not report.ok and "PBKDF2 iterations" in str(report.to_dict())
    stored = tmp_path / "creds.json"
    stored.write_text(__import__("json").dumps(record.to_dict()))
    stored.chmod(0o600)
    import io

    out, err = io.StringIO(), io.StringIO()
    assert main(["validate", "--credentials", str(stored)], out=out, err=err) in (1, 2)
    assert "PBKDF2 iterations" in out.getvalue() + err.getvalue()
    assert "Traceback" not in out.getvalue() + err.getvalue()
    assert derivations == []


def test_a_real_panic_of_cryptography_is_a_typed_error(monkeypatch: pytest.MonkeyPatch) -> None:
    # with the cap out of the way, cryptography itself panics on 2^32 iterations (a BaseException)
    monkeypatch.setattr(key_costs, "MAX_ITERATIONS", 2**40)
    key = encrypted_pem(pbes2(pbkdf2(2**32)))
    with pytest.raises(InvalidInput) as err:
        CT.parse("certificate", {**BASE, "privateKey": key, "certificate": certs.cert_pem(), "passphrase": "x"})
    assert err.value.errors[0].field in ("privateKey", "passphrase")


class PanicException(BaseException):  # stands for pyo3_runtime.PanicException
    __module__ = "pyo3_runtime"


def test_panics_are_recognised_narrowly() -> None:
    assert is_library_panic(PanicException("boom"))
    assert not is_library_panic(KeyboardInterrupt()) and not is_library_panic(SystemExit(1))
    assert not is_library_panic(ValueError()) and not is_library_panic(GeneratorExit())


@pytest.mark.parametrize("loader", ["pem", "pkcs12"])
def test_a_panic_in_any_cryptography_call_is_a_typed_error(monkeypatch: pytest.MonkeyPatch, loader: str) -> None:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.serialization import pkcs12 as p12

    def panic(*_: Any, **__: Any) -> Any:
        raise PanicException("called `Result::unwrap()` on an `Err` value")

    if loader == "pem":
        monkeypatch.setattr(serialization, "load_pem_private_key", panic)
        data = {"privateKey": certs.key_pem(), "certificate": certs.cert_pem()}
    else:
        monkeypatch.setattr(p12, "load_key_and_certificates", panic)
        data = {"pkcs12": certs.pkcs12_b64()}
    with pytest.raises(InvalidInput):
        CT.parse("certificate", {**BASE, **data})

    def interrupt(*_: Any, **__: Any) -> Any:
        raise KeyboardInterrupt

    # a BaseException that is not a library panic, raised inside the cryptography call, is never swallowed
    if loader == "pem":
        monkeypatch.setattr(serialization, "load_pem_private_key", interrupt)
    else:
        monkeypatch.setattr(p12, "load_key_and_certificates", interrupt)
    with pytest.raises(KeyboardInterrupt):
        CT.parse("certificate", {**BASE, **data})
    calls = iter([panic, interrupt])  # nor one raised after it, trying the file without the passphrase given
    monkeypatch.setattr(p12, "load_key_and_certificates", lambda *args: next(calls)(*args))
    with pytest.raises(KeyboardInterrupt):
        CT.parse("certificate", {**BASE, "pkcs12": certs.pkcs12_b64(), "passphrase": PASSPHRASE})
    assert next(calls, None) is None


def test_a_panic_during_validation_is_a_failed_check_and_in_the_cli_an_error(monkeypatch: pytest.MonkeyPatch) -> None:
    import io

    from azure_appconfig_plugin import cli

    class Panicking:
        def get_token(self, *scopes: str, **_: Any) -> Any:
            raise PanicException("boom")

    form = {**BASE, "clientSecret": "canary-cs"}
    report = CT.validate(form, method="client-secret", token_credential=Panicking())
    assert not report.ok and any("PanicException" in c.detail for c in report.checks)

    def handler(*_: Any) -> int:
        raise PanicException("boom")

    parser = cli.build_parser()
    monkeypatch.setattr(cli, "build_parser", lambda: parser)
    monkeypatch.setattr(parser, "parse_args", lambda argv: __import__("argparse").Namespace(handler=handler))
    err = io.StringIO()
    assert cli.main(["types"], out=io.StringIO(), err=err) == cli.EXIT_FAILED
    assert "panicked" in err.getvalue()


# --- the size of the key itself ---------------------------------------------------------------------------


def made_up_rsa(bits: int) -> keys.RSAPrivateKey:
    """Numbers shaped like an RSA key of ``2 * bits`` bits (not a key: checking it would take minutes)."""
    p, q = (int.from_bytes(os.urandom(bits // 8), "big") | (1 << (bits - 1)) | 1 for _ in range(2))
    return keys.RSAPrivateKey(
        {
            "version": 0,
            "modulus": p * q,
            "public_exponent": 65537,
            "private_exponent": p,
            "prime1": p,
            "prime2": q,
            "exponent1": 1,
            "exponent2": 1,
            "coefficient": 1,
        }
    )


@pytest.fixture
def rsa_checks(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Every RSA key check cryptography is asked to run (the slow part for a huge key)."""
    from cryptography.hazmat.primitives.asymmetric import rsa

    ran: list[int] = []
    real = rsa.RSAPrivateNumbers.private_key

    def spy(self: Any, *args: Any, **kwargs: Any) -> Any:
        ran.append(self.public_numbers.n.bit_length())
        return real(self, *args, **kwargs)

    monkeypatch.setattr(rsa.RSAPrivateNumbers, "private_key", spy)
    return ran


def test_a_made_up_huge_rsa_key_is_refused_before_it_is_checked(rsa_checks: list[int]) -> None:
    pem_key = pem.armor("PRIVATE KEY", keys.PrivateKeyInfo.wrap(made_up_rsa(40_000), "rsa").dump()).decode()
    with pytest.raises(InvalidInput) as err:
        CT.parse("certificate", {**BASE, "privateKey": pem_key, "certificate": certs.cert_pem()})
    message = err.value.errors[0].message
    assert err.value.errors[0].field == "privateKey" and message.startswith(decl.KEY_TOO_LARGE)
    assert f"at most {key_costs.MAX_KEY_BITS:,}" in message and rsa_checks == []


def test_a_huge_key_in_a_pkcs12_key_bag_is_refused(rsa_checks: list[int], derivations: list[str]) -> None:
    info = keys.PrivateKeyInfo.wrap(made_up_rsa(40_000), "rsa")
    bag = pkcs12.SafeBag({"bag_id": "key_bag", "bag_value": info})
    pfx = pfx_b64(with_safe(aes_pfx(), [data_info([bag])]))
    derivations.clear()
    with pytest.raises(InvalidInput) as err:
        CT.parse("certificate", {**BASE, "pkcs12": pfx, "passphrase": PASSPHRASE})
    assert err.value.errors[0].message.startswith(decl.KEY_TOO_LARGE)
    assert rsa_checks == [] and "pkcs12" not in derivations


def test_real_keys_are_still_checked_once_their_size_is_known(rsa_checks: list[int]) -> None:
    CT.parse("certificate", {**BASE, "privateKey": certs.key_pem(), "certificate": certs.cert_pem()})
    assert rsa_checks and set(rsa_checks) == {2048}  # once per load (the input rules load it twice)
    inconsistent = made_up_rsa(1024)  # small, but p*q is not a key: the check still refuses it
    pem_key = pem.armor("PRIVATE KEY", keys.PrivateKeyInfo.wrap(inconsistent, "rsa").dump()).decode()
    with pytest.raises(InvalidInput) as err:
        CT.parse("certificate", {**BASE, "privateKey": pem_key, "certificate": certs.cert_pem()})
    assert err.value.errors[0].message == decl.NOT_A_KEY
