"""The node's DCAT 3 catalog, as DCAT-AP 3.0.1 asks (mandatory and recommended properties).

What portals harvest (CKAN's DCAT harvester, data.europa.eu): one `dcat:Catalog` for the node;
one `dcat:Dataset` per record type the node publishes (projects, policies, programmes, results),
each with a `dcat:Distribution` per dump format (`/dumps/...?type=...`); one dataset for the
federation's replica (every city's records this node holds, `origin=all`), also served by the
SPARQL endpoint (a `dcat:DataService`) and an Atom feed. Themes are the EU data themes the
records' urban themes map to (`skos:closeMatch` in `vocab/taxonomies/urban-themes.ttl`), beside
the urban themes themselves; temporal coverage is what the records give (practice dates, result
periods); spatial coverage is the cities' Wikidata places.

Controlled vocabularies are the EU Publications Office authority lists DCAT-AP names: file types,
languages, data themes, planned availability; ADMS publisher and licence types.
The tests validate the output against DCAT-AP 3.0.1's SHACL shapes (tests/vectors/dcat-ap/).
"""

from __future__ import annotations

from typing import Final

import msgspec
import pyoxigraph as ox

import vocab
from citynode.config import NodeConfig
from citynode.opendata.dumps import FILES
from citynode.origins import Origin
from citynode.storage.summaries import TypeSummary
from protocol.records import DEFAULT_LICENSE, PRACTICE_TYPES, SHAPES_VERSION

DCAT: Final = "http://www.w3.org/ns/dcat#"
DCT: Final = "http://purl.org/dc/terms/"
FOAF: Final = "http://xmlns.com/foaf/0.1/"
VCARD: Final = "http://www.w3.org/2006/vcard/ns#"
DCATAP: Final = "http://data.europa.eu/r5r/"
XSD: Final = "http://www.w3.org/2001/XMLSchema#"
RDF_TYPE: Final = ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")
EU: Final = "http://publications.europa.eu/resource/authority/"
PREFIXES: Final = {
    "dcat": DCAT,
    "dct": DCT,
    "foaf": FOAF,
    "vcard": VCARD,
    "dcatap": DCATAP,
    "xsd": XSD,
}
#: ISO 639-1 (the node's languages) -> the EU language authority list.
LANGUAGES: Final = {"es": "SPA", "en": "ENG", "pt": "POR"}
#: Dump file -> (EU file type, IANA media type).
FILE_TYPES: Final = {
    "records.jsonld": "JSON_LD",
    "records.ttl": "RDF_TURTLE",
    "records.nq": "RDF_N_QUADS",
    "records.csv": "CSV",
    "results.csv": "CSV",
}
#: Dataset titles per record type (en, es, pt).
TITLES: Final = {
    "Project": ("Projects", "Proyectos", "Projetos"),
    "Policy": ("Policies", "Políticas", "Políticas"),
    "Programme": ("Programmes", "Programas", "Programas"),
    "Result": ("Results and measurements", "Resultados y mediciones", "Resultados e medições"),
}


class CatalogFacts(msgspec.Struct, frozen=True, kw_only=True):
    """What the catalog describes: the node's own records and the replica, per type."""

    own: list[TypeSummary]
    replica: list[TypeSummary]
    origins: dict[str, Origin]
    modified: str


class CatalogCache(msgspec.Struct, kw_only=True):
    """The serialized catalog of one state of the store (web/catalog.py keeps it)."""

    generation: int = -1
    made: float = 0.0
    bodies: dict[str, bytes] = {}


def _n(iri: str) -> ox.NamedNode:
    return ox.NamedNode(iri)


def _text(value: str, lang: str | None = None) -> ox.Literal:
    return ox.Literal(value, language=lang) if lang else ox.Literal(value)


def _datetime(stamp: str) -> ox.Literal:
    return ox.Literal(stamp, datatype=_n(XSD + "dateTime"))


