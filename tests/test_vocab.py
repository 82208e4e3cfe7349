"""The vocab package: ontology, context, shapes, taxonomies and the loader agree with each other."""

from __future__ import annotations

import ast
import copy
import json
import socket
from pathlib import Path
from typing import Any

import pytest
from rdflib import Graph, Literal, URIRef
from rdflib.namespace import OWL, RDF, RDFS, SH, SKOS

import vocab
from protocol.records import parse_record
from vocab import snapshot
from vocab import taxonomy as taxonomy_module
from vocab.graphs import ONTOLOGY_FILE, SHAPES_FILE, TAXONOMY_FILES

VOCAB_DIR = Path(vocab.__file__).parent
CN = "https://w3id.org/citynode/vocab#"
THEME = "https://w3id.org/citynode/theme#"
STATUS = "https://w3id.org/citynode/status#"
EU = "http://publications.europa.eu/resource/authority/data-theme/"
SDG = "http://metadata.un.org/sdg/"
REUSED_NAMESPACES = (
    "http://purl.org/dc/terms/",
    "http://www.w3.org/ns/dcat#",
    "https://schema.org/",
    "http://www.w3.org/ns/prov#",
    "http://www.w3.org/2004/02/skos/core#",
    "http://data.europa.eu/eli/ontology#",
    "http://www.w3.org/ns/adms#",
    "http://www.w3.org/2006/vcard/ns#",
    "http://www.w3.org/ns/org#",
    "http://www.w3.org/ns/dqv#",
)
#: The terms the brief (docs/DESIGN.md "Records") asks the project namespace to define.
REQUIRED_CN_TERMS = [
    "Practice",
    "Project",
    "Policy",
    "Programme",
    "Result",
    "Measurement",
    "Tombstone",
    "problem",
    "approach",
    "lessonsLearned",
    "transferability",
    "sdg",
    "legalBasis",
    "resultOf",
    "progress",
    "measurement",
    "indicator",
    "period",
    "role",
    "observed",
    "baseline",
    "target",
    "illustrative",
    "reason",
    "formerType",
    "responsible",
]


# --------------------------------------------------------------------------- sample records


def _meta(kind: str, n: int) -> dict[str, Any]:
    return {
        "@context": [vocab.CONTEXT_URL, vocab.DATA_INTEGRITY_CONTEXT_URL],
        "id": f"https://medellin.example/records/{kind.lower()}-{n}",
        "type": kind,
        "version": 2,
        "previousVersion": f"https://medellin.example/records/{kind.lower()}-{n}/v/1",
        "issued": "2024-03-01T10:00:00Z",
        "modified": "2024-04-01T10:00:00.5Z",
        "publisher": "did:web:medellin.example",
        "proof": {
            "type": "DataIntegrityProof",
            "cryptosuite": "eddsa-jcs-2022",
            "created": "2024-04-01T10:00:01Z",
            "verificationMethod": "did:web:medellin.example#key-1",
            "proofPurpose": "assertionMethod",
            "proofValue": "z3FXQjecWufY46yg5abdVZsXqLhxhueuSoZgNSARiKBk",
        },
    }


def _practice(kind: str) -> dict[str, Any]:
    return _meta(kind, 1) | {
        "title": {"es": "Parques conectados", "en": "Connected parks", "pt": "Parques conectados"},
        "summary": {"es": "Wifi gratis en parques públicos.", "en": "Free Wi-Fi in public parks."},
        "description": {"es": "Zonas de acceso público a internet."},
        "problem": {"es": "Muchos hogares no tienen internet."},
        "approach": {"en": "Access points in parks, run by the city."},
        "lessonsLearned": {"en": "Maintenance matters as much as installation."},
        "transferability": {"pt": "Requer energia estável nos parques."},
        "keywords": {"es": ["wifi", "parques"], "en": ["wifi"]},
        "status": STATUS + "ongoing",
        "themes": [THEME + "connectivity", EU + "TECH"],
        "sdgs": [SDG + "9.c", SDG + "11"],
        "spatial": "https://www.wikidata.org/wiki/Q48278",
        "startDate": "2019-01-01",
        "endDate": "2023-12-31",
        "website": "https://medellin.example/wifi",
        "responsible": {"es": "Secretaría de Innovación Digital"},
        "contactPoint": {
            "type": "Organization",
            "fn": "Secretaría de Innovación Digital",
            "hasEmail": "mailto:innovacion@medellin.example",
            "url": "https://medellin.example/innovacion",
        },
        "legalBasis": [
            {
                "type": "LegalResource",
                "title": {"es": "Acuerdo Distrital 057 de 2022"},
                "identifier": "Acuerdo 057 de 2022",
                "url": "https://medellin.example/acuerdo-057",
                "dateDocument": "2022-06-30",
            }
        ],
        "license": "https://creativecommons.org/licenses/by/4.0/",
        "conformsTo": vocab.SHAPES_VERSION,
        "illustrative": True,
    }


