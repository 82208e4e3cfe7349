"""The `Accept-Signature` field (RFC 9421 section 5.1) a refusal sends back."""

from __future__ import annotations

from protocol.httpsig.profile import ALG, TAG, required_components
from protocol.structured_fields import BareItem, InnerList, Item, serialize_dictionary

__all__ = ["accept_signature"]


def accept_signature(has_body: bool, label: str = "sig1") -> str:
    """The `Accept-Signature` field (RFC 9421 section 5.1) a refusal sends back: the components
    this protocol requires, the algorithm and the tag, so a client learns what to sign from the
    401 (docs/protocol.md 5.6)."""
    params: dict[str, BareItem] = {"alg": ALG, "tag": TAG}
    components = InnerList(tuple(Item(c) for c in required_components(has_body)), params)
    return serialize_dictionary({label: components})