def _date(value: str) -> ox.Literal:
    # Records give years ("2020"), months or days: DCAT-AP accepts each as its own XSD type.
    kind = {4: "gYear", 7: "gYearMonth"}.get(len(value), "date")
    return ox.Literal(value[:10], datatype=_n(XSD + kind))


Subject = ox.NamedNode | ox.BlankNode


class _Graph:
    def __init__(self) -> None:
        self.triples: list[ox.Triple] = []

    def add(
        self, s: ox.NamedNode | ox.BlankNode, p: str, o: ox.NamedNode | ox.BlankNode | ox.Literal
    ) -> None:
        self.triples.append(ox.Triple(s, _n(p) if p != "a" else RDF_TYPE, o))


def eu_themes(themes: tuple[str, ...]) -> list[str]:
    """The EU data themes of the records' themes (EU themes as they are, urban themes mapped)."""
    found: set[str] = set()
    scheme = vocab.EU_THEME_SCHEME + "/"
    for iri in themes:
        if iri.startswith(scheme):
            found.add(iri)
            continue
        concept = vocab.concepts().get(iri)
        if concept is not None:
            found.update(m for m in concept.close_match if m.startswith(scheme))
    return sorted(found) or [scheme + "GOVE"]


def build(config: NodeConfig, did: str, facts: CatalogFacts) -> list[ox.Triple]:
    """The catalog's triples."""
    base = config.base_url
    node = config.node
    g = _Graph()
    catalog = _n(f"{base}/catalog")
    publisher = _n(did)
    contact = _n(f"{base}/catalog#contact")
    languages = [_n(f"{EU}language/{LANGUAGES[lang]}") for lang in node.languages]
    licence = _n(DEFAULT_LICENSE)
    # Spatial coverage: the cities' Wikidata places, and the places the records name.
    own_places = sorted(
        {node.wikidata} if node.wikidata else {p for s in facts.own for p in s.places}
    )
    places = sorted(
        {o.wikidata for o in facts.origins.values() if o.wikidata}
        | {p for s in facts.replica for p in s.places}
    )

    g.add(catalog, "a", _n(DCAT + "Catalog"))
    g.add(catalog, DCT + "title", _text(f"{node.name}: urban practices and results", "en"))
    g.add(catalog, DCT + "title", _text(f"{node.name}: prácticas urbanas y resultados", "es"))
    g.add(
        catalog,
        DCT + "description",
        _text(
            f"The practices (projects, policies, programmes) and results that {node.name} "
            "publishes as signed records, and the records of the peer cities its node "
            "federates with.",
            "en",
        ),
    )
    g.add(catalog, DCT + "publisher", publisher)
    g.add(catalog, FOAF + "homepage", _n(f"{base}/"))
    g.add(catalog, DCT + "license", licence)
    g.add(catalog, DCT + "modified", _datetime(facts.modified))
    issued = min((s.first_issued for s in facts.own if s.first_issued), default=facts.modified)
    g.add(catalog, DCT + "issued", _datetime(issued))
    for language in languages:
        g.add(catalog, DCT + "language", language)
    for place in own_places:
        g.add(catalog, DCT + "spatial", _n(place))
    g.add(catalog, DCAT + "themeTaxonomy", _n(vocab.EU_THEME_SCHEME))
    g.add(catalog, DCAT + "themeTaxonomy", _n(vocab.THEME_SCHEME))

    g.add(publisher, "a", _n(FOAF + "Agent"))
    g.add(publisher, FOAF + "name", _text(node.name))
    g.add(publisher, DCT + "type", _n("http://purl.org/adms/publishertype/LocalAuthority"))
    g.add(contact, "a", _n(VCARD + "Organization"))
    g.add(contact, VCARD + "fn", _text(f"{node.name} open data"))
    g.add(contact, VCARD + "hasURL", _n(config.opendata.contact_url or f"{base}/"))
    if config.opendata.contact_email:
        g.add(contact, VCARD + "hasEmail", _n(f"mailto:{config.opendata.contact_email}"))
    g.add(licence, "a", _n(DCT + "LicenseDocument"))
    g.add(licence, DCT + "type", _n("http://purl.org/adms/licencetype/Attribution"))

    def dataset(
        key: str, summaries: list[TypeSummary], title: tuple[str, str, str], origin: str
    ) -> ox.NamedNode:
        iri = _n(f"{base}/catalog#dataset-{key}")
        types = [s.type for s in summaries]
        g.add(catalog, DCAT + "dataset", iri)
        g.add(iri, "a", _n(DCAT + "Dataset"))
        for text, lang in zip(title, ("en", "es", "pt"), strict=True):
            g.add(iri, DCT + "title", _text(text, lang))
        count = sum(s.records for s in summaries)
        scope = "every city's" if origin == "all" else f"{node.name}'s"
        g.add(
            iri,
            DCT + "description",
            _text(f"{title[0]}: {count:,} signed records, {scope}, as of {facts.modified}.", "en"),
        )
        g.add(iri, DCT + "identifier", _text(str(iri.value)))
        g.add(iri, DCT + "publisher", publisher)
        g.add(iri, DCAT + "contactPoint", contact)
        g.add(iri, DCT + "conformsTo", _n(SHAPES_VERSION))
        g.add(iri, DCAT + "landingPage", _n(_records_page(base, types, origin)))
        for language in languages:
            g.add(iri, DCT + "language", language)
        for word in ("urban practices", "cities", node.name, *(t.lower() for t in types)):
            g.add(iri, DCAT + "keyword", _text(word, "en"))
        themes = tuple(t for s in summaries for t in s.themes)
        for theme in eu_themes(themes):
            g.add(iri, DCAT + "theme", _n(theme))
        for theme in sorted({t for t in themes if t.startswith(vocab.THEME_SCHEME)}):
            g.add(iri, DCAT + "theme", _n(theme))
        dataset_places = places if origin == "all" else own_places
        for place in sorted({*dataset_places, *(p for s in summaries for p in s.places)}):
            g.add(iri, DCT + "spatial", _n(place))
        _temporal(g, iri, summaries, facts.modified)
        first = min((s.first_issued for s in summaries if s.first_issued), default=None)
        if first:
            g.add(iri, DCT + "issued", _datetime(first))
        last = max((s.last_modified for s in summaries if s.last_modified), default=None)
        if last:
            g.add(iri, DCT + "modified", _datetime(last))
        for creator in sorted({d for s in summaries for d in s.publishers} - {did}):
            g.add(iri, DCT + "creator", _n(creator))
        for name in _files_for(types):
            _distribution(g, iri, key, name, _dump_url(base, name, types, origin), licence)
        return iri

    for summary in facts.own:
        title = TITLES.get(summary.type, (summary.type,) * 3)
        dataset(summary.type.lower(), [summary], title, "self")
    replica = dataset(
        "replica",
        facts.replica,
        (
            "Practices of every city in the federation",
            "Prácticas de todas las ciudades de la federación",
            "Práticas de todas as cidades da federação",
        ),
        "all",
    )
    feed = _n(f"{base}/catalog#dist-replica-atom")
    g.add(replica, DCAT + "distribution", feed)
    _describe_distribution(
        g, feed, "Atom feed of the newest practices", f"{base}/feeds/replica.atom", licence
    )
    g.add(feed, DCT + "format", _n(f"{EU}file-type/ATOM"))
    g.add(
        feed,
        DCAT + "mediaType",
        _n("https://www.iana.org/assignments/media-types/application/atom+xml"),
    )

    if config.opendata.sparql:
        service = _n(f"{base}/sparql")
        g.add(catalog, DCAT + "service", service)
        g.add(service, "a", _n(DCAT + "DataService"))
        g.add(service, DCT + "title", _text(f"SPARQL endpoint of {node.name}'s node", "en"))
        g.add(service, DCAT + "endpointURL", service)
        g.add(service, DCAT + "endpointDescription", service)
        g.add(service, DCAT + "servesDataset", replica)
        g.add(service, DCAT + "contactPoint", contact)
        g.add(service, DCT + "publisher", publisher)
        g.add(service, DCT + "conformsTo", _n("https://www.w3.org/TR/sparql11-protocol/"))
        g.add(service, DCT + "license", licence)
        for theme in eu_themes(tuple(t for s in facts.replica for t in s.themes)):
            g.add(service, DCAT + "theme", _n(theme))
        for word in ("SPARQL", "linked data", "urban practices"):
            g.add(service, DCAT + "keyword", _text(word, "en"))
    return g.triples


