"""The test vectors of docs/vectors/: signed records, tombstones and signed requests, each with the
verification result it must have (docs/protocol.md section 12).

Everything here is deterministic: the keys come from fixed seeds, the times are fixed and
Ed25519 signatures are deterministic (RFC 8032), so `vector_files()` gives the same bytes on
every run and the committed files can be compared with it.

The expected result of each vector is stated where the vector is made (by what was done to it:
"a field changed after signing" -> `signature_mismatch`), never by running a verifier, so the
test that checks the vectors against `protocol/` can fail.
"""

from __future__ import annotations

import base64
import copy
import hashlib
import json
from datetime import UTC, datetime
from typing import Any, Final

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from protocol import proofs
from protocol.did import KeyEntry, build_did_document, did_from_base_url, format_timestamp
from protocol.digest import content_digest
from protocol.httpsig.profile import ALG, TAG
from protocol.httpsig.signature_base import signature_base
from protocol.httpsig.signing import sign_components, sign_request
from protocol.jcs import canonicalize
from protocol.messages import (
    DigestRequest,
    InboxNotice,
    encode_message,
    origin_digest,
)
from protocol.multikey import public_key_to_multibase, raw_seed
from protocol.records import RECORD_CONTEXT
from protocol.structured_fields import InnerList, Item, parse_dictionary

#: The time the request vectors are checked at (2026-01-01T00:00:00Z), in seconds.
NOW: Final = 1767225600
MAX_AGE: Final = 300
CLOCK_SKEW: Final = 30

BASE_URL: Final = "https://medellin.example"
DID: Final = did_from_base_url(BASE_URL)
#: A node under a path: did:web turns each segment into a colon-separated part.
PATH_BASE_URL: Final = "https://cities.example/co/envigado"
PATH_DID: Final = did_from_base_url(PATH_BASE_URL)
OTHER_BASE_URL: Final = "https://lisboa.example"
OTHER_DID: Final = did_from_base_url(OTHER_BASE_URL)


def _time(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)


def vector_key(name: str) -> Ed25519PrivateKey:
    """A key from a published seed: for test vectors only, never for a real node."""
    seed = hashlib.sha256(f"citynode test vector key {name}".encode()).digest()
    return Ed25519PrivateKey.from_private_bytes(seed)


class Identity:
    """A test node: its DID, its keys with their lifecycle, its DID document."""

    def __init__(self, base_url: str, keys: list[tuple[str, str, str | None, str | None]]) -> None:
        self.base_url = base_url
        self.did = did_from_base_url(base_url)
        self.private: dict[str, Ed25519PrivateKey] = {}
        entries = []
        for fragment, created, retired, revoked in keys:
            key = vector_key(f"{self.did}#{fragment}")
            self.private[fragment] = key
            entries.append(
                KeyEntry(
                    fragment=fragment,
                    public_key=key.public_key(),
                    created=_time(created),
                    retired=None if retired is None else _time(retired),
                    revoked=None if revoked is None else _time(revoked),
                )
            )
        self.entries = entries
        self.did_document = build_did_document(
            self.did, entries, f"{base_url}/.well-known/citynode"
        )

    def key_id(self, fragment: str) -> str:
        return f"{self.did}#{fragment}"

    def describe(self) -> dict[str, Any]:
        return {
            "did": self.did,
            "baseUrl": self.base_url,
            "didDocument": self.did_document,
            "privateKeys": {
                self.key_id(fragment): {
                    "seedHex": raw_seed(key).hex(),
                    "publicKeyMultibase": public_key_to_multibase(key.public_key()),
                }
                for fragment, key in self.private.items()
            },
        }


