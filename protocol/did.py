"""did:web identities and the node's DID document.

* did:web method (https://w3c-ccg.github.io/did-method-web/, section 3.2 "Create/Read"): the DID is
  the host of the node's base URL, a port percent-encoded as `%3A`, and each path segment appended
  after a colon: `https://medellin.example` -> `did:web:medellin.example`,
  `http://127.0.0.1:8443` -> `did:web:127.0.0.1%3A8443`,
  `https://cities.example/co/medellin` -> `did:web:cities.example:co:medellin`.
* DID document (DID Core v1.0 section 5, Controlled Identifiers v1.0 section 2.2): Ed25519 keys as
  `Multikey` verification methods, listed under `assertionMethod` (records) and
  `authentication` (node-to-node requests), plus a `CityNode` service pointing at the node
  descriptor.

Key lifecycle (docs/DESIGN.md "Identity and keys"), carried on each verification method:

* `created`: when the key started signing; proofs dated earlier are refused.
* `retired`: when the key stopped signing after a routine rotation. The key stays listed so records
  it signed before then keep verifying; proofs dated later are refused. Our own term: the CID
  `expires` property is not used because generic verifiers may compare it with the current time
  and would then refuse every old record.
* `revoked` (Controlled Identifiers v1.0 section 2.2, term from the Multikey context): when the key
  was compromised; proofs dated at or after it are refused everywhere.

Only `revoked` is defined by the Multikey context, so the document carries a third, inline context
entry that defines `created` and `retired` for JSON-LD processors.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any, Final
from urllib.parse import SplitResult, unquote, urlsplit

import msgspec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from msgspec import Struct

from protocol.errors import KeyFormatError, ProtocolError, UnknownKey
from protocol.multikey import public_key_from_multibase, public_key_to_multibase
from protocol.naming import json_term

__all__ = [
    "DID_CONTEXT",
    "DidDocument",
    "DidError",
    "KeyEntry",
    "Service",
    "VerificationMethod",
    "base_url_from_did",
    "build_did_document",
    "descriptor_url",
    "did_document_url",
    "did_from_base_url",
    "format_timestamp",
    "is_under_base_url",
    "key_resolver",
    "keys_from_document",
    "parse_did_document",
    "parse_timestamp",
    "split_key_id",
]

DID_V1: Final = "https://www.w3.org/ns/did/v1"
MULTIKEY_V1: Final = "https://w3id.org/security/multikey/v1"
LIFECYCLE_NS: Final = "https://w3id.org/citynode/vocab#"
#: `@context` of the node's DID document: DID Core, Multikey, and our key-lifecycle terms.
DID_CONTEXT: Final[list[Any]] = [
    DID_V1,
    MULTIKEY_V1,
    {
        "created": {
            "@id": "http://purl.org/dc/terms/created",
            "@type": "http://www.w3.org/2001/XMLSchema#dateTime",
        },
        "retired": {
            "@id": LIFECYCLE_NS + "retired",
            "@type": "http://www.w3.org/2001/XMLSchema#dateTime",
        },
    },
]
SERVICE_TYPE: Final = "CityNode"
DESCRIPTOR_PATH: Final = "/.well-known/citynode"
_PREFIX: Final = "did:web:"
_DEFAULT_PORTS: Final = {"https": 443, "http": 80}
_HOST = re.compile(r"^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$")
# DID Core section 3.1: idchar = ALPHA / DIGIT / "." / "-" / "_" / pct-encoded. A colon inside a
# segment would be read as a separator, so segments are limited to idchar.
_SEGMENT = re.compile(r"^([A-Za-z0-9._-]|%[0-9A-Fa-f]{2})+$")
_URL_FORBIDDEN = re.compile(r"[\x00-\x20<>\"{}|\\^`\x7f]")


class DidError(ProtocolError):
    """A DID or a base URL that cannot be turned into the other."""

    code = "bad_did"


# --- did:web <-> base URL (did:web section 3.2) ---------------------------------------------


def did_from_base_url(base_url: str) -> str:
    """The did:web DID of a node's base URL (scheme http or https, no query, no fragment)."""
    parts = _split(base_url)
    if parts.query or parts.fragment or "@" in parts.netloc:
        raise DidError(f"a base URL has no user, query or fragment: {base_url!r}", rule="base-url")
    host, port = _host_port(parts, base_url)
    ident = host if port is None else f"{host}%3A{port}"
    for segment in _path_segments(parts.path.rstrip("/"), base_url):
        ident += ":" + segment
    return _PREFIX + ident


