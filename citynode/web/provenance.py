"""Whether a held record's signature holds, as pages show it (one of three badges).

The status is read at display time from what the node knows of the publisher's keys
(`node.known_keys`, issue 7 item 4): `verified`, `revoked` (signed by a key revoked as of a time
before the signature) or `unverified`. Own and peers' records alike; a rotation or revocation
shows on the next page view.
"""

from __future__ import annotations

from typing import Any

from citynode.node import Node


def signature_state(node: Node, document: dict[str, Any]) -> str:
    return str(node.known_keys.status_of(document))
