"""Content negotiation: which representation of a record a client asked for (RFC 9110 12.5.1)."""

from __future__ import annotations

from citynode.errors import NotAcceptable

JSONLD = "application/ld+json"
JSON = "application/json"
TURTLE = "text/turtle"
NTRIPLES = "application/n-triples"
NQUADS = "application/n-quads"
HTML = "text/html"

RECORD_TYPES = (JSONLD, JSON, TURTLE, NTRIPLES, HTML)
FORMAT_PARAM = {
    "jsonld": JSONLD,
    "json": JSON,
    "turtle": TURTLE,
    "ttl": TURTLE,
    "nt": NTRIPLES,
    "ntriples": NTRIPLES,
    "html": HTML,
}


def _parse(accept: str) -> list[tuple[str, float, int]]:
    ranges = []
    for position, part in enumerate(accept.split(",")):
        media, *params = [p.strip() for p in part.split(";")]
        if not media:
            continue
        quality = 1.0
        for param in params:
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                try:
                    quality = max(0.0, min(1.0, float(value)))
                except ValueError:
                    quality = 0.0
        ranges.append((media.lower(), quality, position))
    return ranges


def choose(accept: str | None, offered: tuple[str, ...], format_param: str | None = None) -> str:
    """The offered type the client prefers; the first offered when it states no preference."""
    if format_param:
        wanted = FORMAT_PARAM.get(format_param.lower())
        if wanted is None or wanted not in offered:
            raise NotAcceptable(
                f"format '{format_param}' is not available; use one of "
                + ", ".join(k for k, v in FORMAT_PARAM.items() if v in offered),
                offered=list(offered),
            )
        return wanted
    if not accept:
        return offered[0]
    best: tuple[float, int, int] | None = None
    chosen = None
    for media, quality, _position in _parse(accept):
        if quality <= 0:
            continue
        for rank, candidate in enumerate(offered):
            major = candidate.split("/")[0]
            if media in (candidate, "*/*", f"{major}/*"):
                # More specific ranges win over wildcards at equal quality.
                specificity = 2 if media == candidate else (1 if media != "*/*" else 0)
                key = (quality, specificity, -rank)
                if best is None or key > best:
                    best, chosen = key, candidate
    if chosen is None:
        raise NotAcceptable(
            f"none of the requested types ({accept}) is available; this resource is served as "
            + ", ".join(offered),
            offered=list(offered),
        )
    return chosen
