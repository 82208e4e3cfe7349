"""What this machine's primitives allow, measured on one core: the yardsticks of the budget.

Each function runs a `time.perf_counter` loop for about `seconds` and returns operations per
second; `bench/__main__.py` reports the node's own figures as ratios to these (docs/DESIGN.md
"Performance budget"). Nothing here asserts a time.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import msgspec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from protocol.did import KeyEntry, key_resolver, parse_timestamp
from protocol.jcs import canonicalize
from protocol.proofs import sign, verify_record

__all__ = [
    "ed25519_sign_rate",
    "ed25519_verify_rate",
    "jcs_rate",
    "record_verify_rate",
    "sample_record",
]

_MESSAGE = bytes(range(64))  # eddsa-jcs-2022 signs 64 bytes: two SHA-256 digests


def _rate(op: Callable[[], Any], seconds: float) -> float:
    """Ops/s of `op`: calibrate a batch of ~10 ms, then run batches for `seconds`."""
    batch = 1
    while True:
        start = time.perf_counter()
        for _ in range(batch):
            op()
        if time.perf_counter() - start >= 0.01:
            break
        batch *= 2
    done = 0
    start = time.perf_counter()
    while (elapsed := time.perf_counter() - start) < seconds:
        for _ in range(batch):
            op()
        done += batch
    return done / elapsed


def ed25519_sign_rate(seconds: float = 1.0) -> float:
    """Bare Ed25519 signatures per second (`cryptography`, 64-byte message)."""
    key = Ed25519PrivateKey.generate()
    return _rate(lambda: key.sign(_MESSAGE), seconds)


def ed25519_verify_rate(seconds: float = 1.0) -> float:
    """Bare Ed25519 verifications per second (`cryptography`, 64-byte message)."""
    key = Ed25519PrivateKey.generate()
    public, signature = key.public_key(), key.sign(_MESSAGE)
    return _rate(lambda: public.verify(signature, _MESSAGE), seconds)


def jcs_rate(seconds: float = 1.0, record: dict[str, Any] | None = None) -> float:
    """RFC 8785 canonicalizations per second of a ~2 KB record (1e6 / rate = us per record)."""
    value = sample_record() if record is None else record
    return _rate(lambda: canonicalize(value), seconds)


def record_verify_rate(seconds: float = 1.0) -> float:
    """Full record verifications per second from JSON bytes: decode, JCS, hashes, Ed25519.

    The ingest path of one record (keys already resolved); compare with `ed25519_verify_rate`.
    """
    key = Ed25519PrivateKey.generate()
    method = "did:web:medellin.example#key-1"
    signed = sign(sample_record(), key, method, "2024-06-01T12:30:00Z")
    data = msgspec.json.encode(signed)
    entry = KeyEntry(
        fragment="key-1",
        public_key=key.public_key(),
        created=parse_timestamp("2024-01-01T00:00:00Z"),
    )
    resolve = key_resolver({method: entry})
    decode = msgspec.json.Decoder().decode
    return _rate(lambda: verify_record(decode(data), resolve), seconds)


def sample_record() -> dict[str, Any]:
    """A record-shaped ~2 KB JSON document (unsigned), with a few float measurement values."""
    return {
        "@context": ["https://w3id.org/citynode/v1", "https://w3id.org/security/data-integrity/v2"],
        "id": "https://medellin.example/records/project/metrocable-linea-k",
        "type": "Project",
        "version": 3,
        "previousVersion": "https://medellin.example/records/project/metrocable-linea-k/v/2",
        "issued": "2024-01-15T10:00:00Z",
        "modified": "2024-06-01T12:30:00Z",
        "publisher": "did:web:medellin.example",
        "title": {"es": "Metrocable Línea K", "en": "Metrocable Line K", "pt": "Metrocabo Linha K"},
        "summary": {
            "es": "Teleférico urbano que conecta barrios de ladera con el metro. " * 3,
            "en": "Urban cable car connecting hillside neighbourhoods with the metro. " * 3,
        },
        "problem": {"es": "Barrios informales aislados en laderas, con viajes de dos horas."},
        "approach": {"en": "A gondola line integrated with the metro: one fare, new libraries."},
        "status": "https://w3id.org/citynode/status#completed",
        "themes": [
            "https://w3id.org/citynode/theme#mobility",
            "http://publications.europa.eu/resource/authority/data-theme/TRAN",
        ],
        "sdgs": ["http://metadata.un.org/sdg/11.2", "http://metadata.un.org/sdg/10"],
        "startDate": "2002-01-01",
        "endDate": "2004-08-07",
        "website": "https://metro.example/",
        "keywords": {"es": ["movilidad", "cable", "inclusión"], "en": ["mobility", "gondola"]},
        "license": "https://creativecommons.org/licenses/by/4.0/",
        "conformsTo": "https://w3id.org/citynode/shapes/v1",
        "contactPoint": {
            "type": "Organization",
            "fn": "Metro de Medellín",
            "hasEmail": "mailto:info@metro.example",
        },
        "measurements": [
            {
                "type": "Measurement",
                "indicator": {"en": "Daily riders"},
                "value": 30000,
                "unit": "people",
                "period": "2005",
                "role": "observed",
            },
            {
                "type": "Measurement",
                "indicator": {"en": "Travel time"},
                "value": 12.5,
                "unit": "min",
                "period": "2005",
                "role": "observed",
            },
            {
                "type": "Measurement",
                "indicator": {"en": "Share of trips"},
                "value": 0.35,
                "unit": "ratio",
                "period": "2004",
                "role": "baseline",
            },
        ],
        "illustrative": False,
    }


if __name__ == "__main__":
    sign_rate, verify_rate = ed25519_sign_rate(), ed25519_verify_rate()
    jcs = jcs_rate()
    full = record_verify_rate()
    print(f"record size (JCS)    {len(canonicalize(sample_record()))} bytes")
    print(f"ed25519 sign         {sign_rate:10.0f} /s")
    print(f"ed25519 verify       {verify_rate:10.0f} /s")
    print(f"jcs 2 KB record      {1e6 / jcs:10.1f} us")
    print(f"record verify path   {full:10.0f} /s  ({full / verify_rate:.0%} of bare verify)")
