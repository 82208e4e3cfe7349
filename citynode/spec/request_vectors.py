"""The request vectors of docs/vectors/requests.json: signed federation requests, each with the
result verifying it at `NOW` must give (docs/protocol.md 5).

The expected result is stated by what was done to the request, never by running a verifier.
"""

from __future__ import annotations

import base64
import copy
import hashlib
from typing import Any

from citynode.spec.vector_identities import CLOCK_SKEW, DID, MAX_AGE, MEDELLIN, NOW, OTHER_BASE_URL
from protocol.digest import content_digest
from protocol.httpsig.profile import ALG, TAG
from protocol.httpsig.signature_base import signature_base
from protocol.httpsig.signing import sign_components, sign_request
from protocol.messages import DigestRequest, InboxNotice, encode_message
from protocol.structured_fields import BareItem, InnerList, parse_dictionary

__all__ = ["request_vectors"]


def _request(
    method: str,
    url: str,
    body: bytes | None,
    *,
    key: str = "key-2",
    keyid: str | None = None,
    created: int = NOW - 10,
    expires: int | None = None,
    nonce: str | None = None,
    tag: str | None = TAG,
) -> dict[str, Any]:
    if nonce is None:
        # Distinct for every request (a receiver refuses a nonce twice), and deterministic.
        seen = hashlib.sha256(f"{method} {url} {created} {key} {keyid}".encode()).digest()
        nonce = base64.urlsafe_b64encode(seen[:12]).decode()
    headers = {"Content-Type": "application/json"} if body else {}
    headers.update(
        sign_request(
            method,
            url,
            headers,
            body,
            MEDELLIN.private[key],
            keyid or MEDELLIN.key_id(key),
            created,
            created + 300 if expires is None else expires,
            nonce,
            tag=tag,
        )
    )
    return {
        "method": method,
        "url": url,
        "headers": [[name, value] for name, value in headers.items()],
        "body": None if body is None else body.decode(),
    }


def _request_vector(
    name: str,
    description: str,
    request: dict[str, Any],
    expect: str,
    *,
    seen: list[str] | None = None,
    base: bool = False,
) -> dict[str, Any]:
    vector: dict[str, Any] = {
        "name": name,
        "description": description,
        "signer": MEDELLIN.did,
        "request": request,
        "now": NOW,
        "maxAge": MAX_AGE,
        "clockSkew": CLOCK_SKEW,
        "seenNonces": seen or [],
        "expect": expect,
    }
    if base:
        vector["signatureBase"] = _base_of(request)
    return vector


def _signature_input(request: dict[str, Any]) -> tuple[dict[str, str], InnerList]:
    headers = {name: value for name, value in request["headers"]}
    signature_input = parse_dictionary(headers["Signature-Input"])["sig1"]
    assert isinstance(signature_input, InnerList)
    return headers, signature_input


def _base_of(request: dict[str, Any]) -> str:
    headers, signature_input = _signature_input(request)
    return signature_base(request["method"], request["url"], headers, signature_input).decode()


def _nonce_of(request: dict[str, Any]) -> str:
    nonce = _signature_input(request)[1].params["nonce"]
    assert isinstance(nonce, str)
    return nonce


def _signed_by_hand(
    method: str, url: str, *, nonce: str | None, alg: str = ALG, tag: str = TAG
) -> list[list[str]]:
    """Header lines of a signature made with chosen parameters (the `@method` and `@target-uri`
    only, no Content-Digest), for the vectors `sign_request` would not make."""
    params: dict[str, BareItem] = {"created": NOW - 10, "expires": NOW + 290}
    if nonce is not None:
        params["nonce"] = nonce
    params.update(keyid=MEDELLIN.key_id("key-2"), alg=alg, tag=tag)
    headers = sign_components(
        method, url, {}, MEDELLIN.private["key-2"], ["@method", "@target-uri"], params
    )
    return [[name, value] for name, value in headers.items()]


def _with(request: dict[str, Any], **changes: Any) -> dict[str, Any]:
    changed = copy.deepcopy(request)
    changed.update(changes)
    return changed


def _header(request: dict[str, Any], name: str, value: str | None) -> dict[str, Any]:
    changed = copy.deepcopy(request)
    changed["headers"] = [h for h in changed["headers"] if h[0].lower() != name.lower()]
    if value is not None:
        changed["headers"].append([name, value])
    return changed


