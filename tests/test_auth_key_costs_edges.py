"""Edges of reading key material before cryptography does (``key_costs``, ``pbe``): every kind of
PKCS#12 content and every cipher and password form decrypted here, and what cannot be read or
opened here. The inputs are built with asn1crypto from fixed salts, IVs and bytes, so every run takes
the same paths; the ciphers are cryptography's, and RC2 with a 40-bit key the test's own (checked
against OpenSSL's output)."""

from __future__ import annotations

from typing import Any

import pytest
from asn1crypto import algos, cms, core, keys, pkcs12
from cryptography.hazmat.decrepit.ciphers.algorithms import ARC4, RC2, TripleDES
from cryptography.hazmat.primitives import hashes, padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.kdf.pbkdf2 import PBKDF2HMAC
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat
from cryptography.hazmat.primitives.serialization import pkcs12 as crypto_pkcs12

import certs
from azure_appconfig_plugin.auth import certificate_messages as decl
from azure_appconfig_plugin.auth import key_costs, pbe
from azure_appconfig_plugin.errors import InvalidInput
from test_auth_key_costs import (
    BASE,
    CT,
    PASSPHRASE,
    aes_pfx,
    encrypted_pem,
    pbes2,
    pbkdf2,
    pfx_b64,
    refused,
    remac,
    spy_on_derivations,
    with_safe,
)

SALT, IV = bytes(range(8)), bytes(range(16))
PLAIN_TEXT_PASSWORD = PASSPHRASE.encode("utf-16-be") + b"\x00\x00"  # the BMPString OpenSSL writes


