"""A hit's signature status, decided when it is shown (never stored in the index).

Every record in the store passed verification when it was stored (ingest and publish refuse
anything else), so today a stored record is "verified". A key revoked later must turn its
records "revoked" without reindexing (issue 7 item 4): the `trust` work makes that a read-time
function of the publisher, the key (`proof.verificationMethod`) and `proof.created`. This is the
one place search asks, and it reads those three from the stored record itself, so swapping in
that function changes nothing else.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def signature_of(document: Mapping[str, Any]) -> str:
    """`verified`, `revoked` or `unverified` for a stored record."""
    proof = document.get("proof")
    if not isinstance(proof, Mapping) or not proof.get("verificationMethod"):
        return "unverified"
    return "verified"
