"""Federation refusals, as node errors: `web/errors.py` turns them into the one error shape."""

from __future__ import annotations

from typing import Any

from citynode.errors import NodeError


class SignatureRefused(NodeError):
    """A `/fed/` request whose RFC 9421 signature is missing, stale, replayed or does not hold.

    The code is the protocol's reason (`signature_expired`, `nonce_replayed`, `unknown_key`...),
    so the rejection counters say why.
    """

    code = "signature_refused"
    status = 401

    def __init__(self, message: str, code: str | None = None, **detail: Any) -> None:
        super().__init__(message, **detail)
        if code:
            self.code = code


class PeerRefused(NodeError):
    """The signer is blocked, unknown where a peer is required, or on the deny list."""

    code = "peer_refused"
    status = 403


class PeerUnreachable(NodeError):
    """`peer add`: the URL does not answer as a citynode node.

    A 4xx, not 502: the URL is what the operator sent, and no input may produce a 5xx (issue 7).
    """

    code = "peer_unreachable"
    status = 422


class PeerAddressRefused(PeerUnreachable):
    """`peer add`: the URL names an address this node's policy does not contact (loopback,
    private, metadata...). A decision of the operator's configuration, not a failure of the
    peer, so a 4xx (`allow_private_peers` or a reachable public URL changes it)."""

    code = "peer_address_refused"
    status = 422


class PeerUrlInvalid(PeerUnreachable):
    """`peer add`: the URL cannot be requested at all (scheme, credentials, no host)."""

    code = "bad_url"
    status = 400