def base_url_from_did(did: str, scheme: str = "https") -> str:
    """The base URL a did:web DID names; `scheme` is `https` except for loopback test nodes."""
    if not isinstance(did, str):
        raise DidError(f"not a did:web DID: {did!r}", rule="did-web")
    host, port, segments = _parse_did(did)
    if scheme not in _DEFAULT_PORTS:
        raise DidError(f"scheme must be https or http, not {scheme!r}", rule="scheme")
    authority = host if port is None else f"{host}:{port}"
    return f"{scheme}://{authority}" + "".join("/" + s for s in segments)


def did_document_url(did: str, scheme: str = "https") -> str:
    """Where the DID document is served (did:web section 3.2.2 "Read (Resolve)")."""
    base = base_url_from_did(did, scheme)
    return base + ("/did.json" if _parse_did(did)[2] else "/.well-known/did.json")


def descriptor_url(base_url: str) -> str:
    """The node descriptor URL, `{base}/.well-known/citynode`.

    docs/DESIGN.md "Federation protocol".
    """
    return base_url.rstrip("/") + DESCRIPTOR_PATH


def is_under_base_url(url: str, base_url: str) -> bool:
    """Whether `url` names a resource strictly below `base_url`.

    Compares parsed parts, never string prefixes, so `https://medellin.example.evil.com/x`,
    `https://medellin.example@evil.com/x` and `https://medellin.example/../x` are all outside
    `https://medellin.example`. Dot segments (also percent-encoded) and backslashes are refused
    outright rather than resolved.
    """
    if not isinstance(url, str) or _URL_FORBIDDEN.search(url):
        return False
    try:
        base = _base_parts(base_url)
        target = urlsplit(url)
        if "@" in target.netloc or (target.scheme.lower(), *_host_port(target, url)) != base[:3]:
            return False
    except (ValueError, DidError):
        return False
    path = target.path
    # Only a path holding "." or "%" can hold a dot segment; most ids skip the split.
    if ("%" in path or "." in path) and any(unquote(s) in (".", "..") for s in path.split("/")):
        return False
    prefix = base[3]
    return path.startswith(prefix) and len(path) > len(prefix)


@lru_cache(maxsize=4096)
def _base_parts(base_url: str) -> tuple[str, str, int | None, str]:
    """(scheme, host, port, path + "/") of a base URL; cached, a node sees few of them."""
    parts = urlsplit(base_url)
    host, port = _host_port(parts, base_url)
    return parts.scheme.lower(), host, port, parts.path.rstrip("/") + "/"


def _split(url: str) -> SplitResult:
    if not isinstance(url, str) or _URL_FORBIDDEN.search(url):
        raise DidError(f"not a usable URL: {url!r}", rule="base-url")
    parts = urlsplit(url)
    if parts.scheme not in _DEFAULT_PORTS:
        raise DidError(f"a node's base URL must be http or https: {url!r}", rule="base-url")
    return parts


def _host_port(parts: SplitResult, url: str) -> tuple[str, int | None]:
    host = parts.hostname
    if not host or not _HOST.match(host):
        raise DidError(
            f"no usable host name in {url!r} (IPv6 literals are not supported)", rule="host"
        )
    try:
        port = parts.port
    except ValueError as exc:
        raise DidError(f"bad port in {url!r}", rule="port") from exc
    if port == _DEFAULT_PORTS.get(parts.scheme.lower()):
        port = None
    return host, port


def _path_segments(path: str, url: str) -> list[str]:
    if not path:
        return []
    segments = path.split("/")[1:]
    for segment in segments:
        if not _SEGMENT.match(segment) or unquote(segment) in (".", ".."):
            raise DidError(
                f"path segment {segment!r} of {url!r} cannot appear in a did:web DID",
                rule="path",
            )
    return segments


