"""Property tests of the record model: any valid text round-trips, signs and verifies.

The independent verifier (the `rfc8785` package, not our JCS) must accept what we sign,
whatever characters the text holds: non-BMP, combining marks, control characters, quotes.
"""

from __future__ import annotations

from typing import Any

import msgspec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import given, settings
from hypothesis import strategies as st

from protocol.did import KeyEntry, build_did_document, parse_timestamp
from protocol.proofs import sign
from protocol.records import RECORD_CONTEXT, parse_record, parse_record_json, record_to_builtins
from tests import independent_verifier
from tests.drafts import practice, result

KEY = Ed25519PrivateKey.generate()
DID = "did:web:medellin.example"
DID_DOCUMENT = build_did_document(
    DID,
    [
        KeyEntry(
            fragment="key-1",
            public_key=KEY.public_key(),
            created=parse_timestamp("2020-01-01T00:00:00Z"),
        )
    ],
)
TEXT = st.text(st.characters(exclude_categories=("Cs",)), min_size=1, max_size=200)
LANGS = st.sampled_from(["es", "en", "pt"])


def complete(draft: dict[str, Any]) -> dict[str, Any]:
    return {
        **draft,
        "@context": RECORD_CONTEXT,
        "id": f"https://medellin.example/{draft['id']}",
        "version": 1,
        "issued": "2024-01-01T00:00:00Z",
        "modified": "2024-01-01T00:00:00Z",
        "publisher": DID,
        **(
            {"resultOf": f"https://medellin.example/{draft['resultOf']}"}
            if "resultOf" in draft
            else {}
        ),
    }


@settings(max_examples=60, deadline=None)
@given(
    title=st.dictionaries(LANGS, TEXT, min_size=1),
    summary=st.dictionaries(LANGS, TEXT, min_size=1),
    value=st.one_of(
        st.integers(-(2**53) + 1, 2**53 - 1), st.floats(allow_nan=False, allow_infinity=False)
    ),
)
def test_any_valid_text_round_trips_signs_and_verifies(
    title: dict[str, str], summary: dict[str, str], value: float
) -> None:
    drafts = [
        practice("p", title=title, summary=summary),
        result(
            "r",
            of="p",
            title=title,
            measurements=[
                {
                    "type": "Measurement",
                    "indicator": title,
                    "value": value,
                    "unit": "u",
                    "period": "2021",
                }
            ],
        ),
    ]
    for draft in drafts:
        document = record_to_builtins(parse_record(complete(draft)))
        body = msgspec.json.encode(document)
        assert record_to_builtins(parse_record_json(body)) == document
        signed = sign(document, KEY, f"{DID}#key-1", "2024-01-01T00:00:00Z")
        stored = msgspec.json.decode(msgspec.json.encode(signed))
        assert independent_verifier.verify(stored, DID_DOCUMENT)