# Medellín's test node: key-1 signed until 2025, key-2 signs now, key-3 was revoked (compromised)
# in June 2025. Only key-2 is listed under `authentication` (active keys sign requests).
MEDELLIN: Final = Identity(
    BASE_URL,
    [
        ("key-1", "2024-01-01T00:00:00Z", "2025-01-01T00:00:00Z", None),
        ("key-2", "2025-01-01T00:00:00Z", None, None),
        ("key-3", "2025-01-01T00:00:00Z", None, "2025-06-01T00:00:00Z"),
    ],
)
ENVIGADO: Final = Identity(PATH_BASE_URL, [("key-1", "2024-01-01T00:00:00Z", None, None)])
LISBOA: Final = Identity(OTHER_BASE_URL, [("key-1", "2024-01-01T00:00:00Z", None, None)])
IDENTITIES: Final = (MEDELLIN, ENVIGADO, LISBOA)


# --- records ---------------------------------------------------------------------------------


def _practice(who: Identity, slug: str, modified: str, **extra: Any) -> dict[str, Any]:
    record: dict[str, Any] = {
        "@context": list(RECORD_CONTEXT),
        "type": "Project",
        "id": f"{who.base_url}/records/{slug}",
        "version": 1,
        "issued": "2024-03-01T12:00:00Z",
        "modified": modified,
        "publisher": who.did,
        "title": {"es": "Wi-Fi gratis en parques", "en": "Free Wi-Fi in parks"},
        "summary": {
            "es": "Puntos de acceso público a internet en parques y plazas.",
            "en": "Public internet access points in parks and squares.",
        },
        "status": "https://w3id.org/citynode/status#ongoing",
        "themes": ["https://w3id.org/citynode/theme#connectivity"],
        "sdgs": ["http://metadata.un.org/sdg/9.c"],
        "illustrative": True,
    }
    record.update(extra)
    return record


def _sign(record: dict[str, Any], who: Identity, fragment: str, created: str) -> dict[str, Any]:
    return proofs.sign(record, who.private[fragment], who.key_id(fragment), created)


def _intermediate(signed: dict[str, Any]) -> dict[str, str]:
    """The values eddsa-jcs-2022 computes on the way (docs/protocol.md 4.2), for implementers."""
    proof = {k: v for k, v in signed["proof"].items() if k != "proofValue"}
    document = {k: v for k, v in signed.items() if k != "proof"}
    return {
        "canonicalProofConfig": canonicalize(proof).decode(),
        "canonicalDocument": canonicalize(document).decode(),
        "proofConfigHashHex": hashlib.sha256(canonicalize(proof)).hexdigest(),
        "documentHashHex": hashlib.sha256(canonicalize(document)).hexdigest(),
    }


def _vector(
    name: str,
    description: str,
    who: Identity,
    document: dict[str, Any],
    proof: str,
    model: str = "valid",
    intermediate: bool = False,
) -> dict[str, Any]:
    vector: dict[str, Any] = {
        "name": name,
        "description": description,
        "didDocument": who.did,
        "document": document,
        "expect": {"proof": proof, "model": model},
    }
    if intermediate:
        vector["intermediate"] = _intermediate(document)
    return vector


