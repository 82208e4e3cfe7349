"""Where a held record comes from and whether its signature holds, as pages show it.

Every record is verified before it is stored (own records are signed here, peers' records are
verified on ingest, eddsa-jcs-2022), so a stored record is `verified` unless the key it was signed
with has since been revoked as of a time before the signature: then it is `revoked`. Revocations
of this node's own keys are known here; a peer's revocations reach this node with the `trust`
work (issue 7 item 4), which will fill `revoked_keys` from the peers' DID documents.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from citynode.node import Node
from protocol.did import parse_timestamp
from protocol.errors import ProtocolError


def revoked_keys(node: Node) -> dict[str, datetime]:
    """Verification method -> revocation time, for the keys this node knows to be revoked."""
    return {
        f"{node.identity.did}#{entry.fragment}": entry.revoked
        for entry in node.identity.keys
        if entry.revoked is not None
    }


def signature_state(node: Node, document: dict[str, Any]) -> str:
    proof = document.get("proof")
    if not isinstance(proof, dict):
        return "unverified"
    revoked = revoked_keys(node).get(str(proof.get("verificationMethod")))
    if revoked is not None:
        try:
            signed = parse_timestamp(str(proof.get("created")))
        except ProtocolError:  # an unreadable time cannot be shown to predate the revocation
            return "revoked"
        if signed >= revoked:
            return "revoked"
    return "verified"
