"""Multikey: Ed25519 keys as multibase strings, the form DID documents and proofs carry.

* base58btc (draft-msporny-base58, the Bitcoin alphabet) and its multibase prefix `z`
  (Controlled Identifiers v1.0 section 2.4 "Multibase");
* public key: `z` + base58btc(0xed 0x01 + 32-byte key), multicodec `ed25519-pub` (0xed) as an
  unsigned varint (Controlled Identifiers v1.0 section 2.2.2 "Multikey");
* private key: `z` + base58btc(0x80 0x26 + 32-byte seed), multicodec `ed25519-priv` (0x1300).

Keys cross this module as `cryptography` key objects; the `*_bytes` helpers cover raw keys.
"""

from __future__ import annotations

from typing import Final

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    PublicFormat,
)

from protocol.errors import KeyFormatError

__all__ = [
    "ED25519_PRIV_PREFIX",
    "ED25519_PUB_PREFIX",
    "b58decode",
    "b58encode",
    "multibase_decode",
    "multibase_encode",
    "private_key_from_multibase",
    "private_key_to_multibase",
    "public_key_bytes_from_multibase",
    "public_key_from_multibase",
    "public_key_to_multibase",
    "raw_public_key",
    "raw_seed",
]

#: Varint-encoded multicodec `ed25519-pub` (0xed).
ED25519_PUB_PREFIX: Final = b"\xed\x01"
#: Varint-encoded multicodec `ed25519-priv` (0x1300).
ED25519_PRIV_PREFIX: Final = b"\x80\x26"
_KEY_LEN: Final = 32

_ALPHABET: Final = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
# Byte -> digit value, 0xff for bytes outside the alphabet (for `bytes.translate`).
_DIGITS: Final = bytes(_ALPHABET.index(chr(b)) if chr(b) in _ALPHABET else 0xFF for b in range(256))


# Every pair of digits, so encoding takes one big-integer division per two digits: signing
# encodes a 64-byte signature (88 digits) per record, on the publish path.
_PAIRS: Final = tuple(a + b for a in _ALPHABET for b in _ALPHABET)


def b58encode(data: bytes) -> str:
    """Encode bytes as base58btc; each leading zero byte becomes a leading `1`."""
    zeros = len(data) - len(data.lstrip(b"\0"))
    n = int.from_bytes(data, "big")
    out: list[str] = []
    while n:
        n, rem = divmod(n, 3364)  # 58 ** 2
        out.append(_PAIRS[rem])
    text = "".join(reversed(out)).lstrip("1")
    return "1" * zeros + text


def b58decode(text: str) -> bytes:
    """Decode base58btc; raise `KeyFormatError` on a character outside the alphabet."""
    # Translate to digit values in C, then one multiply-add per digit: this runs on every
    # verification (a proofValue has 86-88 digits), so avoid a dict lookup per character.
    raw = text.encode("ascii", "replace") if isinstance(text, str) else b"?"
    digits = raw.translate(_DIGITS)
    if b"\xff" in digits:
        bad = text[digits.index(b"\xff")] if isinstance(text, str) else text
        raise KeyFormatError(
            f"{bad!r} is not a base58btc character", rule="base58btc", value=str(text)[:80]
        )
    n = 0
    for digit in digits:
        n = n * 58 + digit
    zeros = len(raw) - len(raw.lstrip(b"1"))
    body = n.to_bytes((n.bit_length() + 7) // 8, "big") if n else b""
    return b"\0" * zeros + body


def multibase_encode(data: bytes) -> str:
    """Multibase base58btc: `z` + base58btc(data)."""
    return "z" + b58encode(data)


def multibase_decode(text: str) -> bytes:
    """Decode a multibase base58btc string (prefix `z`); other bases are refused."""
    if not isinstance(text, str) or not text.startswith("z") or len(text) < 2:
        raise KeyFormatError(
            "expected a multibase base58btc string starting with 'z'",
            rule="multibase",
            value=str(text)[:80],
        )
    return b58decode(text[1:])


def _strip_prefix(text: str, prefix: bytes, what: str) -> bytes:
    raw = multibase_decode(text)
    if raw[:2] != prefix:
        raise KeyFormatError(
            f"not an {what} Multikey: multicodec prefix is {raw[:2].hex() or 'missing'}, "
            f"expected {prefix.hex()}",
            rule="multicodec",
            value=text[:80],
        )
    key = raw[2:]
    if len(key) != _KEY_LEN:
        raise KeyFormatError(
            f"an {what} key is {_KEY_LEN} bytes, this one has {len(key)}",
            rule="key-length",
            value=text[:80],
        )
    return key


def public_key_bytes_from_multibase(text: str) -> bytes:
    """The raw 32-byte Ed25519 public key inside a `publicKeyMultibase` value."""
    return _strip_prefix(text, ED25519_PUB_PREFIX, "Ed25519 public")


def public_key_from_multibase(text: str) -> Ed25519PublicKey:
    """Parse a `publicKeyMultibase` value (`z6Mk...`) into an Ed25519 public key."""
    return Ed25519PublicKey.from_public_bytes(public_key_bytes_from_multibase(text))


def public_key_to_multibase(key: Ed25519PublicKey | bytes) -> str:
    """The `publicKeyMultibase` of an Ed25519 public key (object or raw 32 bytes)."""
    raw = key if isinstance(key, bytes) else raw_public_key(key)
    if len(raw) != _KEY_LEN:
        raise KeyFormatError(f"an Ed25519 public key is {_KEY_LEN} bytes", rule="key-length")
    return multibase_encode(ED25519_PUB_PREFIX + raw)


def private_key_from_multibase(text: str) -> Ed25519PrivateKey:
    """Parse a `privateKeyMultibase` value (`z3u2...`) into an Ed25519 private key."""
    return Ed25519PrivateKey.from_private_bytes(
        _strip_prefix(text, ED25519_PRIV_PREFIX, "Ed25519 private")
    )


def private_key_to_multibase(key: Ed25519PrivateKey | bytes) -> str:
    """The `privateKeyMultibase` of an Ed25519 private key (object or raw 32-byte seed)."""
    raw = key if isinstance(key, bytes) else raw_seed(key)
    if len(raw) != _KEY_LEN:
        raise KeyFormatError(f"an Ed25519 seed is {_KEY_LEN} bytes", rule="key-length")
    return multibase_encode(ED25519_PRIV_PREFIX + raw)


def raw_public_key(key: Ed25519PublicKey) -> bytes:
    """The 32 raw bytes of an Ed25519 public key."""
    return key.public_bytes(Encoding.Raw, PublicFormat.Raw)


def raw_seed(key: Ed25519PrivateKey) -> bytes:
    """The 32-byte seed of an Ed25519 private key."""
    return key.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())