def _temporal(
    g: _Graph, dataset: ox.NamedNode, summaries: list[TypeSummary], modified: str
) -> None:
    start = min((s.first_date for s in summaries if s.first_date), default=None)
    end = max((s.last_date for s in summaries if s.last_date), default=None)
    if not start:
        # Records that give no dates cover the time they were published in.
        start = min((s.first_issued[:10] for s in summaries if s.first_issued), default=None)
    if not start:
        return
    # Practices still going on have no end date: the coverage runs to the last change.
    if end is None or end < start:
        last = max((s.last_modified for s in summaries if s.last_modified), default=modified)
        end = last[:10]
    period = ox.BlankNode()
    g.add(dataset, DCT + "temporal", period)
    g.add(period, "a", _n(DCT + "PeriodOfTime"))
    g.add(period, DCAT + "startDate", _date(start))
    g.add(period, DCAT + "endDate", _date(end))


def _files_for(types: list[str]) -> list[str]:
    names = ["records.jsonld", "records.ttl", "records.nq"]
    if any(t in PRACTICE_TYPES for t in types):
        names.append("records.csv")
    if "Result" in types:
        names.append("results.csv")
    return names


def _query(types: list[str], origin: str) -> str:
    parts = [f"type={t}" for t in types] if len(types) == 1 else []
    if origin == "all":
        parts.append("origin=all")
    return ("?" + "&".join(parts)) if parts else ""