def _result() -> dict[str, Any]:
    return _meta("Result", 1) | {
        "title": {"es": "Parques con wifi", "en": "Parks with Wi-Fi"},
        "status": STATUS + "completed",
        "resultOf": "https://medellin.example/records/project-1",
        "progress": 100,
        "period": "2019/2023",
        "measurements": [
            {
                "type": "Measurement",
                "indicator": {"es": "Parques con wifi gratis", "en": "Parks with free Wi-Fi"},
                "value": 33,
                "unit": "parques",
                "period": "2023",
            },
            {
                "type": "Measurement",
                "indicator": {"en": "Share of homes online"},
                "value": 72.5,
                "unit": "%",
                "period": "2020-01/2023-12",
                "role": "target",
                "source": "https://medellin.example/informe",
                "illustrative": True,
            },
        ],
    }


def _tombstone() -> dict[str, Any]:
    return _meta("Tombstone", 9) | {
        "version": 3,
        "formerType": "Programme",
        "reason": {"es": "Registro duplicado", "en": "Duplicate record"},
    }


SAMPLES = {
    "Project": _practice("Project"),
    "Policy": _practice("Policy"),
    "Programme": _practice("Programme"),
    "Result": _result(),
    "Tombstone": _tombstone(),
}


def _graph(document: dict[str, Any]) -> Graph:
    """Exactly what a caller does: inline the contexts, then read the JSON-LD (vocab.record_graph
    also keeps literals' lexical forms and JSON-LD's own number and boolean forms)."""
    return vocab.record_graph(document)


# --------------------------------------------------------------------------- package rules


def test_vocab_imports_neither_protocol_nor_citynode() -> None:
    for path in VOCAB_DIR.glob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
            else:
                continue
            for name in names:
                assert name.split(".")[0] not in {"protocol", "citynode"}, f"{path.name}: {name}"


