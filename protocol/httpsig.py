"""HTTP Message Signatures (RFC 9421) with Ed25519 (Content-Digest, RFC 9530, is in digest.py).

Every node-to-node request is signed: the signer covers `("@method" "@target-uri"
"content-digest")` for a request with a body and `("@method" "@target-uri")` without, with the
parameters `created`, `expires`, `nonce`, `keyid` and `alg="ed25519"`. The receiver checks the
structure, the age, the digest, the key, the signature and finally the nonce (replay cache).

All functions here are pure: the time (`now`, `created`), the nonce, the key lookup and the replay
cache are given by the caller. `url` is the full target URI exactly as the request was sent (the
receiver rebuilds it from its public base URL and the raw path, not from a proxied Host header).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Final
from urllib.parse import unquote_to_bytes, urlsplit

import msgspec
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from protocol.digest import check_content_digest, content_digest
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
from protocol.structured_fields import (
    BareItem,
    InnerList,
    Item,
    Params,
    Token,
    parse_dictionary,
    serialize_dictionary,
    serialize_inner_list,
    serialize_item,
)

__all__ = [
    "ALG",
    "DEFAULT_CLOCK_SKEW",
    "DEFAULT_MAX_AGE",
    "Headers",
    "ParsedSignature",
    "VerifiedSignature",
    "check_content_digest",
    "component_value",
    "content_digest",
    "read_signature",
    "required_components",
    "sign_components",
    "sign_request",
    "signature_base",
    "verify_request",
    "verify_signature",
]

ALG: Final = "ed25519"
#: Seconds a signature is accepted after its `created` time (docs/DESIGN.md: default 5 min).
DEFAULT_MAX_AGE: Final = 300
#: Seconds a signer's clock may run ahead of ours.
DEFAULT_CLOCK_SKEW: Final = 30

#: Request headers: any mapping whose `items()` yields every field line (a dict, or aiohttp's
#: `CIMultiDictProxy`, where repeated fields appear once per line).
Headers = Mapping[str, str]

_DEFAULT_PORTS: Final = {"http": 80, "https": 443}
# application/x-www-form-urlencoded percent-encode set (WHATWG URL), for @query-param values.
_FORM_SAFE: Final = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789*-._")


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


# --- Component values (RFC 9421 section 2) ---


def _field_lines(headers: Headers, name: str) -> list[str]:
    return [value for key, value in headers.items() if key.lower() == name]


def _header_value(headers: Headers, name: str) -> str | None:
    # RFC 9421 section 2.1: strip each field line, replace obs-fold, join with ", ".
    lines = _field_lines(headers, name)
    if not lines:
        return None
    cleaned = []
    for line in lines:
        folded = " ".join(part.strip(" \t") for part in line.replace("\r\n", "\n").split("\n"))
        cleaned.append(folded.strip(" \t"))
    return ", ".join(cleaned)


def _authority(scheme: str, url: str) -> str:
    parts = urlsplit(url)
    host = parts.hostname
    try:
        port = parts.port
    except ValueError:
        raise ComponentUnavailable(
            "the target URI has an invalid port", component="@authority"
        ) from None
    if not host:
        raise ComponentUnavailable("the target URI has no host", component="@authority")
    # RFC 9421 section 2.2.3: lowercase host, default port omitted (RFC 9110 section 4.2.3).
    text = f"[{host}]" if ":" in host else host
    if port is not None and port != _DEFAULT_PORTS.get(scheme):
        text += f":{port}"
    return text


def _query_param(query: str, name: str) -> str:
    # RFC 9421 section 2.2.8: parse as application/x-www-form-urlencoded, re-encode the value.
    def decode(text: str) -> bytes:
        return unquote_to_bytes(text.replace("+", " "))

    def encode(raw: bytes) -> str:
        return "".join(chr(b) if b in _FORM_SAFE else f"%{b:02X}" for b in raw)

    wanted = decode(name)
    values = []
    for pair in query.split("&") if query else []:
        key, _, value = pair.partition("=")
        if decode(key) == wanted:
            values.append(encode(decode(value)))
    if len(values) != 1:
        # A missing or repeated parameter cannot be signed (section 2.2.8).
        raise ComponentUnavailable(
            f"query parameter {name!r} occurs {len(values)} times", component="@query-param"
        )
    return values[0]


def component_value(method: str, url: str, headers: Headers, component: Item) -> str:
    """The value of one covered component (RFC 9421 sections 2.1 and 2.2) of a request."""
    name = component.value
    if not isinstance(name, str) or isinstance(name, Token):
        raise MalformedSignature("component identifiers must be strings", component=str(name))
    params = component.params
    if name.startswith("@"):
        parts = urlsplit(url)
        scheme = parts.scheme.lower()
        if params and not (name == "@query-param" and set(params) == {"name"}):
            raise ComponentUnavailable(
                f"component {name} with parameters {sorted(params)} is not supported",
                component=name,
            )
        match name:
            case "@method":
                return method
            case "@target-uri":
                return url
            case "@authority":
                return _authority(scheme, url)
            case "@scheme":
                return scheme
            case "@request-target":
                return (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
            case "@path":
                return parts.path or "/"
            case "@query":
                return f"?{parts.query}"
            case "@query-param":
                wanted = params.get("name")
                if not isinstance(wanted, str):
                    raise MalformedSignature("@query-param needs a string name", component=name)
                return _query_param(parts.query, wanted)
            case _:
                raise ComponentUnavailable(f"unknown derived component {name}", component=name)
    if name != name.lower() or not name:
        raise MalformedSignature(f"field names must be lowercase: {name!r}", component=name)
    if params:
        raise ComponentUnavailable(
            f"field {name} with parameters {sorted(params)} is not supported", component=name
        )
    value = _header_value(headers, name)
    if value is None:
        raise ComponentUnavailable(f"the request has no {name} field to verify", component=name)
    return value


def signature_base(method: str, url: str, headers: Headers, signature_input: InnerList) -> bytes:
    """The signature base (RFC 9421 section 2.5) for the covered components and parameters.

    One line per component, `"identifier": value`, then `"@signature-params": ` followed by the
    serialized inner list; lines joined by LF, no trailing newline. The base must be ASCII.
    """
    lines: list[str] = []
    seen: set[str] = set()
    for component in signature_input.items:
        identifier = serialize_item(component)
        if identifier in seen:
            # Section 2.5 step 2.1: a component may be covered only once.
            raise MalformedSignature(f"component {identifier} is covered twice")
        seen.add(identifier)
        value = component_value(method, url, headers, component)
        if "\n" in value or "\r" in value:
            raise ComponentUnavailable(
                f"component {identifier} contains a line break", component=identifier
            )
        lines.append(f"{identifier}: {value}")
    # Section 2.3 and 2.5 step 3: the parameters line is always last.
    lines.append(f'"@signature-params": {serialize_inner_list(signature_input)}')
    try:
        return "\n".join(lines).encode("ascii")
    except UnicodeEncodeError:
        # Field values outside ASCII would be signed differently by other implementations.
        raise ComponentUnavailable("a covered component is not ASCII") from None


# --- Signing ---


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


def required_components(has_body: bool) -> tuple[str, ...]:
    """The components this protocol covers: `content-digest` too when there is a body."""
    base = ("@method", "@target-uri")
    return (*base, "content-digest") if has_body else base


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
) -> dict[str, str]:
    """Headers to add to a node-to-node request: `Signature-Input`, `Signature` and, when
    there is a body, `Content-Digest` (sha-256, RFC 9530). They replace any of the same name.

    Parameter order follows docs/DESIGN.md: created, expires, nonce, keyid, alg.
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
    added.update(
        sign_components(
            method, url, signed_headers, private_key, required_components(bool(body)), params, label
        )
    )
    return added


