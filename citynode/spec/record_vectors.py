"""The record vectors of docs/vectors/records.json: signed records and tombstones, each with the
result verifying its proof must give and whether a node may publish it (docs/protocol.md 3 and 4).

The expected result is stated by what was done to the document ("a field changed after
signing" -> `signature_mismatch`), never by running a verifier.
"""

from __future__ import annotations

import copy
import hashlib
from typing import Any, Final

from citynode.spec.vector_identities import ENVIGADO, LISBOA, MEDELLIN, Identity
from protocol import proofs
from protocol.jcs import canonicalize
from protocol.records import RECORD_CONTEXT

__all__ = ["record_vectors"]


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


def _signed_practice(who: Identity, slug: str, fragment: str, when: str) -> dict[str, Any]:
    """A practice modified and signed at the same time."""
    return _sign(_practice(who, slug, when), who, fragment, when)


_REMOVE: Final = object()


def _altered(document: dict[str, Any], path: tuple[str | int, ...], value: Any) -> dict[str, Any]:
    """A copy of `document` with the value at `path` replaced (removed, for `_REMOVE`)."""
    changed = copy.deepcopy(document)
    *parents, last = path
    target: Any = changed
    for key in parents:
        target = target[key]
    if value is _REMOVE:
        del target[last]
    else:
        target[last] = value
    return changed


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
    project = _signed_practice(m, "wifi-parques", *now_key)
    old = _signed_practice(m, "wifi-parques-2024", "key-1", "2024-06-01T08:00:00Z")
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
    envigado = _signed_practice(ENVIGADO, "bibliotecas-digitales", "key-1", "2024-05-01T00:00:00Z")

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

    unknown_term = _vector(
        "unknown-term",
        "Signed with a term the vocabulary does not define: the proof holds, a publishing "
        "node refuses it, a receiver takes it and sets the term aside when it shows the record "
        "(docs/protocol.md 3.7).",
        m,
        _sign(_practice(m, "unknown-term", "2025-03-01T00:00:00Z", colour="green"), m, *now_key),
        "valid",
        model="invalid_record",
    )
    tampered = [
        ("changed-after-signing", "A text changed after signing.",
         project, ("title", "en"), "Free Wi-Fi in every park", "signature_mismatch", "valid"),
        ("added-after-signing", "A known term added after signing.",
         project, ("website",), "https://medellin.example/wifi", "signature_mismatch", "valid"),
        ("removed-after-signing", "A term removed after signing.",
         project, ("sdgs",), _REMOVE, "signature_mismatch", "valid"),
        ("number-changed", "The smallest change to a number after signing.",
         result, ("measurements", 1, "value"), 0.10000000000000002, "signature_mismatch",
         "valid"),
        ("context-appended",
         "A context appended after signing (it would change what the terms mean).",
         project, ("@context",), [*project["@context"], "https://evil.example/context"],
         "signature_mismatch", "invalid_record"),
        ("tombstone-changed", "A tombstone's reason changed after signing.",
         tombstone, ("reason", "en"), "Never existed", "signature_mismatch", "valid"),
    ]  # fmt: skip
    vectors += [
        _vector(name, description, m, _altered(signed, path, value), expect, model=model)
        for name, description, signed, path, value, expect, model in tampered
    ]
    # Keys used outside their lifetime.
    lifetimes = [
        ("revoked-key", "Signed with key-3 after its revocation time.",
         "revoked", "key-3", "2025-07-01T00:00:00Z", "key_revoked"),
        ("revoked-key-before-revocation", "Signed with key-3 before it was revoked.",
         "before-revocation", "key-3", "2025-02-01T00:00:00Z", "valid"),
        ("retired-key-after-retirement", "Signed with key-1 after it was retired.",
         "after-retirement", "key-1", "2025-02-01T00:00:00Z", "key_inactive"),
        ("key-not-yet-created", "Signed with key-2 before the key existed.",
         "too-early", "key-2", "2024-06-01T00:00:00Z", "key_inactive"),
    ]  # fmt: skip
    vectors += [
        _vector(name, description, m, _signed_practice(m, slug, fragment, when), expect)
        for name, description, slug, fragment, when, expect in lifetimes
    ]
    # Signed by Medellín's current key, but the document claims another node.
    claims = [
        ("key-not-publishers", "Signed by Medellín's key but naming Lisboa as publisher.",
         "foreign", {"publisher": LISBOA.did}, "key_not_publishers"),
        ("id-outside-publisher",
         "Signed by its publisher, but the id is under another node's base URL.",
         "x", {"id": "https://lisboa.example/records/hijacked"}, "id_outside_publisher"),
        ("id-lookalike-host", "The id's host only starts like the publisher's.",
         "x", {"id": "https://medellin.example.evil.example/records/x"}, "id_outside_publisher"),
    ]  # fmt: skip
    vectors += [
        _vector(
            name,
            description,
            m,
            _sign(_practice(m, slug, "2025-03-01T00:00:00Z", **claim), m, *now_key),
            expect,
        )
        for name, description, slug, claim, expect in claims
    ]
    unknown_key = _sign(_practice(m, "unknown-key", "2025-03-01T00:00:00Z"), m, *now_key)
    # A proof that is not one this protocol verifies.
    proofs_made_wrong = [
        ("unknown-key", "The proof names a key the DID document does not list.",
         unknown_key, ("proof", "verificationMethod"), m.key_id("key-9"), "unknown_key", "valid"),
        ("other-cryptosuite", "A cryptosuite other than eddsa-jcs-2022.",
         project, ("proof", "cryptosuite"), "eddsa-rdfc-2022", "unknown_cryptosuite", "valid"),
        ("proof-value-not-base58btc", "proofValue not multibase base58btc.",
         project, ("proof", "proofValue"), "u" + project["proof"]["proofValue"][1:],
         "malformed_proof", "valid"),
        ("wrong-purpose", "A proof for authentication, not assertionMethod.",
         project, ("proof", "proofPurpose"), "authentication", "malformed_proof",
         "invalid_record"),
        ("unsigned", "No proof at all.",
         project, ("proof",), _REMOVE, "malformed_proof", "valid"),
    ]  # fmt: skip
    vectors += [
        _vector(name, description, m, _altered(signed, path, value), expect, model=model)
        for name, description, signed, path, value, expect, model in proofs_made_wrong
    ]
    vectors.append(unknown_term)
    for vector in vectors:
        # What a receiver sets aside when it reads a peer's record (docs/protocol.md 3.7); a
        # record whose proof fails is not taken at all.
        if vector["expect"]["proof"] == "valid":
            vector["expect"]["ignored"] = ["colour"] if vector is unknown_term else []
    return vectors
