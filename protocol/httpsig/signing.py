"""Signing a request (RFC 9421 section 3.1) under the citynode profile (docs/protocol.md 5.2)."""

from __future__ import annotations

from collections.abc import Sequence

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from protocol.digest import content_digest
from protocol.httpsig.profile import ALG, TAG, required_components
from protocol.httpsig.signature_base import Headers, signature_base
from protocol.structured_fields import BareItem, InnerList, Item, Params, serialize_dictionary

__all__ = ["sign_components", "sign_request"]


def sign_components(
    method: str,
    url: str,
    headers: Headers,
    private_key: Ed25519PrivateKey,
    components: Sequence[str],
    params: Params,
    label: str = "sig1",
) -> dict[str, str]:
    """Sign the given components with these parameters; the `Signature-Input` and `Signature`.

    The parameters are serialized in the order given. Ed25519 is deterministic, so the same
    inputs always give the same `Signature` (RFC 9421 section 3.3.6).
    """
    signature_input = InnerList(tuple(Item(c) for c in components), dict(params))
    base = signature_base(method, url, headers, signature_input)
    signature = private_key.sign(base)
    return {
        "Signature-Input": serialize_dictionary({label: signature_input}),
        "Signature": serialize_dictionary({label: Item(signature)}),
    }


def sign_request(
    method: str,
    url: str,
    headers: Headers,
    body: bytes | None,
    private_key: Ed25519PrivateKey,
    keyid: str,
    created: int,
    expires: int,
    nonce: str,
    label: str = "sig1",
    tag: str | None = TAG,
) -> dict[str, str]:
    """Headers to add to a node-to-node request: `Signature-Input`, `Signature` and, when
    there is a body, `Content-Digest` (sha-256, RFC 9530). They replace any of the same name.

    Parameter order (docs/protocol.md 5.2): created, expires, nonce, keyid, alg, tag.
    """
    added: dict[str, str] = {}
    signed_headers: dict[str, str] = {
        k: v for k, v in headers.items() if k.lower() != "content-digest"
    }
    if body:
        added["Content-Digest"] = signed_headers["Content-Digest"] = content_digest(body)
    params: dict[str, BareItem] = {
        "created": created,
        "expires": expires,
        "nonce": nonce,
        "keyid": keyid,
        "alg": ALG,
    }
    if tag is not None:
        params["tag"] = tag
    added.update(
        sign_components(
            method, url, signed_headers, private_key, required_components(bool(body)), params, label
        )
    )
    return added
