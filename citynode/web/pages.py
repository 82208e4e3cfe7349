"""Server-rendered HTML for a record: readable by people, with the signature facts shown.

Plain semantic HTML (landmarks, headings, a `lang` on every text in another language, no script),
in Spanish or English by `?lang=` or Accept-Language.
"""

from __future__ import annotations

from html import escape
from typing import Any

from aiohttp import web

import vocab
from citynode.origins import Origin
from protocol.records import pick_text

_WORDS = {
    "es": {
        "problem": "Problema",
        "approach": "Enfoque",
        "lessonsLearned": "Lecciones aprendidas",
        "transferability": "Transferibilidad",
        "description": "Descripción",
        "summary": "Resumen",
        "themes": "Temas",
        "sdgs": "Objetivos de Desarrollo Sostenible",
        "status": "Estado",
        "version": "Versión",
        "modified": "Actualizado",
        "publisher": "Publicado por",
        "signature": "Firma",
        "signed": "Firmado con",
        "verified": "verificada",
        "revoked": "REVOCADA: la clave fue revocada antes de esta firma",
        "unverified": "no verificada",
        "measurements": "Mediciones",
        "indicator": "Indicador",
        "value": "Valor",
        "period": "Periodo",
        "role": "Tipo",
        "resultOf": "Resultado de",
        "legalBasis": "Base legal",
        "illustrative": "Ejemplo ilustrativo: no es un registro oficial.",
        "withdrawn": "Registro retirado",
        "history": "Historial de versiones",
        "formats": "Otros formatos",
        "website": "Sitio web",
        "observed": "observado",
        "baseline": "línea base",
        "target": "meta",
        "progress": "Avance",
        "responsible": "Responsable",
    },
    "en": {
        "problem": "Problem",
        "approach": "Approach",
        "lessonsLearned": "Lessons learned",
        "transferability": "Transferability",
        "description": "Description",
        "summary": "Summary",
        "themes": "Themes",
        "sdgs": "Sustainable Development Goals",
        "status": "Status",
        "version": "Version",
        "modified": "Updated",
        "publisher": "Published by",
        "signature": "Signature",
        "signed": "Signed with",
        "verified": "verified",
        "revoked": "REVOKED: the key was revoked before this signature",
        "unverified": "not verified",
        "measurements": "Measurements",
        "indicator": "Indicator",
        "value": "Value",
        "period": "Period",
        "role": "Kind",
        "resultOf": "Result of",
        "legalBasis": "Legal basis",
        "illustrative": "Illustrative example: not an official record.",
        "withdrawn": "Record withdrawn",
        "history": "Version history",
        "formats": "Other formats",
        "website": "Website",
        "observed": "observed",
        "baseline": "baseline",
        "target": "target",
        "progress": "Progress",
        "responsible": "Responsible",
    },
}


def reader_language(request: web.Request) -> str:
    wanted = request.query.get("lang")
    if wanted in _WORDS:
        return wanted
    for part in request.headers.get("Accept-Language", "").split(","):
        tag = part.split(";")[0].strip().lower()[:2]
        if tag in _WORDS:
            return tag
    return "es"


def pick(text: Any, lang: str) -> tuple[str, str]:
    """(text, its language) from a language map, in the reader's language when it has it."""
    if not isinstance(text, dict) or not text:
        return "", lang
    found_lang, value = pick_text(text, lang)
    return str(value), found_lang


def _lang_span(text: Any, lang: str, tag: str = "p") -> str:
    value, value_lang = pick(text, lang)
    if not value:
        return ""
    lang_attr = f' lang="{value_lang}"' if value_lang != lang else ""
    return f"<{tag}{lang_attr}>{escape(value)}</{tag}>"


def _label(iri: str, lang: str) -> str:
    """The concept's label; its IRI when the bundled taxonomies lack it (a peer's newer theme)."""
    try:
        return vocab.label(iri, lang)
    except vocab.UnknownConcept:
        return iri


def _concepts(iris: list[str], lang: str) -> str:
    items = "".join(
        f'<li><a href="{escape(iri)}">{escape(_label(iri, lang))}</a></li>' for iri in iris
    )
    return f"<ul>{items}</ul>"