@lru_cache(maxsize=4096)
def _parse_did(did: str) -> tuple[str, int | None, tuple[str, ...]]:
    # Cached: every verification parses its publisher's DID, and a node knows few DIDs.
    if not isinstance(did, str) or not did.startswith(_PREFIX):
        raise DidError(f"not a did:web DID: {did!r}", rule="did-web")
    host_part, *segments = did[len(_PREFIX) :].split(":")
    host, sep, port_text = host_part.replace("%3a", "%3A").partition("%3A")
    if not _HOST.match(host) or (sep and not port_text.isdigit()):
        raise DidError(f"bad host in DID {did!r}", rule="did-web")
    port = int(port_text) if sep else None
    if port is not None and not 0 < port < 65536:
        raise DidError(f"bad port in DID {did!r}", rule="did-web")
    for segment in segments:
        if not _SEGMENT.match(segment) or unquote(segment) in (".", ".."):
            raise DidError(f"bad path segment {segment!r} in DID {did!r}", rule="did-web")
    return host, port, tuple(segments)


def split_key_id(verification_method: str) -> tuple[str, str]:
    """`did:web:x#key-1` -> (`did:web:x`, `key-1`); DidError when there is no fragment."""
    did, sep, fragment = verification_method.partition("#")
    if not sep or not did or not fragment:
        raise DidError(
            f"a key id is a DID URL with a fragment, like did:web:host#key-1: "
            f"{verification_method!r}",
            rule="key-id",
        )
    return did, fragment


# --- timestamps ------------------------------------------------------------------------------


def parse_timestamp(text: str) -> datetime:
    """An XML Schema dateTime with a time zone (as in `proof.created`) -> aware datetime."""
    try:
        moment = datetime.fromisoformat(text)
    except (TypeError, ValueError) as exc:
        raise ProtocolError(f"not a date-time: {text!r}", rule="datetime") from exc
    if moment.tzinfo is None:
        raise ProtocolError(f"a date-time needs a time zone (Z): {text!r}", rule="datetime")
    return moment


def format_timestamp(moment: datetime) -> str:
    """An aware datetime -> `YYYY-MM-DDTHH:MM:SS[.ffffff]Z`, the form records use."""
    if moment.tzinfo is None:
        raise ProtocolError("a timestamp needs a time zone", rule="datetime")
    utc = moment.astimezone(UTC)
    text = utc.strftime("%Y-%m-%dT%H:%M:%S")
    return text + (f".{utc.microsecond:06d}Z" if utc.microsecond else "Z")


# --- keys and the DID document model ---------------------------------------------------------


class KeyEntry(Struct, frozen=True, kw_only=True):
    """One signing key of a node and its lifecycle (see the module docstring).

    `fragment` is the key id inside the DID document (`key-1`: the method id is
    `did:web:host#key-1`). Times are timezone-aware.
    """

    fragment: str
    public_key: Ed25519PublicKey
    created: datetime
    retired: datetime | None = None
    revoked: datetime | None = None

    @property
    def active(self) -> bool:
        """Still signing: neither retired nor revoked."""
        return self.retired is None and self.revoked is None


class _Wire(Struct, rename=json_term, omit_defaults=True, kw_only=True):
    # Wire types never forbid unknown fields (STYLE.md 3): newer peers may add some.
    pass


class VerificationMethod(_Wire):
    """A verification method (Controlled Identifiers v1.0 section 2.2); ours are `Multikey`."""

    id: str
    type: str
    controller: str
    public_key_multibase: str | None = None
    created: str | None = None
    retired: str | None = None
    revoked: str | None = None


class Service(_Wire):
    """A DID document service (DID Core section 5.4)."""

    id: str
    type: str | list[str]
    service_endpoint: str | list[Any] | dict[str, Any]


class DidDocument(_Wire):
    """A DID document as read from a peer (DID Core section 5)."""

    id: str
    context: str | list[str | dict[str, Any]] = []
    controller: str | list[str] | None = None
    also_known_as: list[str] = []
    verification_method: list[VerificationMethod] = []
    assertion_method: list[str | VerificationMethod] = []
    authentication: list[str | VerificationMethod] = []
    service: list[Service] = []


_doc_decoder = msgspec.json.Decoder(DidDocument)
# A peer's key without `created` has signed since always (the field is ours, not DID Core's).
_EARLIEST: Final = datetime.min.replace(tzinfo=UTC)


