"""Reading and verifying a request's signature (RFC 9421 sections 3.2 and 4).

Pure: the time, the key lookup and the replay cache are given by the caller.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import msgspec
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from protocol.digest import check_content_digest
from protocol.errors import (
    BadSignature,
    ComponentNotCovered,
    ComponentUnavailable,
    MalformedSignature,
    NonceReplayed,
    ProtocolError,
    SignatureExpired,
    SignatureMissing,
    SignatureNotYetValid,
    UnknownKey,
    UnsupportedAlgorithm,
)
from protocol.httpsig.profile import ALG, DEFAULT_CLOCK_SKEW, DEFAULT_MAX_AGE, required_components
from protocol.httpsig.signature_base import Headers, header_value, signature_base
from protocol.structured_fields import InnerList, Item, Params, parse_dictionary

__all__ = [
    "ParsedSignature",
    "VerifiedSignature",
    "read_signature",
    "verify_request",
    "verify_signature",
]


class ParsedSignature(msgspec.Struct, frozen=True):
    """One signature read from a request: its label, `Signature-Input` member and bytes."""

    label: str
    signature_input: InnerList
    signature: bytes


class VerifiedSignature(msgspec.Struct, frozen=True, kw_only=True):
    """What a verified request signature says: who signed, when, and what it covers."""

    label: str
    keyid: str
    created: int
    expires: int | None
    nonce: str | None
    covered: tuple[str, ...]
    alg: str | None


def read_signature(
    headers: Headers, label: str | None = None, tag: str | None = None
) -> ParsedSignature:
    """Parse `Signature-Input` and `Signature` (RFC 9421 section 4) and pick one signature.

    Without a label, the first `Signature-Input` member that has a `Signature` is taken; with a
    `tag`, the first whose `tag` parameter is that one, else the first with no tag at all
    (signers before the tag was specified), never one tagged for another application
    (docs/protocol.md 5.2).
    """
    raw_input = header_value(headers, "signature-input")
    raw_signature = header_value(headers, "signature")
    if raw_input is None or raw_signature is None:
        raise SignatureMissing("the request is not signed (no Signature-Input and Signature)")
    inputs = parse_dictionary(raw_input)
    signatures = parse_dictionary(raw_signature)
    if label is None:
        paired = [name for name in inputs if name in signatures]
        if not paired:
            raise MalformedSignature("no Signature matches a Signature-Input label")
        if tag is not None:
            paired = [name for name in paired if _tag_of(inputs[name]) == tag] or [
                name for name in paired if _tag_of(inputs[name]) is None
            ]
            if not paired:
                raise SignatureMissing(
                    f"the request has no signature tagged {tag!r} (nor an untagged one)", tag=tag
                )
        label = paired[0]
    elif label not in inputs or label not in signatures:
        raise SignatureMissing(f"the request has no signature labelled {label!r}", label=label)
    signature_input = inputs[label]
    signature = signatures[label]
    if not isinstance(signature_input, InnerList):
        raise MalformedSignature("Signature-Input must be an inner list", label=label)
    for component in signature_input.items:
        if type(component.value) is not str:
            raise MalformedSignature("covered components must be strings", label=label)
    if not isinstance(signature, Item) or not isinstance(signature.value, bytes):
        raise MalformedSignature("Signature must be a byte sequence", label=label)
    return ParsedSignature(label, signature_input, signature.value)


def _tag_of(member: Item | InnerList) -> object:
    value = member.params.get("tag")
    # RFC 9421 section 2.3: `tag` is an sf-string; a token of the same letters is another value.
    return value if type(value) is str else (None if value is None else repr(value))


def verify_signature(
    method: str, url: str, headers: Headers, parsed: ParsedSignature, key: Ed25519PublicKey
) -> None:
    """Check the signature bytes over the rebuilt signature base (RFC 9421 section 3.2)."""
    base = signature_base(method, url, headers, parsed.signature_input)
    try:
        key.verify(parsed.signature, base)
    except InvalidSignature:
        raise BadSignature("the request signature does not verify", label=parsed.label) from None


def _int_param(params: Params, name: str, required: bool) -> int | None:
    value = params.get(name)
    if value is None and not required:
        return None
    if value is None:
        raise MalformedSignature(f"the signature has no {name!r} parameter", parameter=name)
    if type(value) is not int:  # not a bool, not a decimal
        raise MalformedSignature(f"the parameter {name!r} must be an integer", parameter=name)
    return value


def _str_param(params: Params, name: str, required: bool) -> str | None:
    value = params.get(name)
    if value is None and not required:
        return None
    if value is None:
        raise MalformedSignature(f"the signature has no {name!r} parameter", parameter=name)
    if type(value) is not str:  # RFC 9421 section 2.3: an sf-string, so not a token
        raise MalformedSignature(f"the parameter {name!r} must be a string", parameter=name)
    return value


def verify_request(
    method: str,
    url: str,
    headers: Headers,
    body: bytes | None,
    resolve_key: Callable[[str], Ed25519PublicKey],
    now: int,
    max_age: int = DEFAULT_MAX_AGE,
    *,
    seen_nonce: Callable[[str, int], bool],
    clock_skew: int = DEFAULT_CLOCK_SKEW,
    required: Sequence[str] | None = None,
    label: str | None = None,
    tag: str | None = None,
) -> VerifiedSignature:
    """Verify a signed node-to-node request; raise a `HttpSignatureError` subclass if it fails.

    Checks, in this order (cheap before costly; the nonce is recorded only for a valid signature
    so unsigned traffic cannot fill or poison the replay cache):

    1. `Signature-Input`/`Signature` present (`SignatureMissing`; with `tag`, the signature is
       picked as `read_signature` does) and well formed
       (`MalformedField`, `MalformedSignature`); `created`, `keyid` and `nonce` present;
    2. `alg`, if given, is `ed25519` (`UnsupportedAlgorithm`);
    3. the required components are covered (`ComponentNotCovered`): by default `@method`,
       `@target-uri`, and `content-digest` when there is a body;
    4. time: `created` not beyond `now + clock_skew` (`SignatureNotYetValid`), not older than
       `max_age`, and `expires` not passed (`SignatureExpired`);
    5. a covered `Content-Digest` matches the body (`DigestMismatch`);
    6. the key: `resolve_key(keyid)`; a `KeyError` becomes `UnknownKey`;
    7. the signature over the base (`BadSignature`, `ComponentUnavailable`);
    8. `seen_nonce(nonce, remember_until)` must return False, and records the nonce
       (`NonceReplayed`); `remember_until` is the last second the signature could be accepted.
    """
    parsed = read_signature(headers, label, tag)
    params = parsed.signature_input.params
    created = _int_param(params, "created", required=True)
    keyid = _str_param(params, "keyid", required=True)
    nonce = _str_param(params, "nonce", required=True)
    expires = _int_param(params, "expires", required=False)
    alg = _str_param(params, "alg", required=False)
    # (required=True never returns None; mypy cannot see it.)
    assert created is not None and keyid is not None and nonce is not None
    if alg is not None and alg != ALG:
        raise UnsupportedAlgorithm(f"unsupported signature algorithm {alg!r}", alg=alg)

    covered = tuple(str(c.value) for c in parsed.signature_input.items)
    has_body = bool(body)
    for name in required if required is not None else required_components(has_body):
        if name not in covered:
            raise ComponentNotCovered(f"the signature must cover {name}", component=name)

    # RFC 9421 section 3.2.1: the verifier decides the acceptable age and skew.
    if created > now + clock_skew:
        raise SignatureNotYetValid(
            "the signature was created in the future", created=created, now=now
        )
    if now - created > max_age:
        raise SignatureExpired(
            f"the signature is older than {max_age} seconds",
            created=created,
            now=now,
            reason="too_old",
        )
    if expires is not None:
        if expires < created:
            raise MalformedSignature("the signature expires before it was created")
        if now > expires + clock_skew:
            raise SignatureExpired(
                "the signature has expired", expires=expires, now=now, reason="expired"
            )

    if "content-digest" in covered:
        digest_header = header_value(headers, "content-digest")
        if digest_header is None:
            raise ComponentUnavailable(
                "the request has no Content-Digest field", component="content-digest"
            )
        check_content_digest(digest_header, body or b"")

    try:
        key = resolve_key(keyid)
    except ProtocolError:
        raise
    except LookupError:
        raise UnknownKey(f"unknown signing key {keyid}", keyid=keyid) from None
    verify_signature(method, url, headers, parsed, key)

    last_valid = created + max_age if expires is None else min(created + max_age, expires)
    if seen_nonce(nonce, last_valid + clock_skew):
        raise NonceReplayed("the request was already received (nonce replay)", keyid=keyid)
    return VerifiedSignature(
        label=parsed.label,
        keyid=keyid,
        created=created,
        expires=expires,
        nonce=nonce,
        covered=covered,
        alg=alg,
    )
