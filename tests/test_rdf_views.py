"""The fast RDF path (Oxigraph's JSON-LD parser) means what rdflib's JSON-LD processor means."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pyoxigraph as ox
import pytest
from rdflib import Graph
from rdflib.compare import isomorphic

import vocab
from citynode import jsonld_triples, rdf

SAMPLES = Path(__file__).parent.parent / "citynode" / "samples"


def sample_records() -> list[dict[str, Any]]:
    records = []
    for city in ("medellin", "lisboa", "montevideo"):
        graph = json.loads((SAMPLES / city / "records.jsonld").read_text(encoding="utf-8"))
        for record in graph["@graph"]:
            record = {**record, "@context": graph["@context"]}
            record["id"] = f"https://{city}.example/{record['id']}"
            if "resultOf" in record:
                record["resultOf"] = f"https://{city}.example/{record['resultOf']}"
            records.append(record)
    return records


@pytest.mark.parametrize("record", sample_records(), ids=lambda r: r["id"].rsplit("/", 1)[-1])
def test_oxigraph_and_rdflib_read_the_same_triples(record: dict[str, Any]) -> None:
    expected = vocab.record_graph(record)
    ntriples = rdf.serialize([record], "nt").decode("utf-8")
    got = Graph().parse(data=ntriples, format="nt")
    assert len(got) > 10
    assert isomorphic(expected, got)


def test_a_streamed_turtle_dump_declares_its_prefixes_once_and_parses_whole() -> None:
    records = [
        {**record, "id": f"{record['id']}-{n}"} for n in range(10) for record in sample_records()
    ]  # more than one chunk
    chunks = list(rdf.stream(records, "turtle"))
    assert len(chunks) > 1
    text = b"".join(chunks)
    assert text.count(b"@prefix dcterms:") == 1
    graph = Graph().parse(data=text.decode("utf-8"), format="turtle")
    single = Graph().parse(data=rdf.serialize(records, "nt"), format="nt")
    assert len(graph) == len(single) > 5000


def test_nquads_put_each_record_in_the_graph_of_its_id() -> None:
    record = sample_records()[0]
    lines = rdf.serialize([record], "nquads").decode("utf-8").splitlines()
    assert lines and all(line.endswith(f"<{record['id']}> .") for line in lines)


def corpus_records() -> list[dict[str, Any]]:
    """The bench corpus (300 cities, every record type, measurements with decimals)."""
    from bench.opendata_bench import _versions

    out = []
    for n, (version, _) in enumerate(_versions(300)):
        document = json.loads(version.body)
        if document["type"] == "Result":
            document["measurements"][0]["value"] = [2.5, 0.001, 13700.5, 1e22, -3.0][n % 5]
            document["progress"] = 40
            document["illustrative"] = True
        out.append(document)
    return out


@pytest.mark.parametrize("records", [sample_records(), corpus_records()], ids=["samples", "corpus"])
def test_the_term_table_reader_gives_what_a_jsonld_processor_gives(
    records: list[dict[str, Any]],
) -> None:
    def graph(statements: list[str]) -> Graph:
        return Graph().parse(data="".join(f"{s} .\n" for s in statements), format="nt")

    for record in records:
        fast = jsonld_triples.statements(record)
        assert fast is not None, record["id"]  # every record takes the fast path
        assert isomorphic(graph(fast), graph(rdf.processor_statements(record))), record["id"]


@pytest.mark.parametrize("records", [sample_records(), corpus_records()], ids=["samples", "corpus"])
def test_turtle_written_from_the_term_table_holds_the_statements(
    records: list[dict[str, Any]],
) -> None:
    tricky = {
        **sample_records()[0],
        "title": {"es": 'Dijo "hola"\\ y\nse fue\r', "pt-BR": "ok"},
        # A nested node with an IRI of its own (a block of its own) and an empty one (`[]`).
        "funders": [{"type": "Organisation", "id": "https://ror.org/01abc", "name": {"en": "F"}}],
        "areas": [{}],
    }
    for record in [*records, tricky]:
        turtle = jsonld_triples.turtle(record)
        assert turtle is not None, record["id"]
        head = rdf.serialize_chunk([], "turtle", first=True).decode()
        got = Graph().parse(data=head + turtle, format="turtle")
        statements = jsonld_triples.statements(record)
        assert statements is not None
        expected = Graph().parse(data="".join(f"{s} .\n" for s in statements), format="nt")
        assert isomorphic(got, expected), record["id"]
    assert "dcterms:title" in turtle and "<https://ror.org/01abc> a org:Organization" in turtle
    unknown = {**sample_records()[0], "title": {"@value": "x"}}
    assert jsonld_triples.turtle(unknown) is None  # the processor's, as for statements
    assert Graph().parse(data=rdf.serialize([unknown], "turtle").decode(), format="turtle")


def test_a_shape_the_reader_does_not_know_goes_to_the_processor() -> None:
    record = {**sample_records()[0], "title": {"@value": "x"}}
    assert jsonld_triples.statements(record) is None
    relative = {**sample_records()[0], "website": "parques.html"}
    assert jsonld_triples.statements(relative) is None
    spaced = {**sample_records()[0], "website": "https://a.example/b c"}
    assert jsonld_triples.statements(spaced) is None
    compact = {**sample_records()[0], "website": "schema:Park"}
    statements = jsonld_triples.statements(compact)
    assert statements is not None
    assert any(s.endswith("<https://schema.org/Park>") for s in statements)
    quoted = {**sample_records()[0], "title": {"es": 'Dijo "hola"\\ y\nse fue'}}
    text = rdf.serialize([quoted], "nt").decode()
    assert Graph().parse(data=text, format="nt")


def _canonical(nquads: str) -> str:
    """URDNA2015 canonical N-Quads: two datasets are isomorphic iff these are equal."""
    from pyld import jsonld

    options = {"algorithm": "URDNA2015", "inputFormat": "application/n-quads"}
    result: str = jsonld.normalize(nquads, {**options, "format": "application/n-quads"})
    return result


@pytest.mark.parametrize("record", sample_records()[::4], ids=lambda r: r["id"].rsplit("/", 1)[-1])
def test_nquads_carry_the_proof_where_a_jsonld_processor_puts_it(record: dict[str, Any]) -> None:
    """A signed record: its triples and its proof's named graph, from the term table, are what
    Oxigraph's JSON-LD processor reads from the whole signed document."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from protocol import proofs

    signed = proofs.sign(
        record, Ed25519PrivateKey.generate(), "did:web:a.example#key-1", "2026-01-02T03:04:05Z"
    )
    assert jsonld_triples.proof_statements(signed) is not None
    ours = rdf.record_nquads(signed, own_graph=False)
    whole = json.dumps(vocab.inline_contexts(signed)).encode()
    theirs = ox.serialize(ox.parse(whole, format=ox.RdfFormat.JSON_LD), format=ox.RdfFormat.N_QUADS)
    assert theirs is not None
    assert _canonical(ours) == _canonical(theirs.decode())
    proof_graphs = {line.split()[-2] for line in ours.splitlines() if "DataIntegrityProof" in line}
    assert len(proof_graphs) == 1 and next(iter(proof_graphs)).startswith("_:")
    # In the record's own graph (dumps, negotiation) the link to the proof graph is there too.
    own = rdf.record_nquads(signed)
    assert f"<{signed['id']}> <https://w3id.org/security#proof> _:" in own
