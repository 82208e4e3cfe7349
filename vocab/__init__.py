"""citynode's shared vocabulary: JSON-LD contexts, ontology, SHACL shapes and SKOS taxonomies.

Data files plus a thin, cached loader. This package imports neither `protocol` nor `citynode`
(docs/DESIGN.md: data walks down to `vocab`), and nothing here touches the network: every context
and taxonomy ships in the package.

Fast (no rdflib; safe on the event loop): `context_document`, `inline_contexts`, `context_terms`,
`undefined_terms`, `concepts`, `label`, `indicators`, `currencies`, `sdg_goal`,
`terms_by_label`, `fold`.
Slow (rdflib / pyshacl; run in a thread): `ontology_graph`, `shapes_graph`, `taxonomy_graph`,
`record_graph`, `record_dataset`, `validate_graph`, `validate_record`, `terms` (the
ontology as structured data).
"""

from __future__ import annotations

from vocab.contexts import (
    BUNDLED_CONTEXTS,
    CONTEXT_URL,
    DATA_INTEGRITY_CONTEXT_URL,
    context_document,
    context_terms,
    inline_contexts,
    term_for_iri,
    undefined_terms,
)
from vocab.errors import UnknownConcept, UnknownContext, VocabError
from vocab.graphs import (
    canonical_double,
    ontology_graph,
    record_dataset,
    record_graph,
    shapes_graph,
    taxonomy_graph,
)
from vocab.schemes import SCHEMES, currencies, indicators
from vocab.taxonomy import (
    EU_THEME_SCHEME,
    INDICATOR_SCHEME,
    SDG_SCHEME,
    STATUS_SCHEME,
    THEME_SCHEME,
    Concept,
    concept,
    concepts,
    fold,
    in_scheme,
    label,
    sdg_goal,
    terms_by_label,
)
from vocab.validation import Violation, validate_graph, validate_record

VOCAB_NS = "https://w3id.org/citynode/vocab#"
SHAPES_VERSION = "https://w3id.org/citynode/shapes/v1"

__all__ = [
    "BUNDLED_CONTEXTS",
    "CONTEXT_URL",
    "DATA_INTEGRITY_CONTEXT_URL",
    "EU_THEME_SCHEME",
    "INDICATOR_SCHEME",
    "SCHEMES",
    "SDG_SCHEME",
    "SHAPES_VERSION",
    "STATUS_SCHEME",
    "THEME_SCHEME",
    "VOCAB_NS",
    "Concept",
    "UnknownConcept",
    "UnknownContext",
    "Violation",
    "VocabError",
    "canonical_double",
    "concept",
    "concepts",
    "context_document",
    "context_terms",
    "currencies",
    "fold",
    "in_scheme",
    "indicators",
    "inline_contexts",
    "label",
    "ontology_graph",
    "record_dataset",
    "record_graph",
    "sdg_goal",
    "shapes_graph",
    "taxonomy_graph",
    "term_for_iri",
    "terms_by_label",
    "undefined_terms",
    "validate_graph",
    "validate_record",
]