@pytest.fixture
def derivations(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every call that would derive a key from the material (cryptography's loaders, our KDFs)."""
    return spy_on_derivations(monkeypatch)


def field_error(data: dict[str, Any]) -> tuple[str, str]:
    with pytest.raises(InvalidInput) as err:
        CT.parse("certificate", {**BASE, **data})
    assert len(err.value.errors) == 1 and PASSPHRASE not in str(err.value)
    return err.value.errors[0].field, err.value.errors[0].message


def hostile_bag() -> Any:
    """A shrouded key bag asking for 2^32 PBKDF2 iterations (its ciphertext is never decrypted)."""
    value = keys.EncryptedPrivateKeyInfo(
        {"encryption_algorithm": pbes2(pbkdf2(2**32, SALT), IV), "encrypted_data": bytes(64)}
    )
    return pkcs12.SafeBag({"bag_id": "pkcs8_shrouded_key_bag", "bag_value": value})


def safe(*bags: Any) -> bytes:
    return bytes(pkcs12.SafeContents(list(bags)).dump())


def encrypted_info(algorithm: algos.EncryptionAlgorithm, ciphertext: bytes) -> Any:
    content = {"content_type": "data", "content_encryption_algorithm": algorithm, "encrypted_content": ciphertext}
    encrypted = cms.EncryptedData({"version": "v0", "encrypted_content_info": content})
    return cms.ContentInfo({"content_type": "encrypted_data", "content": encrypted})


def data_info(plain: bytes) -> Any:
    return cms.ContentInfo({"content_type": "data", "content": core.OctetString(plain)})


def pkcs7(block_bytes: int, plain: bytes) -> bytes:
    padder = padding.PKCS7(8 * block_bytes).padder()
    return bytes(padder.update(plain) + padder.finalize())


def cbc(cipher: Any, iv: bytes, plain: bytes) -> bytes:
    encryptor = Cipher(cipher, modes.CBC(iv)).encryptor()
    return bytes(encryptor.update(plain) + encryptor.finalize())


# --- RC2 with a 40-bit key: the test's own encryption (RFC 2268), checked against OpenSSL ---------------


def _rc2_encrypt_block(k: list[int], block: bytes) -> bytes:
    r = [int.from_bytes(block[2 * i : 2 * i + 2], "little") for i in range(4)]
    j = 0
    for rounds in (5, 0, 6, 0, 5):  # 0: one mashing round
        if not rounds:
            for i in range(4):
                r[i] = (r[i] + k[r[i - 1] & 63]) & 0xFFFF
            continue
        for _ in range(rounds):
            for i, s in enumerate((1, 2, 3, 5)):
                r[i] = (r[i] + k[j] + (r[i - 1] & r[i - 2]) + (~r[i - 1] & r[i - 3])) & 0xFFFF
                r[i] = ((r[i] << s) | (r[i] >> (16 - s))) & 0xFFFF
                j += 1
    return b"".join(x.to_bytes(2, "little") for x in r)


def rc2_cbc_encrypt(key: bytes, iv: bytes, plain: bytes) -> bytes:
    k, out, previous = pbe._rc2_expand(key, 8 * len(key)), b"", iv
    for pos in range(0, len(plain), 8):
        previous = _rc2_encrypt_block(k, bytes(a ^ b for a, b in zip(plain[pos : pos + 8], previous, strict=True)))
        out += previous
    return out


def test_rc2_with_a_40_bit_key_matches_openssl() -> None:
    # `openssl enc -rc2-40-cbc -K 0102030405 -iv 0001020304050607 -provider legacy` of "0123456789abcdef"
    key, iv = bytes.fromhex("0102030405"), bytes.fromhex("0001020304050607")
    openssl = bytes.fromhex("39286680924c1c6d9b59b88ac9613421df1c173f40c8aafd")
    assert rc2_cbc_encrypt(key, iv, pkcs7(8, b"0123456789abcdef")) == openssl
    assert pbe.rc2_cbc_decrypt(key, iv, openssl) == pkcs7(8, b"0123456789abcdef")


# --- every cipher PKCS#12's own key derivation is written with ----------------------------------------


def legacy_info(name: str, plain: bytes, password: bytes = PLAIN_TEXT_PASSWORD) -> Any:
    """An encryptedData ContentInfo, PKCS#12-KDF (SHA-1, one iteration) with ``name``'s cipher."""
    algorithm = algos.EncryptionAlgorithm({"algorithm": name, "parameters": {"salt": SALT, "iterations": 1}})
    key = pbe.pkcs12_kdf("sha1", password, SALT, 1, 1, algorithm.key_length)
    iv = pbe.pkcs12_kdf("sha1", password, SALT, 1, 2, 8)
    if name.endswith("rc4_128"):
        ciphertext = Cipher(ARC4(key), None).encryptor().update(plain)
    elif name.endswith("rc2_40"):
        ciphertext = rc2_cbc_encrypt(key, iv, pkcs7(8, plain))
    else:
        cipher = RC2(key) if name.endswith("rc2_128") else TripleDES(key)
        ciphertext = cbc(cipher, iv, pkcs7(8, plain))
    return encrypted_info(algorithm, ciphertext)


@pytest.mark.parametrize(
    "name", ["pkcs12_sha1_rc2_40", "pkcs12_sha1_rc2_128", "pkcs12_sha1_rc4_128", "pkcs12_sha1_tripledes_3key"]
)
def test_a_key_hidden_in_legacy_encrypted_contents_is_decrypted_here_and_refused(name: str) -> None:
    # `openssl pkcs12 -legacy` writes RC2-40; older tools RC4 and RC2-128: each is opened to reach the key
    hidden = with_safe(aes_pfx(), [legacy_info(name, safe(hostile_bag()))])
    refused({"pkcs12": pfx_b64(hidden), "passphrase": PASSPHRASE}, "pkcs12", "PBKDF2 iterations")


def test_a_passphrase_written_byte_by_byte_still_opens_legacy_contents() -> None:
    # Older OpenSSL wrote a non-ASCII passphrase's UTF-8 bytes each as one BMP character: the second form tried
    passphrase = "pässwörd-Kx2".encode()
    as_bytes = b"".join(b"\x00" + bytes([c]) for c in passphrase) + b"\x00\x00"
    assert pbe.bmp_passwords(passphrase) == [passphrase.decode().encode("utf-16-be") + b"\x00\x00", as_bytes]
    hidden = with_safe(aes_pfx(), [legacy_info("pkcs12_sha1_tripledes_3key", safe(hostile_bag()), as_bytes)])
    with pytest.raises(key_costs.KeyCostTooHigh, match="PBKDF2 iterations"):
        key_costs.inspect_pkcs12(hidden, passphrase)


def test_a_wrong_passphrase_on_legacy_contents_is_a_wrong_passphrase() -> None:
    encryption = (
        PrivateFormat.PKCS12.encryption_builder()
        .key_cert_algorithm(crypto_pkcs12.PBES.PBESv1SHA1And3KeyTripleDESCBC)
        .build(PASSPHRASE.encode())
    )
    der = crypto_pkcs12.serialize_key_and_certificates(b"t", certs.key(), certs.cert(), None, encryption)
    # no password form opens the contents: nothing in them is checked, and nothing is opaque either
    assert key_costs.inspect_pkcs12(der, b"wrong") == key_costs.Pkcs12Facts(opaque=False)
    wrong = field_error({"pkcs12": pfx_b64(der), "passphrase": "wrong"})
    assert wrong == ("passphrase", decl.PKCS12_WRONG_PASSPHRASE)


# --- PBES2 with scrypt, and a wrong passphrase that passes the padding check -------------------------------


def test_a_key_hidden_in_scrypt_encrypted_contents_is_decrypted_here_and_refused() -> None:
    kdf = algos.KdfAlgorithm(
        {
            "algorithm": "1.3.6.1.4.1.11591.4.11",
            "parameters": core.Any.load(
                pbe.ScryptParams(
                    {"salt": SALT, "cost_parameter": 1024, "block_size": 8, "parallelization_parameter": 1}
                ).dump()
            ),
        }
    )
    key = Scrypt(salt=SALT, length=32, n=1024, r=8, p=1).derive(PASSPHRASE.encode())
    info = encrypted_info(pbes2(kdf, IV), cbc(algorithms.AES(key), IV, pkcs7(16, safe(hostile_bag()))))
    hidden = with_safe(aes_pfx(), [info])
    refused({"pkcs12": pfx_b64(hidden), "passphrase": PASSPHRASE}, "pkcs12", "PBKDF2 iterations")


def test_a_wrong_passphrase_whose_plaintext_passes_the_padding_check_is_still_wrong() -> None:
    # About one wrong key in 256 decrypts to valid padding: the plaintext must also parse as SafeContents.
    # The IV is searched (deterministically) for a ciphertext that the wrong passphrase decrypts so.
    right = PBKDF2HMAC(hashes.SHA256(), 32, SALT, 1).derive(PASSPHRASE.encode())
    wrong = PBKDF2HMAC(hashes.SHA256(), 32, SALT, 1).derive(b"wrong")
    plain = pkcs7(16, safe(hostile_bag()))
    for n in range(100_000):
        iv = n.to_bytes(16, "big")
        ciphertext = cbc(algorithms.AES(right), iv, plain)
        decryptor = Cipher(algorithms.AES(wrong), modes.CBC(iv)).decryptor()
        if (decryptor.update(ciphertext) + decryptor.finalize())[-1] == 1:
            break
    else:
        pytest.fail("no IV gave the wrong passphrase valid padding")
    algorithm = pbes2(pbkdf2(1, SALT), iv)
    assert pbe.decrypt(algorithm, ciphertext, b"wrong") is not None  # unless what it decrypts to is checked
    # ... and inspect_pkcs12 checks it: not SafeContents, so not opened (loading it would be Unreadable)
    hidden = remac(pkcs12.Pfx.load(with_safe(aes_pfx(), [encrypted_info(algorithm, ciphertext)])))
    assert key_costs.inspect_pkcs12(hidden, b"wrong") == key_costs.Pkcs12Facts(opaque=False)
    wrong = field_error({"pkcs12": pfx_b64(hidden), "passphrase": "wrong"})
    assert wrong == ("passphrase", decl.PKCS12_WRONG_PASSPHRASE)
    refused({"pkcs12": pfx_b64(hidden), "passphrase": PASSPHRASE}, "pkcs12", "PBKDF2 iterations")  # the right one


# --- what is not opened here --------------------------------------------------------------------------------


def _pbes2_prf(prf: str) -> algos.EncryptionAlgorithm:
    kdf = pbkdf2(2048, SALT)
    kdf["parameters"]["prf"] = {"algorithm": prf, "parameters": None}
    return pbes2(kdf, IV)


def _pbes2_cipher(cipher: str) -> algos.EncryptionAlgorithm:
    scheme = {"algorithm": cipher, "parameters": core.OctetString(IV)}
    return algos.EncryptionAlgorithm(
        {"algorithm": "pbes2", "parameters": {"key_derivation_func": pbkdf2(2048, SALT), "encryption_scheme": scheme}}
    )


def _pbes1(name: str) -> algos.EncryptionAlgorithm:
    return algos.EncryptionAlgorithm({"algorithm": name, "parameters": {"salt": SALT, "iterations": 2048}})


@pytest.mark.parametrize(
    "algorithm",
    [_pbes2_prf("sha512_224"), _pbes2_cipher("aes256_ofb"), _pbes1("pbes1_sha1_rc2")],
    ids=["PBKDF2 with HMAC-SHA512/224", "AES in OFB mode", "PBES1 RC2"],
)
def test_contents_encrypted_with_what_is_not_implemented_here_never_reach_cryptography(
    algorithm: algos.EncryptionAlgorithm, derivations: list[str]
) -> None:
    opaque = with_safe(aes_pfx(), [encrypted_info(algorithm, bytes(64))])
    assert key_costs.inspect_pkcs12(opaque, PASSPHRASE.encode()) == key_costs.Pkcs12Facts(opaque=True)
    with pytest.raises(pbe.CannotDecrypt):
        pbe.decrypt(algorithm, bytes(64), PASSPHRASE.encode())
    derivations.clear()
    field = field_error({"pkcs12": pfx_b64(opaque), "passphrase": PASSPHRASE})
    assert field == ("passphrase", decl.PKCS12_WRONG_PASSPHRASE) and "pkcs12" not in derivations


def test_enveloped_contents_are_opaque_and_never_reach_cryptography(derivations: list[str]) -> None:
    inner = {"content_type": "data", "content_encryption_algorithm": _pbes2_cipher("aes256_cbc")}
    enveloped = cms.EnvelopedData(
        {"version": "v0", "recipient_infos": [], "encrypted_content_info": {**inner, "encrypted_content": bytes(64)}}
    )
    info = cms.ContentInfo({"content_type": "enveloped_data", "content": enveloped})
    opaque = with_safe(aes_pfx(), [info])
    assert key_costs.inspect_pkcs12(opaque, PASSPHRASE.encode()) == key_costs.Pkcs12Facts(opaque=True)
    derivations.clear()
    field = field_error({"pkcs12": pfx_b64(opaque), "passphrase": PASSPHRASE})
    assert field == ("passphrase", decl.PKCS12_WRONG_PASSPHRASE) and "pkcs12" not in derivations


@pytest.mark.parametrize(
    ("name", "algorithm", "ciphertext"),
    [
        ("aes", _pbes2_cipher("aes256_cbc"), bytes(17)),  # not whole 16-byte blocks: cryptography refuses
        ("rc2-40", _pbes1("pkcs12_sha1_rc2_40"), bytes(12)),  # not whole 8-byte blocks
    ],
)
def test_a_ciphertext_that_does_not_fit_its_cipher_opens_with_no_passphrase(
    name: str, algorithm: algos.EncryptionAlgorithm, ciphertext: bytes
) -> None:
    assert pbe.decrypt(algorithm, ciphertext, PASSPHRASE.encode()) is None, name
    broken = with_safe(aes_pfx(), [encrypted_info(algorithm, ciphertext)])
    assert key_costs.inspect_pkcs12(broken, PASSPHRASE.encode()) == key_costs.Pkcs12Facts(opaque=False)


# --- structures read before anything is derived --------------------------------------------------------------


def test_a_pem_key_with_an_unknown_key_derivation_is_unreadable(derivations: list[str]) -> None:
    kdf = algos.KdfAlgorithm({"algorithm": "1.3.6.1.4.1.99999.1", "parameters": core.Any.load(core.Null().dump())})
    with pytest.raises(key_costs.Unreadable, match=r"^1\.3\.6\.1\.4\.1\.99999\.1$"):
        key_costs.check_encryption(pbes2(kdf, IV))
    data = {"privateKey": encrypted_pem(pbes2(kdf, IV)), "certificate": certs.cert_pem(), "passphrase": PASSPHRASE}
    assert field_error(data) == ("privateKey", decl.NOT_A_KEY) and derivations == []


def test_a_pem_key_encrypted_with_a_bare_cipher_has_no_cost_to_cap() -> None:
    # no password-based scheme (a cipher's OID where PBES2 belongs): nothing is derived, so nothing is
    # refused for its cost; cryptography then cannot decrypt it, which is said as such
    bare = algos.EncryptionAlgorithm({"algorithm": "aes256_cbc", "parameters": core.OctetString(IV)})
    assert key_costs.check_encryption(bare) is None
    data = {"privateKey": encrypted_pem(bare), "certificate": certs.cert_pem(), "passphrase": PASSPHRASE}
    assert field_error(data) == ("privateKey", decl.UNSUPPORTED_KEY_ENCRYPTION)


def test_a_huge_key_of_another_algorithm_is_refused_by_its_size() -> None:
    made_up = keys.PrivateKeyInfo(
        {"version": 0, "private_key_algorithm": {"algorithm": "ed25519"}, "private_key": core.OctetString(bytes(5000))}
    )
    bag = pkcs12.SafeBag({"bag_id": "key_bag", "bag_value": made_up})
    field, message = field_error(
        {"pkcs12": pfx_b64(with_safe(aes_pfx(), [data_info(safe(bag))])), "passphrase": PASSPHRASE}
    )
    assert field == "pkcs12" and message.startswith(decl.KEY_TOO_LARGE) and "40,032" in message
    real = certs.key("ec").private_bytes(Encoding.DER, PrivateFormat.PKCS8, NoEncryption())
    key_costs.check_private_key_info(real)  # a real EC key's size is well within the cap


def test_a_pkcs12_in_public_key_integrity_mode_is_not_read(derivations: list[str]) -> None:
    signed = cms.SignedData(
        {
            "version": "v1",
            "digest_algorithms": [],
            "encap_content_info": {"content_type": "data", "content": safe(hostile_bag())},
            "signer_infos": [],
        }
    )
    pfx = pkcs12.Pfx({"version": 3, "auth_safe": cms.ContentInfo({"content_type": "signed_data", "content": signed})})
    with pytest.raises(key_costs.Unreadable, match="public-key integrity mode"):
        key_costs.inspect_pkcs12(pfx.dump(), None)
    assert field_error({"pkcs12": pfx_b64(pfx.dump())}) == ("pkcs12", decl.NOT_PKCS12) and derivations == []


def test_a_pkcs12_without_a_mac_is_still_checked(derivations: list[str]) -> None:
    auth_safe = data_info(pkcs12.AuthenticatedSafe([data_info(safe(hostile_bag()))]).dump())
    pfx = pkcs12.Pfx({"version": 3, "auth_safe": auth_safe})
    assert pfx["mac_data"].native is None
    refused({"pkcs12": pfx_b64(pfx.dump()), "passphrase": PASSPHRASE}, "pkcs12", "PBKDF2 iterations")
    assert derivations == []


def test_a_pbmac1_mac_with_huge_pbkdf2_iterations_is_refused(derivations: list[str]) -> None:
    # RFC 9579: the MAC key comes from PBKDF2 with its own iteration count (MacData's count is 1)
    pfx = pkcs12.Pfx.load(aes_pfx())
    params = key_costs.Pbmac1Params(
        {"key_derivation_func": pbkdf2(2**32, SALT), "message_auth_scheme": {"algorithm": "sha256"}}
    )
    mac_data = {
        "mac": {
            "digest_algorithm": {"algorithm": "1.2.840.113549.1.5.14", "parameters": core.Any.load(params.dump())},
            "digest": bytes(32),
        },
        "mac_salt": SALT,
        "iterations": 1,
    }
    der = pkcs12.Pfx({"version": 3, "auth_safe": pfx["auth_safe"].copy(), "mac_data": mac_data}).dump()
    derivations.clear()
    refused({"pkcs12": pfx_b64(der), "passphrase": PASSPHRASE}, "pkcs12", "PBKDF2 iterations")
    assert derivations == []


def test_safe_contents_nested_too_deeply_are_not_read(derivations: list[str]) -> None:
    bag = pkcs12.SafeBag({"bag_id": "safe_contents", "bag_value": []})
    for _ in range(key_costs.MAX_NESTING):
        bag = pkcs12.SafeBag({"bag_id": "safe_contents", "bag_value": [bag]})
    deep = with_safe(aes_pfx(), [data_info(safe(bag))])
    with pytest.raises(key_costs.Unreadable, match="nested too deeply"):
        key_costs.inspect_pkcs12(deep, PASSPHRASE.encode())
    shallower = with_safe(aes_pfx(), [data_info(safe(bag["bag_value"][0]))])
    assert key_costs.inspect_pkcs12(shallower, PASSPHRASE.encode()) == key_costs.Pkcs12Facts(opaque=False)
    derivations.clear()
    assert field_error({"pkcs12": pfx_b64(deep), "passphrase": PASSPHRASE}) == ("pkcs12", decl.NOT_PKCS12)
    assert "pkcs12" not in derivations
