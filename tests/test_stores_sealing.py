"""Sealing (AES-256-GCM with a key ring): what the Redis stores keep is unreadable and tamper-evident."""

from __future__ import annotations

import base64
import subprocess
import sys

import pytest

from app_connections.stores.errors import SealError, SealKeyError
from app_connections.stores.sealing import KEY_BYTES, Sealer, generate_key, parse_keys

SECRET = b"canary-secret-payload"


def test_round_trip_and_nothing_readable() -> None:
    sealer = Sealer.from_setting(generate_key())
    blob = sealer.seal(SECRET, context=b"k1")
    assert SECRET not in blob
    assert sealer.open(blob, context=b"k1") == SECRET
    assert sealer.seal(SECRET, context=b"k1") != blob  # a fresh nonce every time


def test_rotation_first_key_seals_every_key_opens() -> None:
    old, new = generate_key(), generate_key()
    before = Sealer.from_setting(old).seal(SECRET, context=b"k")
    ring = Sealer.from_setting(f"{new}, {old}")
    assert ring.open(before, context=b"k") == SECRET
    after = ring.seal(SECRET, context=b"k")
    assert Sealer.from_setting(new).open(after, context=b"k") == SECRET
    with pytest.raises(SealError, match="does not have"):
        Sealer.from_setting(old).open(after, context=b"k")


@pytest.mark.parametrize("change", ["context", "flip", "truncate", "version"])
def test_tampering_is_detected(change: str) -> None:
    sealer = Sealer.from_setting(generate_key())
    blob = bytearray(sealer.seal(SECRET, context=b"k"))
    context = b"k"
    if change == "context":
        context = b"other"
    elif change == "flip":
        blob[-1] ^= 1
    elif change == "truncate":
        blob = blob[:10]
    else:
        blob[0] = 2
    with pytest.raises(SealError):
        sealer.open(bytes(blob), context=context)


def test_generated_keys_are_32_random_bytes() -> None:
    a, b = generate_key(), generate_key()
    assert a != b and len(base64.urlsafe_b64decode(a)) == KEY_BYTES


@pytest.mark.parametrize(
    "value, match",
    [("", "empty"), (" , ", "empty"), ("abc", "key #1"), (base64.urlsafe_b64encode(b"x" * 16).decode(), "key #1")],
)
def test_bad_keys_are_named_without_echoing_them(value: str, match: str) -> None:
    with pytest.raises(SealKeyError, match=match) as err:
        parse_keys(value, setting="MY_KEY")
    assert err.value.field == "MY_KEY"
    if value.strip(" ,"):
        assert value not in str(err.value)


def test_keys_without_padding_are_accepted() -> None:
    assert len(parse_keys(generate_key().rstrip("="))[0]) == KEY_BYTES


def test_repr_shows_no_key() -> None:
    key = generate_key()
    assert key not in repr(Sealer.from_setting(key)) and repr(Sealer.from_setting(key)) == "Sealer(keys=1)"


def test_the_module_prints_a_new_key() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "app_connections.stores.sealing"],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stdout.strip()
    assert len(parse_keys(out)) == 1