def test_import_vocab_does_not_load_rdflib() -> None:
    import subprocess
    import sys

    code = (
        "import sys, vocab; vocab.concepts(); vocab.terms_by_label(); "
        "print('rdflib' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


# --------------------------------------------------------------------------- ontology


@pytest.fixture(scope="module")
def ontology() -> Graph:
    return vocab.ontology_graph()


def test_every_context_term_resolves(ontology: Graph) -> None:
    defined = {str(s) for s in ontology.subjects(RDF.type, None) if str(s).startswith(CN)}
    terms = vocab.context_terms()
    assert "title" in terms and "measurements" in terms
    for term, iri in terms.items():
        if iri.startswith(CN):
            assert iri in defined, f"context term {term!r} -> {iri} is not defined in ontology.ttl"
        else:
            assert iri.startswith(REUSED_NAMESPACES), f"{term!r} -> {iri}: not a reused vocabulary"


def test_required_terms_are_defined(ontology: Graph) -> None:
    for name in REQUIRED_CN_TERMS:
        assert (URIRef(CN + name), RDF.type, None) in ontology, name


def test_every_new_term_has_en_and_es_label_and_definition(ontology: Graph) -> None:
    subjects = {s for s in ontology.subjects(RDF.type, None) if str(s).startswith(CN)}
    assert len(subjects) >= len(REQUIRED_CN_TERMS)
    for subject in subjects:
        labels = {o.language for o in ontology.objects(subject, RDFS.label)}
        notes = {
            o.language
            for p in (RDFS.comment, SKOS.definition)
            for o in ontology.objects(subject, p)
        }
        assert {"en", "es"} <= labels, f"{subject}: labels {labels}"
        assert {"en", "es"} <= notes, f"{subject}: definitions {notes}"


def test_ontology_header(ontology: Graph) -> None:
    header = URIRef("https://w3id.org/citynode/vocab")
    assert (header, RDF.type, OWL.Ontology) in ontology
    assert ontology.value(header, OWL.versionInfo) is not None
    license_ = URIRef("http://purl.org/dc/terms/license")
    assert ontology.value(header, license_) == URIRef(
        "https://creativecommons.org/licenses/by/4.0/"
    )


def test_practice_classes(ontology: Graph) -> None:
    for kind in ("Project", "Policy", "Programme"):
        assert (URIRef(CN + kind), RDFS.subClassOf, URIRef(CN + "Practice")) in ontology


# --------------------------------------------------------------------------- files parse


@pytest.mark.parametrize(
    "path", [ONTOLOGY_FILE, SHAPES_FILE, *TAXONOMY_FILES], ids=lambda p: p.name
)
def test_turtle_files_parse(path: Path) -> None:
    assert len(Graph().parse(path, format="turtle")) > 0


def test_taxonomy_readme_cites_sources() -> None:
    text = (VOCAB_DIR / "taxonomies" / "README.md").read_text(encoding="utf-8")
    assert "Amit Joshi, Luis Gonzalez Morales, Szymon Klarman, and Aaron Helton. 2019" in text
    assert "2011/833/EU" in text and "CC BY 4.0" in text


def test_third_party_copies_keep_only_the_chosen_languages() -> None:
    allowed = {
        "un-sdg-goals-targets.ttl": {"en", "es", "fr"},
        "eu-data-theme-skos.ttl": {"en", "es", "pt", "fr"},
    }
    for name, languages in allowed.items():
        graph = Graph().parse(VOCAB_DIR / "taxonomies" / name)
        found = {o.language for o in graph.objects() if isinstance(o, Literal) and o.language}
        assert found == languages, name


# --------------------------------------------------------------------------- taxonomies


def test_taxonomy_sizes() -> None:
    schemes: dict[str, int] = {}
    for item in vocab.concepts().values():
        schemes[item.scheme] = schemes.get(item.scheme, 0) + 1
    assert schemes[vocab.SDG_SCHEME] == 17 + 169
    assert schemes[vocab.EU_THEME_SCHEME] == 14  # 13 themes and the provisional OP_DATPRO
    assert 20 <= schemes[vocab.THEME_SCHEME] <= 25
    assert schemes[vocab.STATUS_SCHEME] == 5


def test_urban_themes_are_complete() -> None:
    known = vocab.concepts()
    themes = vocab.in_scheme(vocab.THEME_SCHEME)
    for theme in themes:
        assert {"es", "en", "pt", "fr"} <= set(theme.pref_label), theme.iri
        assert {"es", "en", "pt", "fr"} <= set(theme.alt_labels), theme.iri
        assert {"en", "es"} <= set(theme.definition), theme.iri
        assert theme.close_match, f"{theme.iri} has no skos:closeMatch"
        assert theme.notation == theme.iri.removeprefix(THEME)
        for target in theme.close_match:
            assert known[target].scheme == vocab.EU_THEME_SCHEME, target
        for target in theme.related_match:
            assert known[target].scheme == vocab.SDG_SCHEME, target


def test_statuses() -> None:
    statuses = {c.iri for c in vocab.in_scheme(vocab.STATUS_SCHEME)}
    names = ("planned", "ongoing", "completed", "suspended", "discontinued")
    assert statuses == {STATUS + name for name in names}
    for iri in statuses:
        assert {"es", "en", "pt", "fr"} <= set(vocab.concepts()[iri].pref_label)


def test_every_sdg_goal_has_a_portuguese_label() -> None:
    for goal in range(1, 18):
        item = vocab.concepts()[f"{SDG}{goal}"]
        assert item.pref_label.get("pt"), goal
        assert item.pref_label["pt"] != item.pref_label["en"]


def test_shapes_theme_list_is_the_taxonomy() -> None:
    shapes = vocab.shapes_graph()
    node = shapes.value(URIRef("https://w3id.org/citynode/shapes/v1#themes"), SH["in"])
    from rdflib.collection import Collection

    listed = {str(x) for x in Collection(shapes, node)}
    expected = {c.iri for c in vocab.in_scheme(vocab.THEME_SCHEME)} | {
        c.iri for c in vocab.in_scheme(vocab.EU_THEME_SCHEME) if c.notation != "OP_DATPRO"
    }
    assert listed == expected


# --------------------------------------------------------------------------- concepts snapshot


def test_concepts_snapshot_matches_turtle() -> None:
    from_turtle = [item.to_json() for item in snapshot.build()]
    from_snapshot = [item.to_json() for item in sorted(vocab.concepts().values(), key=_iri)]
    assert from_snapshot == from_turtle, "run: python -m vocab.snapshot"
    stored = json.loads(taxonomy_module.SNAPSHOT.read_text(encoding="utf-8"))
    assert stored["sources"] == snapshot.source_digests(), "run: python -m vocab.snapshot"


def _iri(item: vocab.Concept) -> str:
    return item.iri


def test_concepts_load_from_the_snapshot() -> None:
    # Start-up cost is kept low by reading the JSON snapshot, not the Turtle (speed itself is
    # not asserted in tests: see bench/).
    taxonomy_module.concepts.cache_clear()
    loaded = vocab.concepts()
    assert len(loaded) > 200


def test_label_fallback() -> None:
    connectivity = THEME + "connectivity"
    assert vocab.label(connectivity, "es") == "Conectividad"
    assert vocab.label(connectivity, "pt") == "Conectividade"
    assert vocab.label(connectivity, "de") == "Connectivity"
    # No Portuguese for target 1.1: English first, then Spanish.
    assert vocab.label(SDG + "1.1", "pt").startswith("By 2030, eradicate extreme poverty")
    assert vocab.label(SDG + "11", "pt").startswith("Tornar as cidades")
    with pytest.raises(vocab.UnknownConcept, match="nothing"):
        vocab.label(THEME + "nothing", "en")


def test_sdg_goal() -> None:
    assert vocab.sdg_goal(SDG + "11.2") == SDG + "11"
    assert vocab.sdg_goal(SDG + "9.c") == SDG + "9"
    assert vocab.sdg_goal(SDG + "11") == SDG + "11"
    with pytest.raises(vocab.UnknownConcept):
        vocab.sdg_goal(THEME + "connectivity")
    with pytest.raises(vocab.VocabError):
        vocab.sdg_goal(SDG + "18")


def test_fold() -> None:
    assert vocab.fold("  Inclusão   DIGITAL ") == "inclusao digital"
    assert vocab.fold("Énergie propre et d’un coût") == "energie propre et d'un cout"


def test_cross_language_search_terms() -> None:
    terms = vocab.terms_by_label()
    assert terms["connectivity"] & terms["conectividad"]
    assert THEME + "connectivity" in terms["wifi"] & terms["acceso a internet"]
    assert THEME + "connectivity" in terms["internet access"]
    assert terms["digital literacy"] & terms["alfabetizacion digital"]
    assert THEME + "digital-inclusion" in terms["inclusao digital"] & terms["older people"]
    assert SDG + "11" in terms["ciudades y comunidades sostenibles"]
    assert SDG + "11" in terms["sustainable cities and communities"]
    assert STATUS + "ongoing" in terms["en ejecucion"]
    assert all(key == vocab.fold(key) for key in terms)


# --------------------------------------------------------------------------- shapes


def test_every_shape_has_clerk_messages_in_en_and_es() -> None:
    shapes = vocab.shapes_graph()
    known_terms = set(vocab.context_terms())
    for kind in (SH.NodeShape, SH.PropertyShape):
        for shape in shapes.subjects(RDF.type, kind):
            messages = {o.language: str(o) for o in shapes.objects(shape, SH.message)}
            assert {"en", "es"} <= set(messages), shape
            if kind == SH.PropertyShape:
                field = messages["en"].split(":")[0].split(".")[-1]
                assert field in known_terms, f"{shape}: message does not start with a JSON term"


@pytest.mark.parametrize("kind", SAMPLES)
def test_valid_samples_conform(kind: str) -> None:
    document = SAMPLES[kind]
    parse_record(document)  # the same sample satisfies protocol/records.py
    assert vocab.validate_graph(_graph(document)) == []
    assert vocab.validate_record(document) == []


def _violations(document: dict[str, Any]) -> list[vocab.Violation]:
    found = vocab.validate_record(document)
    assert found, "expected the record to fail"
    return found


def _mutate(kind: str, **changes: Any) -> dict[str, Any]:
    document = copy.deepcopy(SAMPLES[kind])
    for key, value in changes.items():
        if value is None:
            del document[key]
        else:
            document[key] = value
    return document


@pytest.mark.parametrize(
    ("kind", "changes", "term"),
    [
        ("Project", {"title": None}, "title"),
        ("Result", {"title": None}, "title"),
        ("Policy", {"title": {"fr": ""}}, "title"),
        ("Project", {"summary": None}, "summary"),
        ("Result", {"progress": 150}, "progress"),
        ("Result", {"progress": -1}, "progress"),
        ("Project", {"status": STATUS + "done"}, "status"),
        ("Project", {"status": None}, "status"),
        ("Project", {"sdgs": [SDG + "18.1"]}, "sdgs"),
        ("Project", {"themes": [THEME + "conectividad"]}, "themes"),
        ("Project", {"startDate": "2025-13"}, "startDate"),
        ("Project", {"version": 0}, "version"),
        ("Project", {"issued": "yesterday"}, "issued"),
        ("Result", {"resultOf": None}, "resultOf"),
        ("Tombstone", {"formerType": "Tombstone"}, "formerType"),
    ],
)
def test_invalid_records_name_the_field(kind: str, changes: dict[str, Any], term: str) -> None:
    violations = _violations(_mutate(kind, **changes))
    assert any(v.path == term and v.message.startswith(f"{term}:") for v in violations), violations


def test_unknown_properties_are_errors() -> None:
    # A full IRI reaches RDF and is caught by the closed shape ...
    iri = "https://evil.example/colour"
    found = _violations(_mutate("Project", **{iri: "red"}))
    assert [(v.path, v.message.split(":")[0]) for v in found] == [(iri, "https")]
    assert found[0].message.startswith(f"{iri}: ")
    # ... a known term on the wrong kind of record too ...
    found = _violations(_mutate("Project", progress=50))
    assert [v.path for v in found] == ["progress"]
    assert "not in the citynode vocabulary" in found[0].message
    # ... and a term no context defines, which JSON-LD would drop silently, is found on the JSON.
    found = _violations(_mutate("Project", colour="red"))
    assert [v.path for v in found] == ["colour"]
    nested = _mutate("Result")
    nested["measurements"][0]["colour"] = "red"
    assert [v.path for v in _violations(nested)] == ["measurements[0].colour"]


def test_nested_objects_are_checked() -> None:
    result = _mutate("Result")
    result["measurements"][0]["role"] = "guess"
    result["measurements"][1]["period"] = "2021-13"
    result["measurements"][1]["unit"] = ""
    messages = {v.message.split(":")[0] for v in _violations(result)}
    assert messages == {"measurements.role", "measurements.period", "measurements.unit"}
    policy = _mutate("Policy")
    del policy["legalBasis"][0]["title"]
    assert [v.path for v in _violations(policy)] == ["title"]
    assert _violations(policy)[0].message.startswith("legalBasis.title:")


def test_messages_in_spanish() -> None:
    found = vocab.validate_record(_mutate("Project", title=None), lang="es")
    assert found[0].message == "title: se requiere al menos un título en cualquier idioma"


# --------------------------------------------------------------------------- contexts


def test_context_document() -> None:
    document = vocab.context_document(vocab.CONTEXT_URL)
    assert document["@context"]["title"]["@id"] == "dcterms:title"
    document["@context"]["title"] = "tampered"
    assert vocab.context_document(vocab.CONTEXT_URL)["@context"]["title"] != "tampered"
    assert "proof" in vocab.context_document(vocab.DATA_INTEGRITY_CONTEXT_URL)["@context"]
    with pytest.raises(vocab.VocabError, match=r"https://example\.org/other"):
        vocab.context_document("https://example.org/other")


def test_inline_contexts_replaces_every_url() -> None:
    document = {
        "@context": vocab.CONTEXT_URL,
        "id": "https://medellin.example/x",
        "nested": [{"@context": [vocab.DATA_INTEGRITY_CONTEXT_URL, {"a": "cn:a"}]}],
    }
    original = copy.deepcopy(document)
    inlined = vocab.inline_contexts(document)
    assert document == original
    assert inlined["@context"]["title"]["@id"] == "dcterms:title"
    assert inlined["nested"][0]["@context"][0]["proof"]["@container"] == "@graph"
    assert inlined["nested"][0]["@context"][1] == {"a": "cn:a"}
    listed = vocab.inline_contexts([document])
    assert listed[0]["@context"] == inlined["@context"]


@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("vocab tried to open a network connection")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)


@pytest.mark.usefixtures("no_network")
def test_inline_contexts_refuses_remote_contexts_without_network() -> None:
    evil = "https://evil.example/ctx"
    for document in (
        {"@context": evil},
        {"@context": [vocab.CONTEXT_URL, evil]},
        {"@context": vocab.CONTEXT_URL, "sub": [{"@context": evil}]},
    ):
        with pytest.raises(vocab.UnknownContext, match=r"evil\.example") as caught:
            vocab.inline_contexts(document)
        assert caught.value.url == evil
    with pytest.raises(vocab.VocabError, match="@import"):
        vocab.inline_contexts({"@context": {"@import": evil}})
    with pytest.raises(vocab.UnknownContext):
        vocab.record_graph({"@context": evil, "id": "https://medellin.example/x"})
    # A whole record goes through rdflib and SHACL with the network cut.
    assert vocab.validate_record(SAMPLES["Result"]) == []
