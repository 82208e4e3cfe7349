"""The vocabulary's RDF files as cached rdflib Graphs, and records as Graphs.

rdflib is imported inside the loaders, not at module top: it costs ~0.1 s to import and ~0.5 s to
parse the taxonomies, and the fast paths (contexts, labels, search terms) never need it.
"""

from __future__ import annotations

import json
import threading
import warnings
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from vocab.contexts import inline_contexts

if TYPE_CHECKING:
    from rdflib import Dataset, Graph

#: What rdflib 7's JSON-LD parser warns about itself (a regex for `warnings.filterwarnings`).
RDFLIB_JSONLD_WARNING: Final = r"(ConjunctiveGraph|Dataset\.default_context) is deprecated"

_WARNINGS_LOCK: Final = threading.Lock()
_DIR: Final = Path(__file__).parent
ONTOLOGY_FILE: Final = _DIR / "ontology.ttl"
SHAPES_FILE: Final = _DIR / "shapes.ttl"
TAXONOMY_DIR: Final = _DIR / "taxonomies"
#: Order matters only for readability of the merged graph; the overlays add labels to UN IRIs.
TAXONOMY_FILES: Final = tuple(
    TAXONOMY_DIR / name
    for name in (
        "un-sdg-goals-targets.ttl",
        "sdg-pt.ttl",
        "sdg-short-names.ttl",
        "eu-data-theme-skos.ttl",
        "urban-themes.ttl",
        "status.ttl",
        "practice-schemes.ttl",
        "indicators.ttl",
    )
)


def _parse(*paths: Path) -> Graph:
    from rdflib import Graph

    graph = Graph()
    for path in paths:
        graph.parse(path, format="turtle")
    return graph


@cache
def ontology_graph() -> Graph:
    """The citynode vocabulary (`ontology.ttl`). Shared and cached: do not modify it."""
    return _parse(ONTOLOGY_FILE)


@cache
def shapes_graph() -> Graph:
    """The SHACL shapes (`shapes.ttl`). Shared and cached: do not modify it."""
    return _parse(SHAPES_FILE)


@cache
def taxonomy_graph() -> Graph:
    """All bundled taxonomies merged in one Graph. Shared and cached: do not modify it."""
    return _parse(*TAXONOMY_FILES)


def keep_lexical_forms() -> None:
    """Literals keep the lexical form they were written with (rdflib's default rewrites
    "2024-05-01T10:00:00Z" as "...+00:00"): the RDF of a record says what its signed JSON says.
    Set once for the process; nothing in the node relies on rdflib's normalisation."""
    import rdflib

    rdflib.NORMALIZE_LITERALS = False


def canonical_double(value: float) -> str:
    """The lexical form JSON-LD 1.1 gives a JSON number that is not an integer (toRdf,
    section 8.6: the canonical xsd:double, `2.4` becomes "2.4E0", `1500.5` "1.5005E3"), with
    the shortest digits that read back as the same double (XSD 1.1's canonical mapping), so
    no figure loses a digit. The one number form of every RDF the node writes."""
    if value == 0:
        return "0.0E0"
    sign, digits, exponent = Decimal(repr(value)).as_tuple()
    assert isinstance(exponent, int)
    text = "".join(map(str, digits)).rstrip("0") or "0"
    power = len(digits) - 1 + exponent
    mantissa = text[0] + "." + (text[1:] or "0")
    return f"{'-' if sign else ''}{mantissa}E{power}"


def _with_json_ld_doubles(graph: Graph) -> Graph:
    """Where rdflib's JSON-LD reading differs from JSON-LD 1.1 toRdf (section 8.6), follow the
    spec: a JSON float is "2.4E0"^^xsd:double (rdflib: "2.4"), and a JSON boolean under a term
    coerced to `@vocab` stays an xsd:boolean (type coercion applies to strings only; rdflib
    gives `illustrative: true` as the plain string "true")."""
    from rdflib import Literal, URIRef
    from rdflib.namespace import XSD

    coerced = (URIRef("@vocab"), URIRef("@id"), URIRef(""), None)
    marks = URIRef("https://w3id.org/citynode/vocab#illustrative")
    changed = []
    for s, p, o in graph:
        if not isinstance(o, Literal):
            continue
        if o.datatype == XSD.double and "E" not in str(o):
            changed.append((s, p, o, Literal(canonical_double(float(o)), datatype=XSD.double)))
        elif p == marks and o.datatype in coerced and str(o) in ("true", "false"):
            changed.append((s, p, o, Literal(str(o), datatype=XSD.boolean)))
    for s, p, o, new in changed:
        graph.remove((s, p, o))
        graph.add((s, p, new))
    return graph


def _parse_json_ld(document: dict[str, Any], into: Any) -> Any:
    keep_lexical_forms()
    data = json.dumps(inline_contexts(document))
    # `catch_warnings` swaps the process-wide filter list and is not thread-safe: two threads
    # parsing at once (concurrent publishes run the shapes in worker threads) could restore
    # each other's list mid-parse and let the warning through. The parse is pure Python under
    # the GIL anyway, so serialising it costs nothing.
    with _WARNINGS_LOCK, warnings.catch_warnings():
        # rdflib 7.x's own JSON-LD parser builds a ConjunctiveGraph internally and warns that the
        # class is deprecated: nothing the caller can act on (and an error under pytest -W error).
        warnings.filterwarnings("ignore", RDFLIB_JSONLD_WARNING, DeprecationWarning)
        return into.parse(data=data, format="json-ld")


def record_graph(document: dict[str, Any]) -> Graph:
    """A JSON-LD record as an rdflib Graph, with the bundled contexts inlined (no network).

    Note: rdflib puts the proof's triples (an `@graph` container) in the same default graph;
    the shapes ignore them. `record_dataset` keeps the proof in its own named graph.
    """
    from rdflib import Graph

    graph: Graph = _parse_json_ld(document, Graph())
    return _with_json_ld_doubles(graph)


def record_dataset(document: dict[str, Any]) -> Dataset:
    """A JSON-LD record as an rdflib Dataset: the record in the default graph and its proof in
    the named graph JSON-LD puts it in (the Data Integrity context's `proof` is `@graph`)."""
    from rdflib import Dataset

    dataset: Dataset = _parse_json_ld(document, Dataset())
    for graph in dataset.graphs():
        _with_json_ld_doubles(graph)
    return dataset