def record_page(
    document: dict[str, Any],
    origin: Origin | None,
    request: web.Request,
    signature: str = "verified",
) -> str:
    """The record as a page; `signature`: its status now (citynode/trust.py)."""
    lang = reader_language(request)
    words = _WORDS[lang]
    title, title_lang = pick(document.get("title"), lang)
    if document.get("type") == "Tombstone":
        title = f"{words['withdrawn']}: {document['id']}"
        title_lang = lang
    parts: list[str] = []
    if document.get("illustrative"):
        parts.append(f'<p role="note"><strong>{words["illustrative"]}</strong></p>')
    for field in (
        "summary",
        "description",
        "problem",
        "approach",
        "lessonsLearned",
        "transferability",
        "reason",
    ):
        if document.get(field):
            heading = words.get(field, field)
            parts.append(f"<h2>{escape(heading)}</h2>{_lang_span(document[field], lang)}")
    if document.get("responsible"):
        parts.append(f"<h2>{words['responsible']}</h2>{_lang_span(document['responsible'], lang)}")
    if document.get("resultOf"):
        target = escape(document["resultOf"])
        parts.append(f'<h2>{words["resultOf"]}</h2><p><a href="{target}">{target}</a></p>')
    if document.get("progress") is not None:
        parts.append(f"<h2>{words['progress']}</h2><p>{int(document['progress'])}%</p>")
    if document.get("measurements"):
        rows = "".join(
            "<tr><td>{}</td><td>{} {}</td><td>{}</td><td>{}</td></tr>".format(
                escape(pick(m.get("indicator"), lang)[0]),
                escape(str(m.get("value"))),
                escape(str(m.get("unit", ""))),
                escape(str(m.get("period", ""))),
                escape(words.get(str(m.get("role", "observed")), "")),
            )
            for m in document["measurements"]
        )
        parts.append(
            f"<h2>{words['measurements']}</h2><table><caption>{escape(title)}</caption><thead><tr>"
            f'<th scope="col">{words["indicator"]}</th><th scope="col">{words["value"]}</th>'
            f'<th scope="col">{words["period"]}</th><th scope="col">{words["role"]}</th></tr>'
            f"</thead><tbody>{rows}</tbody></table>"
        )
    if document.get("themes"):
        parts.append(f"<h2>{words['themes']}</h2>{_concepts(document['themes'], lang)}")
    if document.get("sdgs"):
        parts.append(f"<h2>{words['sdgs']}</h2>{_concepts(document['sdgs'], lang)}")
    if document.get("legalBasis"):
        items = "".join(
            _lang_span(item.get("title"), lang, "li") for item in document["legalBasis"]
        )
        parts.append(f"<h2>{words['legalBasis']}</h2><ul>{items}</ul>")
    if document.get("website"):
        site = escape(document["website"])
        parts.append(f'<h2>{words["website"]}</h2><p><a href="{site}">{site}</a></p>')
    proof = document.get("proof") or {}
    city = f"{origin.city} ({origin.country})" if origin else document.get("publisher", "")
    facts = (
        f"<dl><dt>{words['publisher']}</dt><dd>{escape(city)} — "
        f"<code>{escape(str(document.get('publisher', '')))}</code></dd>"
        f"<dt>{words['version']}</dt><dd>{int(document.get('version', 0))}</dd>"
        f'<dt>{words["modified"]}</dt><dd><time datetime="{escape(str(document.get("modified")))}">'
        f"{escape(str(document.get('modified')))}</time></dd>"
        f"<dt>{words['signature']}</dt><dd>{escape(str(proof.get('cryptosuite', '')))} — "
        f"{words['signed']} <code>{escape(str(proof.get('verificationMethod', '')))}</code> — "
        f'<strong class="signature-{escape(signature)}">{words.get(signature, signature)}'
        "</strong></dd>"
    )
    if document.get("status"):
        facts += f"<dt>{words['status']}</dt><dd>{escape(_label(document['status'], lang))}</dd>"
    facts += "</dl>"
    record_id = escape(document["id"])
    formats = (
        f'<p>{words["formats"]}: <a href="{record_id}?format=jsonld">JSON-LD</a> · '
        f'<a href="{record_id}?format=turtle">Turtle</a> · '
        f'<a href="{record_id}?format=nt">N-Triples</a> · '
        f'<a href="{record_id}/versions">{words["history"]}</a></p>'
    )
    title_attr = f' lang="{title_lang}"' if title_lang != lang else ""
    return (
        f'<!doctype html><html lang="{lang}"><head><meta charset="utf-8">'
        f'<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(title)} — citynode</title>"
        # A file, not an inline <style>: the CSP allows styles from the node only (browser.py).
        '<link rel="stylesheet" href="/static/citynode.css"></head>'
        f'<body><header><p><a href="/">citynode</a></p></header><main>'
        f"<h1{title_attr}>{escape(title)}</h1>{''.join(parts)}{facts}{formats}</main></body></html>"
    )
