"""Build `concepts.json` from the Turtle taxonomies: `python -m vocab.snapshot`.

Run it after editing anything in `taxonomies/`; tests/test_vocab.py fails while the snapshot is
stale. Uses rdflib, so the node itself never imports this module on start-up.
"""

from __future__ import annotations

import hashlib
import json
import sys
from typing import Any

from rdflib import Graph, Literal, URIRef
from rdflib.namespace import DC, RDF, SKOS

from vocab.graphs import TAXONOMY_FILES, taxonomy_graph
from vocab.taxonomy import SNAPSHOT, Concept

#: The UN KOS gives two notations per concept ("11.02" and "11.2"); the compact one is what
#: people write and what the IRI ends with.
_SDG_COMPACT = URIRef("http://metadata.un.org/sdg/ontology#SDGCodeCompact")
_CN = "https://w3id.org/citynode/vocab#"


def _notation(graph: Graph, subject: URIRef) -> str | None:
    notations = sorted(
        (o for o in graph.objects(subject, SKOS.notation) if isinstance(o, Literal)),
        key=lambda lit: (lit.datatype != _SDG_COMPACT, str(lit)),
    )
    if notations:
        return str(notations[0])
    # The EU authority list has no skos:notation; its code is dc:identifier ("TECH").
    identifiers = sorted(str(o) for o in graph.objects(subject, DC.identifier))
    return identifiers[0] if identifiers else None


def _by_language(graph: Graph, subject: URIRef, predicate: URIRef) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for obj in graph.objects(subject, predicate):
        if isinstance(obj, Literal) and obj.language:
            found.setdefault(obj.language, []).append(str(obj))
    return {lang: sorted(values) for lang, values in sorted(found.items())}


def _iris(graph: Graph, subject: URIRef, predicate: URIRef) -> tuple[str, ...]:
    return tuple(sorted(str(o) for o in graph.objects(subject, predicate) if isinstance(o, URIRef)))


def _literal(graph: Graph, subject: URIRef, name: str) -> str | None:
    value = graph.value(subject, URIRef(_CN + name))
    return str(value) if isinstance(value, Literal) else None


def _number(graph: Graph, subject: URIRef, name: str) -> int | None:
    value = _literal(graph, subject, name)
    return int(value) if value is not None else None


def build(graph: Graph | None = None) -> list[Concept]:
    """Every skos:Concept of the taxonomy graph, sorted by IRI."""
    graph = taxonomy_graph() if graph is None else graph
    result = []
    subjects = {s for s in graph.subjects(RDF.type, SKOS.Concept) if isinstance(s, URIRef)}
    for subject in sorted(subjects):
        schemes = _iris(graph, subject, SKOS.inScheme)
        pref = _by_language(graph, subject, SKOS.prefLabel)
        result.append(
            Concept(
                iri=str(subject),
                scheme=schemes[0] if schemes else "",
                notation=_notation(graph, subject),
                # SKOS S14: at most one prefLabel per language; take the first if a file breaks it.
                pref_label={lang: values[0] for lang, values in pref.items()},
                alt_labels={
                    lang: tuple(values)
                    for lang, values in _by_language(graph, subject, SKOS.altLabel).items()
                },
                definition={
                    lang: values[0]
                    for lang, values in _by_language(graph, subject, SKOS.definition).items()
                },
                broader=_iris(graph, subject, SKOS.broader),
                close_match=_iris(graph, subject, SKOS.closeMatch),
                related_match=_iris(graph, subject, SKOS.relatedMatch),
                exact_match=_iris(graph, subject, SKOS.exactMatch),
                unit=_literal(graph, subject, "canonicalUnit"),
                per_capita_per=_number(graph, subject, "perCapitaPer"),
                sdg_indicator=_literal(graph, subject, "sdgIndicator"),
            )
        )
    return result


def source_digests() -> dict[str, str]:
    """SHA-256 of each taxonomy file, recorded in the snapshot to show what it was built from."""
    return {path.name: hashlib.sha256(path.read_bytes()).hexdigest() for path in TAXONOMY_FILES}


def snapshot_document() -> dict[str, Any]:
    return {
        "generatedBy": "python -m vocab.snapshot",
        "sources": source_digests(),
        "concepts": [item.to_json() for item in build()],
    }


def main() -> int:
    text = json.dumps(snapshot_document(), ensure_ascii=False, indent=1, sort_keys=True)
    SNAPSHOT.write_text(text + "\n", encoding="utf-8")
    print(f"wrote {SNAPSHOT}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
