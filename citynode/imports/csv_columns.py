"""The columns of the practices and results CSV templates (docs/csv-template.md): which exist,
in which order, which are written once per language and which a file must have.

The import (`csv_records`) and the export (`citynode/exports.py`) read them from here.
"""

from __future__ import annotations

from typing import Final

from citynode.imports.csv_table import LONG, SHORT
from protocol.records import LANGUAGES

# Text columns written once per language (`title_es`, `title_en`, `title_pt`): column base ->
# (record term, length limit).
PRACTICE_TEXTS: Final = {
    "title": ("title", SHORT),
    "summary": ("summary", LONG),
    "description": ("description", LONG),
    "problem": ("problem", LONG),
    "approach": ("approach", LONG),
    "lessons_learned": ("lessonsLearned", LONG),
    "transferability": ("transferability", LONG),
    "responsible": ("responsible", SHORT),
}
RESULT_TEXTS: Final = {
    "title": ("title", SHORT),
    "summary": ("summary", LONG),
    "description": ("description", LONG),
}
MEASUREMENT_TEXTS: Final = {"indicator": ("indicator", SHORT)}


def _per_language(*bases: str) -> list[str]:
    return [f"{base}_{lang}" for base in bases for lang in LANGUAGES]


#: The columns of each template, in the order the shipped templates use. Any subset in any order
#: is accepted as long as the required columns are there.
PRACTICE_COLUMNS: Final = [
    "slug",
    "type",
    "status",
    *_per_language("title", "summary", "problem", "approach", "lessons_learned"),
    *_per_language("transferability", "description"),
    "themes",
    "sdgs",
    *_per_language("keywords"),
    "start_date",
    "end_date",
    "website",
    *_per_language("responsible"),
    "contact_name",
    "contact_email",
    "contact_url",
    "spatial",
    "legal_basis",
    "illustrative",
    # Version 1.1 of the vocabulary. Nested fields (funders... media) take a JSON list, as the
    # export writes them; funders, partners and adapted_from also take a short form.
    "license",
    "stage",
    "government_level",
    "scale",
    "part_of",
    "has_part",
    "editorial",
    "adapted_from",
    "funders",
    "partners",
    "costs",
    "beneficiaries",
    "areas",
    "evidence",
    "media",
]
RESULT_GROUP_COLUMNS: Final = [
    "result_slug",
    "result_of",
    "status",
    "progress",
    *_per_language("title", "summary", "description"),
    "result_period",
    "license",
    "part_of",
    "has_part",
    "evidence",
    "media",
    "result_editorial",
    "result_illustrative",
]
MEASUREMENT_COLUMNS: Final = [
    *_per_language("indicator"),
    "measures",
    "value",
    "unit",
    "unit_code",
    "period",
    "role",
    "source",
    "illustrative",
    "editorial",
]
RESULT_COLUMNS: Final = RESULT_GROUP_COLUMNS + MEASUREMENT_COLUMNS
#: The columns a file of each template must have (`title_*`: in at least one language).
REQUIRED: Final = {
    "practices": ("slug", "type", "status", "title_*", "summary_*"),
    "results": ("result_slug", "result_of", "status", "title_*"),
}
#: The column bases written once per language.
LANGUAGE_BASES: Final = {*PRACTICE_TEXTS, *RESULT_TEXTS, *MEASUREMENT_TEXTS, "keywords"}