def record_vectors() -> list[dict[str, Any]]:
    m = MEDELLIN
    now_key = ("key-2", "2025-03-01T09:30:00Z")
    project = _sign(_practice(m, "wifi-parques", "2025-03-01T09:30:00Z"), m, *now_key)
    old = _sign(
        _practice(m, "wifi-parques-2024", "2024-06-01T08:00:00Z"),
        m,
        "key-1",
        "2024-06-01T08:00:00Z",
    )
    result = _sign(
        {
            "@context": list(RECORD_CONTEXT),
            "type": "Result",
            "id": f"{m.base_url}/records/wifi-parques-result-2024",
            "version": 3,
            "previousVersion": f"{m.base_url}/records/wifi-parques-result-2024/versions/2",
            "issued": "2024-03-01T12:00:00Z",
            "modified": "2025-03-02T10:00:00Z",
            "publisher": m.did,
            "title": {"en": "Connections in 2024"},
            "status": "https://w3id.org/citynode/status#completed",
            "resultOf": project["id"],
            "progress": 100,
            # Numbers JCS writes in its own way (RFC 8785 section 3.2.2.3): an integral
            # float, a small fraction, a large exponent.
            "measurements": [
                {
                    "type": "Measurement",
                    "indicator": {"en": "Monthly connections"},
                    "value": 1250000.0,
                    "unit": "connections",
                    "period": "2024",
                },
                {
                    "type": "Measurement",
                    "indicator": {"en": "Share of parks covered"},
                    "value": 0.1,
                    "unit": "%",
                    "period": "2024-12",
                    "role": "target",
                },
                {
                    "type": "Measurement",
                    "indicator": {"en": "Bytes served"},
                    "value": 1e21,
                    "unit": "By",
                    "period": "2024-01/2024-12",
                },
            ],
            "illustrative": True,
        },
        m,
        *now_key,
    )
    tombstone = _sign(
        {
            "@context": list(RECORD_CONTEXT),
            "type": "Tombstone",
            "id": project["id"],
            "version": 2,
            "previousVersion": f"{project['id']}/versions/1",
            "issued": project["issued"],
            "modified": "2025-04-01T00:00:00Z",
            "publisher": m.did,
            "formerType": "Project",
            "reason": {"en": "Published twice by mistake", "es": "Publicado dos veces por error"},
        },
        m,
        "key-2",
        "2025-04-01T00:00:00Z",
    )
    envigado = _sign(
        _practice(ENVIGADO, "bibliotecas-digitales", "2024-05-01T00:00:00Z"),
        ENVIGADO,
        "key-1",
        "2024-05-01T00:00:00Z",
    )

    rich = _sign(
        _practice(
            m, "escuelas-digitales", "2025-03-03T08:00:00Z",
            type="Programme",
            title={"es": "Escuelas digitales", "fr": "Écoles numériques",
                   "pt-BR": "Escolas digitais"},
            startDate="2021",
            endDate="2024-06",
            stage="https://w3id.org/citynode/stage#scaled",
            governmentLevel="https://w3id.org/citynode/government-level#local",
            scale="https://w3id.org/citynode/scale#city",
            costs=[{"type": "MonetaryAmount", "kind": "https://w3id.org/citynode/cost-kind#budget",
                    "value": 1500000000, "currency": "COP", "period": "2021/2024"}],
            funders=[{"type": "Organisation", "name": {"es": "Alcaldía de Medellín"},
                      "kind": "https://w3id.org/citynode/organisation-kind#public",
                      "sameAs": "http://www.wikidata.org/entity/Q48278"}],
            beneficiaries=[{"type": "Audience", "who": {"en": "Public school pupils"},
                            "count": 12000, "period": "2024"}],
            areas=[{"type": "Place", "name": {"es": "Comuna 13"}, "latitude": 6.2518,
                    "longitude": -75.6036}],
            adaptedFrom=[{"type": "Adaptation", "practice": "https://lisboa.example/records/x",
                          "changes": {"en": "Run by schools instead of libraries."}}],
            editorial=["summary"],
            illustrative=["startDate"],
        ),
        m, "key-2", "2025-03-03T08:00:00Z",
    )  # fmt: skip
    measured = _sign(
        {
            "@context": list(RECORD_CONTEXT),
            "type": "Result",
            "id": f"{m.base_url}/records/escuelas-digitales-2024",
            "version": 1,
            "issued": "2025-03-03T08:00:00Z",
            "modified": "2025-03-03T08:00:00Z",
            "publisher": m.did,
            "title": {"en": "Pupils trained in 2024"},
            "status": "https://w3id.org/citynode/status#completed",
            "resultOf": rich["id"],
            "measurements": [
                {
                    "type": "Measurement",
                    "measures": "https://w3id.org/citynode/indicator#people-trained",
                    "value": 12000,
                    "unitCode": "{person}",
                    "period": "2024",
                    "role": "observed",
                }
            ],
            "license": "https://creativecommons.org/licenses/by/4.0/",
            "conformsTo": "https://w3id.org/citynode/shapes/v1",
            "illustrative": True,
        },
        m,
        "key-2",
        "2025-03-03T08:00:00Z",
    )
    vectors = [
        _vector(
            "project",
            "A practice signed with the current key.",
            m,
            project,
            "valid",
            intermediate=True,
        ),
        _vector(
            "vocabulary-1-1",
            "A programme using vocabulary 1.1 terms: partial dates, costs, funders, "
            "beneficiaries, areas, adaptedFrom, marks, BCP 47 tags.",
            m,
            rich,
            "valid",
        ),
        _vector(
            "indicator",
            "A result measuring a scheme indicator in a UCUM unit.",
            m,
            measured,
            "valid",
        ),
        _vector(
            "result-numbers",
            "A result whose numbers JCS serializes specially "
            "(1250000.0 as 1250000, 0.1, 1e21 as 1e+21).",
            m,
            result,
            "valid",
            intermediate=True,
        ),
        _vector(
            "tombstone",
            "A signed tombstone withdrawing the project (version 2).",
            m,
            tombstone,
            "valid",
            intermediate=True,
        ),
        _vector(
            "retired-key-before-retirement",
            "Signed with key-1 while it was in use: records stay valid after a routine rotation.",
            m,
            old,
            "valid",
        ),
        _vector(
            "path-did",
            "A node under a path (did:web:cities.example:co:envigado).",
            ENVIGADO,
            envigado,
            "valid",
        ),
    ]

    changed = copy.deepcopy(project)
    changed["title"]["en"] = "Free Wi-Fi in every park"
    vectors.append(
        _vector(
            "changed-after-signing",
            "A text changed after signing.",
            m,
            changed,
            "signature_mismatch",
        )
    )
    added = copy.deepcopy(project)
    added["website"] = "https://medellin.example/wifi"
    vectors.append(
        _vector(
            "added-after-signing",
            "A known term added after signing.",
            m,
            added,
            "signature_mismatch",
        )
    )
    removed = copy.deepcopy(project)
    del removed["sdgs"]
    vectors.append(
        _vector(
            "removed-after-signing",
            "A term removed after signing.",
            m,
            removed,
            "signature_mismatch",
        )
    )
    number = copy.deepcopy(result)
    number["measurements"][1]["value"] = 0.10000000000000002
    vectors.append(
        _vector(
            "number-changed",
            "The smallest change to a number after signing.",
            m,
            number,
            "signature_mismatch",
        )
    )
    context = copy.deepcopy(project)
    context["@context"] = [*context["@context"], "https://evil.example/context"]
    vectors.append(
        _vector(
            "context-appended",
            "A context appended after signing (it would change what the terms mean).",
            m,
            context,
            "signature_mismatch",
            model="invalid_record",
        )
    )
    dead = copy.deepcopy(tombstone)
    dead["reason"]["en"] = "Never existed"
    vectors.append(
        _vector(
            "tombstone-changed",
            "A tombstone's reason changed after signing.",
            m,
            dead,
            "signature_mismatch",
        )
    )
    vectors.append(
        _vector(
            "revoked-key",
            "Signed with key-3 after its revocation time.",
            m,
            _sign(
                _practice(m, "revoked", "2025-07-01T00:00:00Z"), m, "key-3", "2025-07-01T00:00:00Z"
            ),
            "key_revoked",
        )
    )
    vectors.append(
        _vector(
            "revoked-key-before-revocation",
            "Signed with key-3 before it was revoked.",
            m,
            _sign(
                _practice(m, "before-revocation", "2025-02-01T00:00:00Z"),
                m,
                "key-3",
                "2025-02-01T00:00:00Z",
            ),
            "valid",
        )
    )
    vectors.append(
        _vector(
            "retired-key-after-retirement",
            "Signed with key-1 after it was retired.",
            m,
            _sign(
                _practice(m, "after-retirement", "2025-02-01T00:00:00Z"),
                m,
                "key-1",
                "2025-02-01T00:00:00Z",
            ),
            "key_inactive",
        )
    )
    vectors.append(
        _vector(
            "key-not-yet-created",
            "Signed with key-2 before the key existed.",
            m,
            _sign(
                _practice(m, "too-early", "2024-06-01T00:00:00Z"),
                m,
                "key-2",
                "2024-06-01T00:00:00Z",
            ),
            "key_inactive",
        )
    )
    foreign = _practice(m, "foreign", "2025-03-01T00:00:00Z", publisher=LISBOA.did)
    vectors.append(
        _vector(
            "key-not-publishers",
            "Signed by Medellín's key but naming Lisboa as publisher.",
            m,
            _sign(foreign, m, *now_key),
            "key_not_publishers",
        )
    )
    outside = _practice(m, "x", "2025-03-01T00:00:00Z")
    outside["id"] = "https://lisboa.example/records/hijacked"
    vectors.append(
        _vector(
            "id-outside-publisher",
            "Signed by its publisher, but the id is under another node's base URL.",
            m,
            _sign(outside, m, *now_key),
            "id_outside_publisher",
        )
    )
    lookalike = _practice(m, "x", "2025-03-01T00:00:00Z")
    lookalike["id"] = "https://medellin.example.evil.example/records/x"
    vectors.append(
        _vector(
            "id-lookalike-host",
            "The id's host only starts like the publisher's.",
            m,
            _sign(lookalike, m, *now_key),
            "id_outside_publisher",
        )
    )
    unknown = _sign(_practice(m, "unknown-key", "2025-03-01T00:00:00Z"), m, *now_key)
    unknown["proof"]["verificationMethod"] = m.key_id("key-9")
    vectors.append(
        _vector(
            "unknown-key",
            "The proof names a key the DID document does not list.",
            m,
            unknown,
            "unknown_key",
        )
    )
    suite = copy.deepcopy(project)
    suite["proof"]["cryptosuite"] = "eddsa-rdfc-2022"
    vectors.append(
        _vector(
            "other-cryptosuite",
            "A cryptosuite other than eddsa-jcs-2022.",
            m,
            suite,
            "unknown_cryptosuite",
        )
    )
    base64 = copy.deepcopy(project)
    base64["proof"]["proofValue"] = "u" + base64["proof"]["proofValue"][1:]
    vectors.append(
        _vector(
            "proof-value-not-base58btc",
            "proofValue not multibase base58btc.",
            m,
            base64,
            "malformed_proof",
        )
    )
    purpose = copy.deepcopy(project)
    purpose["proof"]["proofPurpose"] = "authentication"
    vectors.append(
        _vector(
            "wrong-purpose",
            "A proof for authentication, not assertionMethod.",
            m,
            purpose,
            "malformed_proof",
            model="invalid_record",
        )
    )
    unsigned = {k: v for k, v in project.items() if k != "proof"}
    vectors.append(_vector("unsigned", "No proof at all.", m, unsigned, "malformed_proof"))
    term = _practice(m, "unknown-term", "2025-03-01T00:00:00Z", colour="green")
    unknown = _vector(
        "unknown-term",
        "Signed with a term the vocabulary does not define: the proof holds, a publishing "
        "node refuses it, a receiver takes it and sets the term aside when it shows the record "
        "(docs/protocol.md 3.7).",
        m,
        _sign(term, m, *now_key),
        "valid",
        model="invalid_record",
    )
    vectors.append(unknown)
    for vector in vectors:
        # What a receiver sets aside when it reads a peer's record (docs/protocol.md 3.7); a
        # record whose proof fails is not taken at all.
        if vector["expect"]["proof"] == "valid":
            vector["expect"]["ignored"] = ["colour"] if vector is unknown else []
    return vectors