# --- Verifying ---


def read_signature(headers: Headers, label: str | None = None) -> ParsedSignature:
    """Parse `Signature-Input` and `Signature` (RFC 9421 section 4) and pick one signature.

    Without a label, the first `Signature-Input` member that has a `Signature` is taken.
    """
    raw_input = _header_value(headers, "signature-input")
    raw_signature = _header_value(headers, "signature")
    if raw_input is None or raw_signature is None:
        raise SignatureMissing("the request is not signed (no Signature-Input and Signature)")
    inputs = parse_dictionary(raw_input)
    signatures = parse_dictionary(raw_signature)
    if label is None:
        label = next((name for name in inputs if name in signatures), None)
        if label is None:
            raise MalformedSignature("no Signature matches a Signature-Input label")
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
) -> VerifiedSignature:
    """Verify a signed node-to-node request; raise a `HttpSignatureError` subclass if it fails.

    Checks, in this order (cheap before costly; the nonce is recorded only for a valid signature
    so unsigned traffic cannot fill or poison the replay cache):

    1. `Signature-Input`/`Signature` present (`SignatureMissing`) and well formed
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
    parsed = read_signature(headers, label)
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
        digest_header = _header_value(headers, "content-digest")
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


def accept_signature(has_body: bool, label: str = "sig1") -> str:
    """The `Accept-Signature` field (RFC 9421 section 5.1) a refusal sends back: the components
    this protocol requires and the algorithm, so a client learns what to sign from the 401."""
    components = InnerList(tuple(Item(c) for c in required_components(has_body)), {"alg": ALG})
    return serialize_dictionary({label: components})
