"""SPARQL result formats, written row by row so a result can be cut at the node's cap.

SELECT and ASK: SPARQL 1.1 Query Results JSON (W3C Rec. 2013-03-21), XML (Rec. 2013-03-21) and
CSV/TSV (Rec. 2013-03-21). CONSTRUCT and DESCRIBE: Turtle, JSON-LD, N-Triples and RDF/XML through
Oxigraph's serializers. Oxigraph can write the first four itself, but only a whole result: here a
result may be cut at `max_rows` (and says so), so rows are written one at a time.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from typing import Any, Final
from xml.sax.saxutils import escape, quoteattr

import msgspec
import pyoxigraph as ox

from citynode import rdf

JSON: Final = "application/sparql-results+json"
XML: Final = "application/sparql-results+xml"
CSV: Final = "text/csv"
TSV: Final = "text/tab-separated-values"
TURTLE: Final = "text/turtle"
JSONLD: Final = "application/ld+json"
NTRIPLES: Final = "application/n-triples"
RDFXML: Final = "application/rdf+xml"

#: What each query form can be answered in, the default first.
SOLUTION_TYPES: Final = (JSON, XML, CSV, TSV, "application/json")
BOOLEAN_TYPES: Final = (JSON, XML, "application/json")
GRAPH_TYPES: Final = (TURTLE, JSONLD, NTRIPLES, RDFXML)
#: `format=` / `output=` values clients send instead of an Accept header.
FORMAT_NAMES: Final = {
    "json": JSON,
    "xml": XML,
    "csv": CSV,
    "tsv": TSV,
    "turtle": TURTLE,
    "ttl": TURTLE,
    "jsonld": JSONLD,
    "json-ld": JSONLD,
    "nt": NTRIPLES,
    "ntriples": NTRIPLES,
    "rdfxml": RDFXML,
    "rdf+xml": RDFXML,
}
_XSD_STRING: Final = "http://www.w3.org/2001/XMLSchema#string"
_LANG_STRING: Final = "http://www.w3.org/1999/02/22-rdf-syntax-ns#langString"
_RDF_FORMATS: Final = {
    TURTLE: ox.RdfFormat.TURTLE,
    JSONLD: ox.RdfFormat.JSON_LD,
    NTRIPLES: ox.RdfFormat.N_TRIPLES,
    RDFXML: ox.RdfFormat.RDF_XML,
}

Term = Any  # pyoxigraph's NamedNode | BlankNode | Literal | Triple


def _json_term(term: Term) -> dict[str, Any]:
    if isinstance(term, ox.NamedNode):
        return {"type": "uri", "value": term.value}
    if isinstance(term, ox.BlankNode):
        return {"type": "bnode", "value": term.value}
    if isinstance(term, ox.Literal):
        out: dict[str, Any] = {"type": "literal", "value": term.value}
        if term.language:
            out["xml:lang"] = term.language
        elif term.datatype.value not in (_XSD_STRING, _LANG_STRING):
            out["datatype"] = term.datatype.value
        return out
    return {"type": "literal", "value": str(term)}  # an RDF-star triple term, as text


def _xml_term(term: Term) -> str:
    if isinstance(term, ox.NamedNode):
        return f"<uri>{escape(term.value)}</uri>"
    if isinstance(term, ox.BlankNode):
        return f"<bnode>{escape(term.value)}</bnode>"
    if isinstance(term, ox.Literal):
        if term.language:
            return f"<literal xml:lang={quoteattr(term.language)}>{escape(term.value)}</literal>"
        if term.datatype.value not in (_XSD_STRING, _LANG_STRING):
            datatype = quoteattr(term.datatype.value)
            return f"<literal datatype={datatype}>{escape(term.value)}</literal>"
        return f"<literal>{escape(term.value)}</literal>"
    return f"<literal>{escape(str(term))}</literal>"


def _csv_value(term: Term) -> str:
    if term is None:
        return ""
    if isinstance(term, ox.BlankNode):
        return f"_:{term.value}"
    if isinstance(term, ox.NamedNode | ox.Literal):
        return str(term.value)
    return str(term)


def solutions(
    variables: list[str], rows: Iterable[list[Term | None]], media_type: str, truncated: bool
) -> bytes:
    """A SELECT result. `rows` hold a term or None (unbound) per variable, in order."""
    if media_type in (JSON, "application/json"):
        bindings = [
            {name: _json_term(term) for name, term in zip(variables, row, strict=True) if term}
            for row in rows
        ]
        document: dict[str, Any] = {"head": {"vars": variables}, "results": {"bindings": bindings}}
        if truncated:
            # Not in the JSON results format, which readers ignore unknown members of: the same
            # fact is in the Citynode-Results-Truncated header for clients that read headers.
            document["truncated"] = True
        return msgspec.json.encode(document)
    if media_type == XML:
        out = io.StringIO()
        out.write('<?xml version="1.0" encoding="utf-8"?>\n')
        out.write('<sparql xmlns="http://www.w3.org/2005/sparql-results#"><head>')
        out.writelines(f"<variable name={quoteattr(v)}/>" for v in variables)
        out.write("</head><results>")
        for row in rows:
            out.write("<result>")
            for name, term in zip(variables, row, strict=True):
                if term is not None:
                    out.write(f"<binding name={quoteattr(name)}>{_xml_term(term)}</binding>")
            out.write("</result>")
        out.write("</results></sparql>\n")
        return out.getvalue().encode("utf-8")
    if media_type == CSV:
        text = io.StringIO()
        writer = csv.writer(text, lineterminator="\r\n")
        writer.writerow(variables)
        writer.writerows([_csv_value(term) for term in row] for row in rows)
        return text.getvalue().encode("utf-8")
    if media_type == TSV:
        # TSV writes terms in Turtle syntax (SPARQL 1.1 CSV and TSV, 3.1), which is what
        # pyoxigraph's str() of a term gives.
        lines = ["\t".join(f"?{v}" for v in variables)]
        lines.extend("\t".join("" if t is None else str(t) for t in row) for row in rows)
        return ("\n".join(lines) + "\n").encode("utf-8")
    raise ValueError(media_type)


def boolean(value: bool, media_type: str) -> bytes:
    """An ASK result."""
    if media_type == XML:
        return (
            '<?xml version="1.0" encoding="utf-8"?>\n<sparql '
            'xmlns="http://www.w3.org/2005/sparql-results#"><head/>'
            f"<boolean>{'true' if value else 'false'}</boolean></sparql>\n"
        ).encode()
    return msgspec.json.encode({"head": {}, "boolean": value})


def graph(triples: list[ox.Triple], media_type: str, prefixes: dict[str, str]) -> bytes:
    """A CONSTRUCT or DESCRIBE result."""
    target = _RDF_FORMATS[media_type]
    return rdf.write(triples, target, prefixes if media_type in (TURTLE, RDFXML) else None)
