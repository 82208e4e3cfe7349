"""Multikey and base58btc: the W3C vector's keys round-trip; bad input raises KeyFormatError."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import given
from hypothesis import strategies as st

from protocol.errors import KeyFormatError
from protocol.multikey import (
    b58decode,
    b58encode,
    multibase_decode,
    multibase_encode,
    private_key_from_multibase,
    private_key_to_multibase,
    public_key_bytes_from_multibase,
    public_key_from_multibase,
    public_key_to_multibase,
    raw_public_key,
    raw_seed,
)

KEY_PAIR = json.loads(
    (Path(__file__).parent / "vectors" / "di-eddsa" / "TestVectors" / "keyPair.json").read_text()
)
PUBLIC = KEY_PAIR["publicKeyMultibase"]
PRIVATE = KEY_PAIR["privateKeyMultibase"]


def test_vector_public_key_round_trips() -> None:
    key = public_key_from_multibase(PUBLIC)
    assert public_key_to_multibase(key) == PUBLIC
    assert public_key_to_multibase(raw_public_key(key)) == PUBLIC
    assert PUBLIC.startswith("z6Mk")  # what every 0xed01-prefixed Ed25519 key looks like


def test_vector_private_key_round_trips_and_matches_public_key() -> None:
    key = private_key_from_multibase(PRIVATE)
    assert private_key_to_multibase(key) == PRIVATE
    assert private_key_to_multibase(raw_seed(key)) == PRIVATE
    assert public_key_to_multibase(key.public_key()) == PUBLIC


def test_multicodec_prefixes() -> None:
    assert multibase_decode(PUBLIC)[:2] == b"\xed\x01"
    assert multibase_decode(PRIVATE)[:2] == b"\x80\x26"
    assert len(public_key_bytes_from_multibase(PUBLIC)) == 32


def test_generated_keys_round_trip() -> None:
    key = Ed25519PrivateKey.generate()
    again = private_key_from_multibase(private_key_to_multibase(key))
    assert raw_seed(again) == raw_seed(key)
    public = public_key_from_multibase(public_key_to_multibase(key.public_key()))
    assert raw_public_key(public) == raw_public_key(key.public_key())


@pytest.mark.parametrize(
    ("data", "text"),
    [
        (b"", ""),
        (b"\0", "1"),
        (b"\0\0\x01", "112"),
        (b"Hello World!", "2NEpo7TZRRrLZSi2U"),
        (bytes.fromhex("0000287fb4cd"), "11233QC4"),
    ],
)
def test_base58btc_known_values(data: bytes, text: str) -> None:
    # Values from draft-msporny-base58 section 5 ("Hello World!", leading zeros).
    assert b58encode(data) == text
    assert b58decode(text) == data


@given(st.binary(max_size=80))
def test_base58btc_round_trip(data: bytes) -> None:
    assert b58decode(b58encode(data)) == data
    if data:
        assert multibase_decode(multibase_encode(data)) == data


@pytest.mark.parametrize(
    "text",
    [
        "",  # empty
        "z",  # prefix only
        "u7QEBAgM",  # base64url multibase, not base58btc
        "6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ2",  # prefix missing
        "z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ0",  # '0' is not base58
        "z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ",  # one character short: 31 bytes
        PRIVATE,  # a private key where a public key is expected
        multibase_encode(b"\xec\x01" + bytes(32)),  # x25519-pub, not ed25519-pub
        multibase_encode(b"\xed\x01" + bytes(33)),  # too long
    ],
)
def test_bad_public_keys(text: str) -> None:
    with pytest.raises(KeyFormatError):
        public_key_from_multibase(text)


@pytest.mark.parametrize(
    "text",
    [PUBLIC, "z3u2en7t5LR2WtQH5PfFqMqwVHBeXouLzo6haApm8XHqvjxl", multibase_encode(b"\x80\x26")],
)
def test_bad_private_keys(text: str) -> None:
    with pytest.raises(KeyFormatError):
        private_key_from_multibase(text)


def test_raw_key_helpers_check_length() -> None:
    with pytest.raises(KeyFormatError):
        public_key_to_multibase(bytes(31))
    with pytest.raises(KeyFormatError):
        private_key_to_multibase(bytes(33))


def test_error_names_the_bad_character() -> None:
    with pytest.raises(KeyFormatError, match="'l'") as info:
        b58decode("abcl")
    assert info.value.code == "bad_key"