def build_did_document(
    did: str, keys: list[KeyEntry], service_url: str | None = None
) -> dict[str, Any]:
    """The DID document a node serves at `/.well-known/did.json`, as JSON builtins.

    Every key is listed as a verification method with its lifecycle times. `assertionMethod`
    lists all of them, retired and revoked included, so records signed before those times keep
    verifying; `authentication` lists only active keys. `service_url` (normally
    `descriptor_url(base_url)`) adds the `CityNode` service; None leaves it out.
    """
    _parse_did(did)
    methods: list[dict[str, Any]] = []
    for key in keys:
        method: dict[str, Any] = {
            "id": f"{did}#{key.fragment}",
            "type": "Multikey",
            "controller": did,
            "publicKeyMultibase": public_key_to_multibase(key.public_key),
            "created": format_timestamp(key.created),
        }
        if key.retired is not None:
            method["retired"] = format_timestamp(key.retired)
        if key.revoked is not None:
            method["revoked"] = format_timestamp(key.revoked)
        methods.append(method)
    document: dict[str, Any] = {
        "@context": [c if isinstance(c, str) else dict(c) for c in DID_CONTEXT],
        "id": did,
        "verificationMethod": methods,
        "assertionMethod": [m["id"] for m in methods],
        "authentication": [f"{did}#{k.fragment}" for k in keys if k.active],
    }
    if service_url is not None:
        document["service"] = [
            {"id": f"{did}#citynode", "type": SERVICE_TYPE, "serviceEndpoint": service_url}
        ]
    return document


def parse_did_document(data: bytes | dict[str, Any]) -> DidDocument:
    """Decode a DID document from JSON bytes or builtins; unknown fields are ignored."""
    try:
        if isinstance(data, bytes | bytearray | memoryview):
            return _doc_decoder.decode(data)
        return msgspec.convert(data, DidDocument)
    except (msgspec.ValidationError, msgspec.DecodeError) as exc:
        raise DidError(f"not a usable DID document: {exc}", rule="did-document") from None


def keys_from_document(
    document: DidDocument, purpose: str = "assertionMethod"
) -> dict[str, KeyEntry]:
    """The Ed25519 Multikey keys a DID document authorizes for `purpose`, by full key id.

    Methods of other types, of other controllers, or not referenced under `purpose` are skipped;
    a Multikey whose key or times cannot be read raises (a broken document should be seen).
    """
    if purpose == "assertionMethod":
        refs = document.assertion_method
    elif purpose == "authentication":
        refs = document.authentication
    else:
        raise DidError(f"unsupported verification relationship {purpose!r}", rule="purpose")
    methods = list(document.verification_method)
    allowed: set[str] = set()
    for ref in refs:
        if isinstance(ref, str):
            allowed.add(_absolute(document.id, ref))
        else:
            methods.append(ref)
            allowed.add(_absolute(document.id, ref.id))
    found: dict[str, KeyEntry] = {}
    for method in methods:
        key_id = _absolute(document.id, method.id)
        if key_id not in allowed or method.type != "Multikey":
            continue
        if method.controller != document.id or method.public_key_multibase is None:
            continue
        did, fragment = split_key_id(key_id)
        if did != document.id:
            continue
        try:
            found[key_id] = KeyEntry(
                fragment=fragment,
                public_key=public_key_from_multibase(method.public_key_multibase),
                created=_EARLIEST if method.created is None else parse_timestamp(method.created),
                retired=_optional_time(method.retired),
                revoked=_optional_time(method.revoked),
            )
        except (KeyFormatError, ProtocolError) as exc:
            raise KeyFormatError(
                f"key {key_id} in the DID document of {document.id} is unusable: {exc.message}",
                key=key_id,
            ) from exc
    return found


def key_resolver(keys: Mapping[str, KeyEntry]) -> Callable[[str], KeyEntry]:
    """A synchronous `resolve_key` over keys already held (for `proofs.verify_record`)."""

    def resolve(key_id: str) -> KeyEntry:
        try:
            return keys[key_id]
        except KeyError:
            raise UnknownKey(
                f"the key {key_id} is not listed in its node's DID document", key=key_id
            ) from None

    return resolve


def _absolute(did: str, ref: str) -> str:
    # DID Core section 3.2.2: a relative DID URL like "#key-1" is resolved against the document id.
    return did + ref if ref.startswith("#") else ref


def _optional_time(text: str | None) -> datetime | None:
    return None if text is None else parse_timestamp(text)