def _dump_url(base: str, name: str, types: list[str], origin: str) -> str:
    return f"{base}/dumps/{name}{_query(types, origin)}"


def _records_page(base: str, types: list[str], origin: str) -> str:
    return f"{base}/records{_query(types, origin)}"


def _distribution(
    g: _Graph, dataset: ox.NamedNode, key: str, name: str, url: str, licence: ox.NamedNode
) -> None:
    file = FILES[name]
    iri = _n(f"{dataset.value.rsplit('#', 1)[0]}#dist-{key}-{name.replace('.', '-')}")
    g.add(dataset, DCAT + "distribution", iri)
    _describe_distribution(g, iri, file.title, url, licence)
    g.add(iri, DCT + "format", _n(f"{EU}file-type/{FILE_TYPES[name]}"))
    g.add(
        iri,
        DCAT + "mediaType",
        _n(f"https://www.iana.org/assignments/media-types/{file.media_type}"),
    )


def _describe_distribution(
    g: _Graph, iri: ox.NamedNode, title: str, url: str, licence: ox.NamedNode
) -> None:
    g.add(iri, "a", _n(DCAT + "Distribution"))
    g.add(iri, DCT + "title", _text(title, "en"))
    g.add(
        iri,
        DCT + "description",
        _text(f"{title}; streamed, gzip on request, with ETag and Last-Modified.", "en"),
    )
    g.add(iri, DCAT + "accessURL", _n(url))
    g.add(iri, DCAT + "downloadURL", _n(url))
    g.add(iri, DCT + "license", licence)
    g.add(iri, DCATAP + "availability", _n(f"{EU}planned-availability/STABLE"))
