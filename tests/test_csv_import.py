"""The CSV templates: what a clerk types comes out as drafts the record model accepts, and every
mistake comes back naming its row and column."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import pytest

import citynode
import vocab
from citynode.imports import csv_cells, csv_terms
from citynode.imports.csv_columns import PRACTICE_COLUMNS, RESULT_COLUMNS
from citynode.imports.csv_records import read_csv_file, read_practices, read_results
from citynode.imports.csv_table import CsvImportError
from protocol.records import parse_record
from tests.test_samples import complete_draft

TEMPLATES = Path(citynode.__file__).parent / "samples" / "templates"
DOC = Path(citynode.__file__).parent.parent / "docs" / "csv-template.md"
SDG = "http://metadata.un.org/sdg/"
THEME = "https://w3id.org/citynode/theme#"
STATUS = "https://w3id.org/citynode/status#"


def template(name: str) -> str:
    return (TEMPLATES / name).read_text("utf-8-sig")


def table(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def write(rows: list[dict[str, str]], delimiter: str = ",") -> str:
    out = io.StringIO()
    columns = list(dict.fromkeys(column for row in rows for column in row))
    writer = csv.DictWriter(out, columns, delimiter=delimiter, lineterminator="\r\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


def practice_row(**cells: str) -> dict[str, str]:
    row = {
        "slug": "wifi-parques",
        "type": "Proyecto",
        "status": "en curso",
        "title_es": "Wifi gratuito en parques",
        "title_en": "Free Wi-Fi in parks",
        "summary_es": "Wifi abierto en 33 parques.",
        "summary_en": "Open Wi-Fi in 33 parks.",
    }
    row.update(cells)
    return row


def assert_valid(drafts: list[dict[str, object]]) -> None:
    for draft in drafts:
        parse_record(complete_draft(draft))


# --- the shipped templates ---------------------------------------------------------------


def test_templates_import_and_validate() -> None:
    practices = read_csv_file(TEMPLATES / "practices.csv")
    results = read_csv_file(TEMPLATES / "results.csv")
    assert [d["id"] for d in practices] == [
        "records/minimo-vital-internet",
        "records/eva-escuela-virtual",
    ]
    assert [d["type"] for d in practices] == ["Policy", "Programme"]
    assert [d["id"] for d in results] == [
        "records/eva-resultados",
        "records/minimo-vital-linea-base",
    ]
    assert len(results[0]["measurements"]) == 3
    assert results[0]["resultOf"] == "records/eva-escuela-virtual"
    assert results[0]["measurements"][0]["measures"].endswith("#people-reached")
    assert practices[0]["legalBasis"][0]["identifier"] == "Acuerdo Distrital 057 de 2022"
    assert practices[0]["legalBasis"][0]["editorial"] == ["title"]
    assert set(practices[0]["legalBasis"][0]["title"]) == {"es", "en"}
    assert practices[1]["startDate"] == "2020"
    assert_valid(practices + results)


def test_template_headers_are_the_documented_columns() -> None:
    doc = DOC.read_text("utf-8")
    for name, columns in (("practices.csv", PRACTICE_COLUMNS), ("results.csv", RESULT_COLUMNS)):
        header = next(csv.reader(io.StringIO(template(name))))
        assert header == list(columns)
        for column in columns:
            assert f"`{column}`" in doc, column


def test_templates_start_with_a_bom_for_excel() -> None:
    assert (TEMPLATES / "practices.csv").read_bytes().startswith(b"\xef\xbb\xbf")


# --- errors name the row and the column ----------------------------------------------------


def test_one_broken_row_names_row_and_column() -> None:
    rows = table(template("practices.csv"))
    rows[1]["status"] = "en marcha"
    with pytest.raises(CsvImportError) as caught:
        read_practices(write(rows), "practices.csv")
    error = caught.value
    assert (error.file, error.row, error.field) == ("practices.csv", 3, "status")
    assert str(error).startswith(
        "practices.csv row 3, column 'status': 'en marcha' is not a status"
    )
    assert "planned, ongoing, completed, suspended, discontinued" in error.message


def test_every_problem_is_reported_at_once() -> None:
    rows = [
        practice_row(),
        practice_row(slug="Wifi Parques", sdgs="9.z"),
        practice_row(slug="wifi-parques", start_date="2020-13", title_es="", title_en=""),
    ]
    with pytest.raises(CsvImportError) as caught:
        read_practices(write(rows), "practices.csv")
    found = {(p.row, p.field) for p in caught.value.problems}
    assert found == {
        (3, "slug"),
        (3, "sdgs"),
        (4, "slug"),  # the same slug as row 2
        (4, "start_date"),
        (4, "title_es"),
    }
    assert caught.value.row is None
    message = str(caught.value)
    assert message.startswith("practices.csv has 5 problems")
    assert "row 3, column 'slug': 'Wifi Parques' is not a valid slug" in message
    assert "for example 'wifi-parques'" in message
    assert "SDG 9 has no target 9.z" in message
    assert "'wifi-parques' is already used on row 2" in message
    assert "is not a real month" in message


def test_unknown_column_is_named() -> None:
    text = write([practice_row(statu="x")])
    with pytest.raises(CsvImportError) as caught:
        read_practices(text, "practices.csv")
    assert (caught.value.row, caught.value.field) == (1, "statu")
    assert "unknown column; did you mean 'status'?" in str(caught.value)


def test_any_language_column_is_read() -> None:
    drafts = read_practices(
        write([practice_row(title_fr="Wi-Fi gratuit", **{"Summary PT-BR": "Wi-Fi grátis"})]),
        "practices.csv",
    )
    assert drafts[0]["title"]["fr"] == "Wi-Fi gratuit"
    assert drafts[0]["summary"]["pt-BR"] == "Wi-Fi grátis"  # the case RFC 5646 recommends


def test_a_text_column_with_no_language_tag_is_named() -> None:
    with pytest.raises(CsvImportError) as caught:
        read_practices(write([practice_row(title_e="Wi-Fi gratuit")]), "practices.csv")
    assert caught.value.field == "title_e"
    assert "'e' is not a language tag" in caught.value.message


def test_missing_required_column() -> None:
    row = practice_row()
    del row["status"]
    with pytest.raises(CsvImportError, match="the column 'status' is required"):
        read_practices(write([row]), "practices.csv")


def test_model_rules_the_cell_readers_miss_still_name_the_column() -> None:
    too_long = "Acuerdo " + "x" * 400
    with pytest.raises(CsvImportError) as caught:
        read_practices(write([practice_row(legal_basis=too_long)]), "practices.csv")
    assert (caught.value.row, caught.value.field) == (2, "legal_basis")
    assert "the limit is 400 characters" in caught.value.message


def test_unclosed_quote_is_reported() -> None:
    text = 'slug,type,status,title_en,summary_en\nx,Project,ongoing,"Open,summary\n'
    with pytest.raises(CsvImportError, match="quotation mark"):
        read_practices(text, "practices.csv")


# --- spreadsheet habits ------------------------------------------------------------------


def test_semicolon_delimiter_and_bom_read_like_the_comma_file() -> None:
    rows = table(template("practices.csv"))
    expected = read_practices(write(rows), "practices.csv")
    excel_es = "\ufeff" + write(rows, delimiter=";")
    assert read_practices(excel_es, "practices.csv") == expected


def test_windows_1252_file_with_semicolons(tmp_path: Path) -> None:
    path = tmp_path / "practicas.csv"
    path.write_bytes(write([practice_row(title_es="Conexión en Medellín")], ";").encode("cp1252"))
    [draft] = read_csv_file(path)
    assert draft["title"]["es"] == "Conexión en Medellín"


def test_unnamed_trailing_columns_and_blank_rows_are_ignored() -> None:
    text = write([practice_row()]).replace("\r\n", ",,\r\n") + ",,,,,,,,\r\n"
    assert len(read_practices(text, "practices.csv")) == 1


def test_headers_are_forgiving_about_case_and_spaces() -> None:
    text = write([practice_row()]).replace("title_es", "Title ES", 1)
    [draft] = read_practices(text, "practices.csv")
    assert draft["title"]["es"] == "Wifi gratuito en parques"


def test_a_full_practice_row() -> None:
    row = practice_row(
        problem_es="Hogares sin conexión.",
        lessons_learned_en="Start with the busiest parks.",
        themes="connectivity; public space, TECH",
        sdgs="SDG 9.c; ODS 11.7; 11",
        keywords_es="wifi; parques",
        start_date="6/3/2014",
        end_date="2024-12-31",
        website="https://www.medellin.gov.co/",
        responsible_es="Alcaldía de Medellín",
        contact_name="Secretaría de Innovación Digital",
        contact_email="innovacion@medellin.example",
        spatial="Q48278",
        legal_basis="Ley 1712 de 2014 | 2014-03-06 | "
        "http://www.secretariasenado.gov.co/senado/basedoc/ley_1712_2014.html; Acuerdo 057 de 2022",
        illustrative="sí",
    )
    [draft] = read_practices(write([row]), "practices.csv")
    assert draft["type"] == "Project" and draft["status"] == STATUS + "ongoing"
    assert draft["themes"] == [
        THEME + "connectivity",
        THEME + "public-space",
        "http://publications.europa.eu/resource/authority/data-theme/TECH",
    ]
    assert draft["sdgs"] == [SDG + "9.c", SDG + "11.7", SDG + "11"]
    assert draft["startDate"] == "2014-03-06"
    assert draft["contactPoint"] == {
        "type": "Organization",
        "fn": "Secretaría de Innovación Digital",
        "hasEmail": "mailto:innovacion@medellin.example",
    }
    assert draft["spatial"] == "http://www.wikidata.org/entity/Q48278"
    assert draft["legalBasis"][0]["dateDocument"] == "2014-03-06"
    assert draft["legalBasis"][1] == {
        "type": "LegalResource",
        "title": {"es": "Acuerdo 057 de 2022"},
    }
    assert draft["illustrative"] is True
    assert_valid([draft])


# --- results -----------------------------------------------------------------------------


def result_rows() -> list[dict[str, str]]:
    first = {column: "" for column in RESULT_COLUMNS}
    first.update(
        result_slug="wifi-parques-uso",
        result_of="wifi-parques",
        status="ongoing",
        progress="40%",
        title_es="Uso del wifi",
        indicator_es="Parques conectados",
        value="12",
        unit="parques",
        period="2019-2021",
        role="línea base",
    )
    second = {column: "" for column in RESULT_COLUMNS}
    second.update(
        result_slug="wifi-parques-uso",
        indicator_es="Parques conectados",
        value="33",
        unit="parques",
        period="2023",
        role="meta",
        illustrative="yes",
    )
    return [first, second]


def test_results_group_rows_into_measurements() -> None:
    [draft] = read_results(write(result_rows()), "results.csv")
    assert draft["resultOf"] == "records/wifi-parques"
    assert draft["progress"] == 40
    assert draft["measurements"] == [
        {
            "type": "Measurement",
            "indicator": {"es": "Parques conectados"},
            "value": 12,
            "unit": "parques",
            "period": "2019/2021",
            "role": "baseline",
        },
        {
            "type": "Measurement",
            "indicator": {"es": "Parques conectados"},
            "value": 33,
            "unit": "parques",
            "period": "2023",
            "role": "target",
            "illustrative": True,
        },
    ]
    assert_valid([draft])


def test_results_conflicting_result_cells_and_missing_value() -> None:
    rows = result_rows()
    rows[1]["status"] = "completed"
    rows[1]["value"] = ""
    with pytest.raises(CsvImportError) as caught:
        read_results(write(rows), "results.csv")
    found = {(p.row, p.field) for p in caught.value.problems}
    assert found == {(3, "status"), (3, "value")}
    assert "differs from row 2" in str(caught.value)


def test_results_file_is_recognised_by_its_header(tmp_path: Path) -> None:
    path = tmp_path / "anything.csv"
    path.write_text(write(result_rows()), encoding="utf-8")
    assert read_csv_file(path)[0]["type"] == "Result"
    other = tmp_path / "other.csv"
    other.write_text("name,value\nx,1\n", encoding="utf-8")
    with pytest.raises(CsvImportError, match="neither a practices file"):
        read_csv_file(other)


# --- cell readers ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("cell", "iri"),
    [
        ("9.c", "9.c"),
        ("9.C", "9.c"),
        ("SDG 11.2", "11.2"),
        ("ods 4.4", "4.4"),
        ("Meta 16.10", "16.10"),
        ("11", "11"),
        ("SDG11", "11"),
        ("04.04", "4.4"),
        ("http://metadata.un.org/sdg/17.8", "17.8"),
    ],
)
def test_sdg_short_forms_expand(cell: str, iri: str) -> None:
    assert csv_terms.read_sdg(cell) == SDG + iri


@pytest.mark.parametrize("cell", ["18", "9.z", "17.a", "4.8", "SDG", "11-2"])
def test_sdg_that_does_not_exist(cell: str) -> None:
    with pytest.raises(csv_cells.CellError):
        csv_terms.read_sdg(cell)


def test_sdg_codes_are_the_un_list() -> None:
    files = sorted(Path(vocab.__file__).parent.glob("taxonomies/un-sdg-goals-targets*.ttl"))
    if not files:
        pytest.skip("vocab/taxonomies has no SDG goals and targets file")
    text = files[0].read_text("utf-8")
    listed = set(re.findall(r"^sdg:(\d+(?:\.\w+)?) a ", text, re.MULTILINE))
    assert set(csv_terms.SDG_CODES) == listed
    assert len(listed) == 17 + 169


@pytest.mark.parametrize(
    ("cell", "iri"),
    [
        ("connectivity", THEME + "connectivity"),
        ("Digital Skills", THEME + "digital-skills"),
        ("open_data", THEME + "open-data"),
        ("GOVE", "http://publications.europa.eu/resource/authority/data-theme/GOVE"),
        (THEME + "water", THEME + "water"),
        ("Conectividad", THEME + "connectivity"),
        ("inclusión digital", THEME + "digital-inclusion"),
        ("Dados abertos", THEME + "open-data"),
    ],
)
def test_theme_short_forms_expand(cell: str, iri: str) -> None:
    assert csv_terms.read_theme(cell) == iri


def test_unknown_theme_suggests_the_closest() -> None:
    with pytest.raises(csv_cells.CellError, match="did you mean 'connectivity'"):
        csv_terms.read_theme("conectivity")


@pytest.mark.parametrize(
    ("cell", "status"),
    [
        ("en curso", "ongoing"),
        ("En Curso", "ongoing"),
        ("planeado", "planned"),
        ("planificado", "planned"),
        ("completado", "completed"),
        ("terminado", "completed"),
        ("suspendido", "suspended"),
        ("descontinuado", "discontinued"),
        ("concluído", "completed"),
        ("discontinued", "discontinued"),
    ],
)
def test_status_words(cell: str, status: str) -> None:
    assert csv_terms.read_status(cell) == STATUS + status


@pytest.mark.parametrize(
    ("cell", "value"),
    [("13700", 13700), ("13 700", 13700), ("2,5", 2.5), ("2.5", 2.5), ("0.125", 0.125), ("-3", -3)],
)
def test_numbers(cell: str, value: float) -> None:
    assert csv_cells.read_number(cell) == value


@pytest.mark.parametrize("cell", ["13.700", "13,700", "13.700,5", "2%", "many"])
def test_ambiguous_or_bad_numbers(cell: str) -> None:
    with pytest.raises(csv_cells.CellError):
        csv_cells.read_number(cell)


@pytest.mark.parametrize(
    ("cell", "date"),
    [("2014-03-06", "2014-03-06"), ("6/3/2014", "2014-03-06"), ("24/08/2020", "2020-08-24")],
)
def test_dates(cell: str, date: str) -> None:
    assert csv_cells.read_date(cell) == date


@pytest.mark.parametrize("cell", ["2021-02-30", "3/24/2020", "2020", "marzo 2020"])
def test_bad_dates(cell: str) -> None:
    with pytest.raises(csv_cells.CellError):
        csv_cells.read_date(cell)


@pytest.mark.parametrize(
    ("cell", "period"),
    [
        ("2023", "2023"),
        ("2023-06", "2023-06"),
        ("2020-2023", "2020/2023"),
        ("2020 / 2023", "2020/2023"),
    ],
)
def test_periods(cell: str, period: str) -> None:
    assert csv_cells.read_period(cell) == period


@pytest.mark.parametrize("cell", ["2023-13", "2023-02-30", "2023/2020", "Q1 2023"])
def test_bad_periods(cell: str) -> None:
    with pytest.raises(csv_cells.CellError):
        csv_cells.read_period(cell)
