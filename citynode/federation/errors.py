"""Federation refusals, as node errors: `web/errors.py` turns them into the one error shape."""

from __future__ import annotations

from typing import Any

from citynode.errors import NodeError
from protocol.httpsig.accept_signature import accept_signature


class SignatureRefused(NodeError):
    """A `/fed/` request whose RFC 9421 signature is missing, stale, replayed or does not hold.

    The code is the protocol's reason (`signature_expired`, `nonce_replayed`, `unknown_key`...),
    so the rejection counters say why.
    """

    code = "signature_refused"
    status = 401

    def __init__(
        self, message: str, code: str | None = None, *, has_body: bool = False, **detail: Any
    ) -> None:
        super().__init__(message, **detail)
        if code:
            self.code = code
        # A 401 carries a challenge (RFC 9110 section 11.6.1). HTTP Message Signatures register
        # no authentication scheme, so the challenge names the scheme by the protocol's own word
        # and `Accept-Signature` (RFC 9421 section 5.1) says what to sign.
        reason = self.code.replace('"', "'")
        self.headers["WWW-Authenticate"] = f'Signature realm="citynode", error="{reason}"'
        self.headers["Accept-Signature"] = accept_signature(has_body)


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
