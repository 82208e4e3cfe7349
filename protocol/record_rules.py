"""The rules a record must keep to be published, beyond its structure.

The Structs (protocol/records.py) check that every value has the right shape; these rules check
what needs the vocabulary or more than one field: an indicator the scheme knows and a unit that
converts to its canonical unit, an ISO 4217 currency, concepts of the bundled schemes, marks
that name real fields, no record that is part of or adapted from itself, dates in order.

They run on the JSON form of an already well-formed record, when this node publishes. A record
from a peer is not held to them (`protocol.readable`): a newer node may use an indicator or a
currency code this node's vocabulary does not have yet, and the signed record must still reach
everyone. Each broken rule is one `InvalidRecord` naming the record, the field path and the rule.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, Final

import vocab
from protocol import langtags, ucum
from protocol.errors import InvalidRecord

#: Terms whose value is a language map (text by BCP 47 tag).
LANGUAGE_MAPS: Final = frozenset(
    {
        "title", "summary", "description", "problem", "approach", "lessonsLearned",
        "transferability", "responsible", "keywords", "reason", "name", "contribution",
        "covers", "who", "changes", "alt", "indicator",
    }
)  # fmt: skip
#: Fields that are never marked: identity, structure and the marks themselves.
_UNMARKABLE: Final = frozenset(
    {"@context", "id", "type", "version", "previousVersion", "issued", "modified", "publisher",
     "proof", "illustrative", "editorial", "license", "conformsTo"}
)  # fmt: skip
#: Concept fields and the bundled scheme their IRI must come from.
_SCHEMES: Final = {
    "status": "https://w3id.org/citynode/status",
    "stage": "https://w3id.org/citynode/stage",
    "governmentLevel": "https://w3id.org/citynode/government-level",
    "scale": "https://w3id.org/citynode/scale",
}
_KINDS: Final = {
    "funders": "organisation-kind",
    "partners": "organisation-kind",
    "creator": "organisation-kind",
    "evidence": "evidence-kind",
    "media": "media-kind",
    "costs": "cost-kind",
}
_IMAGE: Final = "https://w3id.org/citynode/media-kind#image"


class _Broken(Exception):
    def __init__(self, path: str, rule: str, words: str) -> None:
        self.path, self.rule, self.words = path, rule, words


def check_rules(document: dict[str, Any]) -> None:
    """Raise `InvalidRecord` for the first rule the record breaks (see the module docstring)."""
    record_id = document.get("id") if isinstance(document.get("id"), str) else None
    try:
        _check(document, record_id)
    except _Broken as broken:
        field = broken.path.split(".")[-1].split("[")[0]
        who = f"record {record_id}" if record_id else "the record"
        raise InvalidRecord(
            f"{who}: '{broken.path}' {broken.words}",
            record=record_id,
            field=field,
            path=broken.path,
            rule=broken.rule,
        ) from None


def _objects(node: Any, path: str = "") -> Iterator[tuple[str, str, dict[str, Any]]]:
    """(path, parent key, object) of every JSON object in the record, the record first."""
    if isinstance(node, dict):
        yield path, path.split(".")[-1].split("[")[0], node
        for key, value in node.items():
            if key in LANGUAGE_MAPS or key == "proof":
                continue
            child = f"{path}.{key}" if path else key
            if isinstance(value, dict):
                yield from _objects(value, child)
            elif isinstance(value, list):
                for index, item in enumerate(value):
                    yield from _objects(item, f"{child}[{index}]")


def _check(document: dict[str, Any], record_id: str | None) -> None:
    for path, parent, obj in _objects(document):
        where = f"{path}." if path else ""
        _languages(obj, where)
        _marks(obj, where)
        _concepts(obj, where, parent)
        kind = obj.get("type")
        if kind == "Measurement":
            _measurement(obj, where)
        elif kind == "MonetaryAmount":
            _currency(obj, where)
        elif kind == "Place":
            _place(obj, where)
        elif kind == "Evidence" and not (obj.get("title") or obj.get("url")):
            raise _Broken(path, "evidence-named", "needs a title or a url")
        elif kind == "MediaObject" and obj.get("kind") == _IMAGE and not obj.get("alt"):
            raise _Broken(
                f"{where}alt",
                "image-alt",
                "is required for an image: describe the picture in words for people who "
                "cannot see it",
            )
    _self_links(document, record_id)
    _dates(document)


def _languages(obj: dict[str, Any], where: str) -> None:
    for key in LANGUAGE_MAPS.intersection(obj):
        value = obj[key]
        if isinstance(value, dict) and (twice := langtags.duplicates(value)):
            raise _Broken(
                f"{where}{key}",
                "one-text-per-language",
                f"has the language {twice[0]!r} twice (tags ignore case: pt-BR and pt-br are "
                "one language)",
            )


def _marks(obj: dict[str, Any], where: str) -> None:
    for name in obj.get("editorial", ()):
        if name not in LANGUAGE_MAPS or name not in obj:
            raise _Broken(
                f"{where}editorial",
                "editorial-names-text",
                f"names {name!r}, which is not a text field of this object; list the text "
                "fields (summary, problem...) that someone other than the publishing city wrote",
            )
    marked = obj.get("illustrative")
    if isinstance(marked, list):
        for name in marked:
            if name in _UNMARKABLE or name not in obj:
                raise _Broken(
                    f"{where}illustrative",
                    "illustrative-names-field",
                    f"names {name!r}, which is not a field of this object that has a value; "
                    "list the fields (period, status, responsible...) that no source gives",
                )


def _known(iri: str, scheme: str) -> bool:
    found = vocab.concepts().get(iri)
    return found is not None and found.scheme == scheme


def _concepts(obj: dict[str, Any], where: str, parent: str) -> None:
    for key, scheme in _SCHEMES.items():
        value = obj.get(key)
        if isinstance(value, str) and not _known(value, scheme):
            raise _Broken(
                f"{where}{key}",
                "known-concept",
                f"is {value}, which is not a concept of {scheme} "
                f"(the list is served at /vocab/schemes/{scheme.rsplit('/', 1)[-1]})",
            )
    kind = obj.get("kind")
    name = _KINDS.get(parent)
    if isinstance(kind, str) and name is not None:
        scheme = f"https://w3id.org/citynode/{name}"
        if not _known(kind, scheme):
            raise _Broken(
                f"{where}kind",
                "known-concept",
                f"is {kind}, which is not a concept of {scheme} "
                f"(the list is served at /vocab/schemes/{name})",
            )


def _measurement(obj: dict[str, Any], where: str) -> None:
    path = where.rstrip(".")
    if not obj.get("indicator") and not obj.get("measures"):
        raise _Broken(
            f"{where}measures",
            "indicator-named",
            "or 'indicator' is required: name what is measured, by its indicator IRI "
            "(measures) or in words (indicator)",
        )
    if not obj.get("unit") and not obj.get("unitCode"):
        raise _Broken(
            f"{where}unitCode",
            "unit-named",
            "or 'unit' is required: give the UCUM code ({person}, %) or the unit in words",
        )
    code = obj.get("unitCode")
    if isinstance(code, str):
        try:
            ucum.parse(code)
        except ucum.UnitError as exc:
            raise _Broken(f"{where}unitCode", "ucum", f"is not a unit: {exc.message}") from None
    measures = obj.get("measures")
    if not isinstance(measures, str):
        return
    indicator = vocab.concepts().get(measures)
    if indicator is None or indicator.scheme != vocab.INDICATOR_SCHEME or not indicator.unit:
        raise _Broken(
            f"{where}measures",
            "known-indicator",
            f"is {measures}, which is not an indicator of the citynode scheme (the list is "
            "served at /api/indicators and /vocab/schemes/indicators)",
        )
    if not isinstance(code, str):
        raise _Broken(
            f"{where}unitCode",
            "indicator-unit",
            f"is required with 'measures': the UCUM unit of the value, such as "
            f"{indicator.unit} (the indicator's canonical unit)",
        )
    try:
        ucum.factor(code, indicator.unit)
    except ucum.UnitError:
        raise _Broken(
            f"{where}unitCode",
            "unit-converts",
            f"is {code}, which does not convert to {indicator.unit}, the unit of "
            f"{measures.rsplit('#', 1)[-1]} (in {path})",
        ) from None


def _currency(obj: dict[str, Any], where: str) -> None:
    code = obj.get("currency")
    if isinstance(code, str) and code not in vocab.currencies():
        raise _Broken(
            f"{where}currency",
            "iso-4217",
            f"is {code!r}, which is not an ISO 4217 currency code (COP, EUR, UYU, USD...)",
        )


def _place(obj: dict[str, Any], where: str) -> None:
    path = where.rstrip(".")
    if not obj.get("name") and not obj.get("sameAs"):
        raise _Broken(path, "place-named", "needs a name or a gazetteer address (sameAs)")
    if ("latitude" in obj) != ("longitude" in obj):
        raise _Broken(path, "point", "needs both latitude and longitude, or neither")


def _self_links(document: dict[str, Any], record_id: str | None) -> None:
    if record_id is None:
        return
    for key in ("partOf", "hasPart"):
        if record_id in document.get(key, ()):
            raise _Broken(key, "not-part-of-itself", "names the record itself")
    for index, item in enumerate(document.get("adaptedFrom", ())):
        if isinstance(item, dict) and item.get("practice") == record_id:
            raise _Broken(
                f"adaptedFrom[{index}].practice",
                "not-adapted-from-itself",
                "is the record itself: adaptedFrom names the practice (usually another city's) "
                "this one was adapted from",
            )


def _dates(document: dict[str, Any]) -> None:
    start, end = document.get("startDate"), document.get("endDate")
    # A partial date covers a span: "2021" runs to 2021-12-31. The start must not begin after the
    # end has finished.
    if isinstance(start, str) and isinstance(end, str) and start[: len(end)] > end:
        raise _Broken("startDate", "start-before-end", f"({start}) is after endDate ({end})")