# --- requests --------------------------------------------------------------------------------


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


def _base_of(request: dict[str, Any]) -> str:
    headers = {name: value for name, value in request["headers"]}
    inputs = parse_dictionary(headers["Signature-Input"])
    signature_input = inputs["sig1"]
    assert isinstance(signature_input, InnerList)
    return signature_base(request["method"], request["url"], headers, signature_input).decode()


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
    vectors = [
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
    ]
    vectors.append(
        _request_vector(
            "untagged",
            "A signature without the tag parameter (signers before it was specified) "
            "is still verified.",
            _request("GET", feed, None, nonce="dW50YWdnZWQ", tag=None),
            "valid",
        )
    )
    other_app = sign_components(
        "GET", feed, {}, MEDELLIN.private["key-2"], ["@method", "@target-uri"],
        {"created": NOW - 10, "expires": NOW + 290, "nonce": "b3RoZXI",
         "keyid": MEDELLIN.key_id("key-2"), "alg": ALG, "tag": "other-app"},
    )  # fmt: skip
    vectors.append(
        _request_vector(
            "other-tag-only",
            "The only signature is tagged for another application.",
            _with(get, headers=[[k, v] for k, v in other_app.items()]),
            "signature_missing",
        )
    )
    vectors.append(
        _request_vector(
            "unsigned",
            "No Signature-Input or Signature.",
            _with(get, headers=[]),
            "signature_missing",
        )
    )
    vectors.append(
        _request_vector(
            "replayed",
            "The nonce was already seen from this signer.",
            get,
            "nonce_replayed",
            seen=[_nonce_of(get)],
        )
    )
    vectors.append(
        _request_vector(
            "expired",
            "Past its expires time (beyond the clock skew).",
            _request("GET", feed, None, created=NOW - 200, expires=NOW - 100),
            "signature_expired",
        )
    )
    vectors.append(
        _request_vector(
            "too-old",
            "Created longer ago than the receiver's maximum age, though not expired.",
            _request("GET", feed, None, created=NOW - 3600, expires=NOW + 600),
            "signature_expired",
        )
    )
    vectors.append(
        _request_vector(
            "from-the-future",
            "Created later than now plus the clock skew.",
            _request("GET", feed, None, created=NOW + 120),
            "signature_not_yet_valid",
        )
    )
    vectors.append(
        _request_vector(
            "within-clock-skew",
            "Created a little after now, within the clock skew.",
            _request("GET", feed, None, created=NOW + 20),
            "valid",
        )
    )
    vectors.append(
        _request_vector(
            "body-changed",
            "The body changed after signing (Content-Digest no longer matches).",
            _with(post, body=post["body"].replace("1.Kg", "1.Kh")),
            "digest_mismatch",
        )
    )
    forged_digest = _with(post, body=post["body"].replace("1.Kg", "1.Kh"))
    forged_digest = _header(
        forged_digest, "Content-Digest", content_digest(forged_digest["body"].encode())
    )
    vectors.append(
        _request_vector(
            "digest-replaced",
            "Body and Content-Digest replaced together: the signature covers the digest.",
            forged_digest,
            "bad_signature",
        )
    )
    vectors.append(
        _request_vector(
            "other-url",
            "Sent to another URL than the one signed (the limit changed).",
            _with(get, url=feed.replace("limit=100", "limit=500")),
            "bad_signature",
        )
    )
    vectors.append(
        _request_vector(
            "other-method",
            "Signed as a GET, sent as a DELETE.",
            _with(get, method="DELETE"),
            "bad_signature",
        )
    )
    no_digest = sign_components(
        "POST", inbox, {}, MEDELLIN.private["key-2"], ["@method", "@target-uri"],
        {"created": NOW - 10, "expires": NOW + 290, "nonce": "bm9kaWdlc3Q",
         "keyid": MEDELLIN.key_id("key-2"), "alg": ALG, "tag": TAG},
    )  # fmt: skip
    vectors.append(
        _request_vector(
            "digest-not-covered",
            "A body, but the signature does not cover content-digest.",
            _with(
                post, headers=[["Content-Type", "application/json"], *map(list, no_digest.items())]
            ),
            "component_not_covered",
        )
    )
    rsa = sign_components(
        "GET", feed, {}, MEDELLIN.private["key-2"], ["@method", "@target-uri"],
        {"created": NOW - 10, "expires": NOW + 290, "nonce": "cnNh",
         "keyid": MEDELLIN.key_id("key-2"), "alg": "rsa-pss-sha512", "tag": TAG},
    )  # fmt: skip
    vectors.append(
        _request_vector(
            "other-algorithm",
            "alg names another algorithm.",
            _with(get, headers=[list(h) for h in rsa.items()]),
            "unsupported_algorithm",
        )
    )
    no_nonce = sign_components(
        "GET", feed, {}, MEDELLIN.private["key-2"], ["@method", "@target-uri"],
        {"created": NOW - 10, "expires": NOW + 290, "keyid": MEDELLIN.key_id("key-2"),
         "alg": ALG, "tag": TAG},
    )  # fmt: skip
    vectors.append(
        _request_vector(
            "no-nonce",
            "No nonce parameter.",
            _with(get, headers=[list(h) for h in no_nonce.items()]),
            "malformed_signature",
        )
    )
    vectors.append(
        _request_vector(
            "retired-key",
            "Signed with key-1, retired: only active keys (authentication) sign requests.",
            _request("GET", feed, None, key="key-1"),
            "unknown_key",
        )
    )
    vectors.append(
        _request_vector(
            "wrong-key",
            "Signed with key-1 but naming key-2 as keyid.",
            _request("GET", feed, None, key="key-1", keyid=MEDELLIN.key_id("key-2")),
            "bad_signature",
        )
    )
    return vectors


