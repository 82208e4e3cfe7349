"""The one error root of the node, and the HTTP status each kind maps to.

`web/errors.py` is the only place that turns these (and `protocol.errors.ProtocolError`) into
responses; every response has the same JSON shape: {"code", "message", "detail"}.
"""

from __future__ import annotations

from typing import Any


class NodeError(Exception):
    """Root of every error the node raises on purpose."""

    code = "node_error"
    status = 500

    def __init__(self, message: str, **detail: Any) -> None:
        super().__init__(message)
        self.message = message
        self.detail: dict[str, Any] = {k: v for k, v in detail.items() if v is not None}
        #: Response headers the error needs (`WWW-Authenticate` on a 401).
        self.headers: dict[str, str] = {}


class BadRequest(NodeError):
    code = "bad_request"
    status = 400


class Unauthorized(NodeError):
    """No valid editor token. The answer carries the Bearer challenge (RFC 6750 section 3):
    `error="invalid_token"` when a token was sent but is unknown, revoked or expired."""

    code = "unauthorized"
    status = 401

    def __init__(self, message: str, *, invalid_token: bool = False, **detail: Any) -> None:
        super().__init__(message, **detail)
        challenge = 'Bearer realm="citynode"'
        if invalid_token:
            reason = message.replace("\\", "").replace('"', "'")
            challenge += f', error="invalid_token", error_description="{reason}"'
        self.headers["WWW-Authenticate"] = challenge


class Forbidden(NodeError):
    code = "forbidden"
    status = 403


class NotFound(NodeError):
    code = "not_found"
    status = 404


class NotAcceptable(NodeError):
    code = "not_acceptable"
    status = 406


class Conflict(NodeError):
    code = "conflict"
    status = 409


class PreconditionFailed(NodeError):
    """`If-Match` named a version that is not the one held (RFC 9110 section 13.1.1)."""

    code = "precondition_failed"
    status = 412


class Gone(NodeError):
    code = "gone"
    status = 410


class PayloadTooLarge(NodeError):
    code = "payload_too_large"
    status = 413


class UnsupportedMediaType(NodeError):
    code = "unsupported_media_type"
    status = 415


class TooManyRequests(NodeError):
    code = "too_many_requests"
    status = 429


class StorageFull(NodeError):
    """The disk (or the database's page limit) is full: the write was rolled back whole.

    507 Insufficient Storage (RFC 4918 section 11.5): the request may succeed once an operator
    frees space; reads go on being served meanwhile.
    """

    code = "storage_full"
    status = 507


class ConfigError(NodeError):
    """The node's home folder or citynode.toml is missing or wrong."""

    code = "config_error"
    status = 500


class ImportFailed(NodeError):
    """A file given to `citynode publish` could not be read as records."""

    code = "import_failed"
    status = 422


# --- Outbound requests (citynode/outbound.py) ---
# `sync_kind` is the `protocol.sync.ErrorKind` a federation pull reports for the error.


class OutboundError(NodeError):
    """An outbound request (to a peer, a DID document, a search fan-out) did not succeed."""

    code = "outbound_error"
    status = 502
    sync_kind = "network"


class OutboundRefused(OutboundError):
    """The target resolves to an address the node must not contact (SSRF guard)."""

    code = "ssrf_refused"
    sync_kind = "ssrf_refused"


class OutboundBadUrl(OutboundError):
    """The URL cannot be requested: not http(s), credentials in it, no host..."""

    code = "bad_url"
    sync_kind = "invalid"


class OutboundTooLarge(OutboundError):
    """The response body is larger than the cap for this request."""

    code = "too_large"
    sync_kind = "too_large"


class OutboundTimeout(OutboundError):
    """The request did not finish within its deadline."""

    code = "timeout"
    status = 504
    sync_kind = "timeout"


class OutboundConnectionFailed(OutboundError):
    """The connection failed, was reset, or the name did not resolve."""

    code = "connection_failed"
    sync_kind = "network"


class OutboundBadStatus(OutboundError):
    """The peer answered with a status the caller did not expect."""

    code = "bad_status"

    def __init__(self, message: str, *, http_status: int, **detail: Any) -> None:
        super().__init__(message, http_status=http_status, **detail)
        self.http_status = http_status
        if http_status == 429:
            self.sync_kind = "rate_limited"
        elif http_status in (401, 403):
            self.sync_kind = "refused"
        elif http_status in (404, 410):
            self.sync_kind = "gone"
        elif http_status >= 500:
            self.sync_kind = "server_error"
        else:
            self.sync_kind = "invalid"


class OutboundBadContentType(OutboundError):
    """The response is not of the expected media type (JSON for federation)."""

    code = "bad_content_type"
    sync_kind = "invalid"


class OutboundTooManyRedirects(OutboundError):
    """More redirects than allowed (or a redirect for a request that must not follow one)."""

    code = "too_many_redirects"
    sync_kind = "invalid"


class OutboundBackoff(OutboundError):
    """The host failed recently; the client waits before contacting it again."""

    code = "host_backoff"
    status = 503
    sync_kind = "network"
