"""The vocabulary's RDF files as cached rdflib Graphs, and records as Graphs.

rdflib is imported inside the loaders, not at module top: it costs ~0.1 s to import and ~0.5 s to
parse the taxonomies, and the fast paths (contexts, labels, search terms) never need it.
"""

from __future__ import annotations

import json
import threading
import warnings
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from vocab.contexts import inline_contexts

if TYPE_CHECKING:
    from rdflib import Graph

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


def record_graph(document: dict[str, Any]) -> Graph:
    """A JSON-LD record as an rdflib Graph, with the bundled contexts inlined (no network).

    Note: rdflib puts the proof's triples (an `@graph` container) in the same default graph;
    the shapes ignore them.
    """
    from rdflib import Graph

    data = json.dumps(inline_contexts(document))
    # `catch_warnings` swaps the process-wide filter list and is not thread-safe: two threads
    # parsing at once (concurrent publishes run the shapes in worker threads) could restore
    # each other's list mid-parse and let the warning through. The parse is pure Python under
    # the GIL anyway, so serialising it costs nothing.
    with _WARNINGS_LOCK, warnings.catch_warnings():
        # rdflib 7.x's own JSON-LD parser builds a ConjunctiveGraph internally and warns that the
        # class is deprecated: nothing the caller can act on (and an error under pytest -W error).
        warnings.filterwarnings("ignore", RDFLIB_JSONLD_WARNING, DeprecationWarning)
        return Graph().parse(data=data, format="json-ld")