def _nonce_of(request: dict[str, Any]) -> str:
    headers = {name: value for name, value in request["headers"]}
    member = parse_dictionary(headers["Signature-Input"])["sig1"]
    assert isinstance(member, InnerList | Item)
    nonce = member.params["nonce"]
    assert isinstance(nonce, str)
    return nonce


# --- small algorithms ------------------------------------------------------------------------


def other_vectors() -> dict[str, Any]:
    pairs = [
        (f"{BASE_URL}/records/wifi-parques", 2),
        (f"{BASE_URL}/records/wifi-parques-result-2024", 3),
        (f"{BASE_URL}/records/école", 1),
        (f"{BASE_URL}/records/Zona", 1),
    ]
    return {
        "didWeb": [
            {"baseUrl": url, "did": did_from_base_url(url)}
            for url in (
                BASE_URL,
                PATH_BASE_URL,
                "https://medellin.example:8443",
                "http://127.0.0.1:8701",
            )
        ],
        "originDigest": [
            {"origin": DID, "pairs": [], "digest": origin_digest([])},
            {"origin": DID, "pairs": [list(p) for p in pairs], "digest": origin_digest(pairs)},
        ],
        "timestamps": [format_timestamp(_time("2025-03-01T09:30:00Z"))],
    }


def _json(value: Any) -> bytes:
    return (json.dumps(value, indent=2, ensure_ascii=False) + "\n").encode()