def request_vectors() -> list[dict[str, Any]]:
    # Medellín's node asks Lisboa's.
    feed = f"{OTHER_BASE_URL}/fed/v1/changes?after=1.Ag&limit=100"
    inbox = f"{OTHER_BASE_URL}/fed/v1/inbox"
    notice = encode_message(InboxNotice(sender=DID, cursor="1.Kg"))
    get = _request("GET", feed, None)
    post = _request("POST", inbox, notice)
    digest = _request(
        "POST", f"{OTHER_BASE_URL}/fed/v1/digest", encode_message(DigestRequest()), nonce="ZGlnZXN0"
    )
    other_app = _signed_by_hand("GET", feed, nonce="b3RoZXI", tag="other-app")
    forged_digest = _with(post, body=post["body"].replace("1.Kg", "1.Kh"))
    forged_digest = _header(
        forged_digest, "Content-Digest", content_digest(forged_digest["body"].encode())
    )
    no_digest = _signed_by_hand("POST", inbox, nonce="bm9kaWdlc3Q")
    rsa = _signed_by_hand("GET", feed, nonce="cnNh", alg="rsa-pss-sha512")
    no_nonce = _signed_by_hand("GET", feed, nonce=None)
    return [
        _request_vector(
            "get-changes", "A signed GET of the changes feed.", get, "valid", base=True
        ),
        _request_vector(
            "post-notice",
            "A signed POST with a body and its Content-Digest.",
            post,
            "valid",
            base=True,
        ),
        _request_vector("post-digest", "A digest request.", digest, "valid"),
        _request_vector(
            "untagged",
            "A signature without the tag parameter (signers before it was specified) "
            "is still verified.",
            _request("GET", feed, None, nonce="dW50YWdnZWQ", tag=None),
            "valid",
        ),
        _request_vector(
            "other-tag-only",
            "The only signature is tagged for another application.",
            _with(get, headers=other_app),
            "signature_missing",
        ),
        _request_vector(
            "unsigned",
            "No Signature-Input or Signature.",
            _with(get, headers=[]),
            "signature_missing",
        ),
        _request_vector(
            "replayed",
            "The nonce was already seen from this signer.",
            get,
            "nonce_replayed",
            seen=[_nonce_of(get)],
        ),
        _request_vector(
            "expired",
            "Past its expires time (beyond the clock skew).",
            _request("GET", feed, None, created=NOW - 200, expires=NOW - 100),
            "signature_expired",
        ),
        _request_vector(
            "too-old",
            "Created longer ago than the receiver's maximum age, though not expired.",
            _request("GET", feed, None, created=NOW - 3600, expires=NOW + 600),
            "signature_expired",
        ),
        _request_vector(
            "from-the-future",
            "Created later than now plus the clock skew.",
            _request("GET", feed, None, created=NOW + 120),
            "signature_not_yet_valid",
        ),
        _request_vector(
            "within-clock-skew",
            "Created a little after now, within the clock skew.",
            _request("GET", feed, None, created=NOW + 20),
            "valid",
        ),
        _request_vector(
            "body-changed",
            "The body changed after signing (Content-Digest no longer matches).",
            _with(post, body=post["body"].replace("1.Kg", "1.Kh")),
            "digest_mismatch",
        ),
        _request_vector(
            "digest-replaced",
            "Body and Content-Digest replaced together: the signature covers the digest.",
            forged_digest,
            "bad_signature",
        ),
        _request_vector(
            "other-url",
            "Sent to another URL than the one signed (the limit changed).",
            _with(get, url=feed.replace("limit=100", "limit=500")),
            "bad_signature",
        ),
        _request_vector(
            "other-method",
            "Signed as a GET, sent as a DELETE.",
            _with(get, method="DELETE"),
            "bad_signature",
        ),
        _request_vector(
            "digest-not-covered",
            "A body, but the signature does not cover content-digest.",
            _with(post, headers=[["Content-Type", "application/json"], *no_digest]),
            "component_not_covered",
        ),
        _request_vector(
            "other-algorithm",
            "alg names another algorithm.",
            _with(get, headers=rsa),
            "unsupported_algorithm",
        ),
        _request_vector(
            "no-nonce",
            "No nonce parameter.",
            _with(get, headers=no_nonce),
            "malformed_signature",
        ),
        _request_vector(
            "retired-key",
            "Signed with key-1, retired: only active keys (authentication) sign requests.",
            _request("GET", feed, None, key="key-1"),
            "unknown_key",
        ),
        _request_vector(
            "wrong-key",
            "Signed with key-1 but naming key-2 as keyid.",
            _request("GET", feed, None, key="key-1", keyid=MEDELLIN.key_id("key-2")),
            "bad_signature",
        ),
    ]
