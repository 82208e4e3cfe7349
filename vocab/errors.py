"""The one error root of the vocab package (STYLE.md 5: one root per package)."""

from __future__ import annotations


class VocabError(Exception):
    """Root of every error raised by `vocab`."""

    code = "vocab_error"


class UnknownContext(VocabError):
    """A JSON-LD context URL that is not bundled: the node never fetches a context."""

    code = "unknown_context"

    def __init__(self, url: str) -> None:
        super().__init__(
            f"JSON-LD context {url!r} is not bundled with citynode; contexts are never fetched"
        )
        self.url = url


class UnknownConcept(VocabError):
    """A concept IRI that none of the bundled taxonomies defines."""

    code = "unknown_concept"

    def __init__(self, iri: str, what: str = "concept") -> None:
        super().__init__(f"{iri!r} is not a known {what} in the bundled taxonomies")
        self.iri = iri