def vector_files() -> dict[str, bytes]:
    """docs/vectors/ file name -> content."""
    return {
        "identities.json": _json(
            {
                "description": "The test nodes whose keys sign the vectors. The private keys are "
                "published for testing signers: never use them for a node.",
                "identities": [who.describe() for who in IDENTITIES],
            }
        ),
        "records.json": _json(
            {
                "description": "Signed records and tombstones (docs/protocol.md 3 and 4). "
                "`expect.proof`: the result of verifying the proof against the DID document "
                "named by `didDocument` (in identities.json); `expect.model`: whether a node "
                "may publish the document (docs/protocol.md 3); `expect.ignored`: the terms a "
                "receiver reading it as a peer's record sets aside (docs/protocol.md 3.7), for "
                "records whose proof holds.",
                "records": record_vectors(),
            }
        ),
        "requests.json": _json(
            {
                "description": "Signed federation requests (docs/protocol.md 5). Verify each at "
                "`now` with `maxAge` and `clockSkew`, the signer's `authentication` keys, and a "
                "replay cache already holding `seenNonces`; `expect` is `valid` or the error "
                "code. Header values and the body are exact; the body is UTF-8.",
                "requests": request_vectors(),
            }
        ),
        "algorithms.json": _json(
            {
                "description": "did:web names of base URLs (docs/protocol.md 2.1) and reconcile "
                "digests (docs/protocol.md 7.3).",
                **other_vectors(),
            }
        ),
    }
