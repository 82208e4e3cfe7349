"""Pages and vocabulary 1.1, without a browser: every field of a practice on its page (with its
marks, in every UI language), the relay path, the editor's new fields and their per-field errors,
edits that keep what the form does not show, the operator's tokens, the compare page through the
indicator service, a bad facet value, and the vocabulary as pages.

(The browser tests in tests/browser/ check the same pages with axe and a real browser.)
"""

from __future__ import annotations

import html
import re
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp

from tests.drafts import CN, full_practice, practice, result
from tests.federation_support import FAST, current, follow, publish, wait_for
from tests.support import RunningNode, request_json

Factory = Callable[..., Awaitable[RunningNode]]
HTML = {"Accept": "text/html"}


async def page(url: str, **headers: str) -> tuple[int, str]:
    async with (
        aiohttp.ClientSession() as session,
        session.get(url, headers={**HTML, **headers}) as resp,
    ):
        return resp.status, await resp.text()


def words(text: str) -> str:
    """The page's visible text, tags out and spaces collapsed."""
    text = re.sub(r"<(script|style|svg)\b.*?</\1>", " ", text, flags=re.S)
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", text)).split())


def field_errors(text: str) -> dict[str, str]:
    return {
        name: html.unescape(message)
        for name, message in re.findall(r'class="error-text" id="([^"]+)-error">([^<]+)', text)
    }


class Editor:
    """A browser-like session signed in on a node's editor page."""

    def __init__(self, node: RunningNode, session: aiohttp.ClientSession, csrf: str) -> None:
        self.node, self.session, self.csrf = node, session, csrf

    async def post(self, path: str, data: Any) -> tuple[int, str, str]:
        if isinstance(data, dict):
            data = {"csrf": self.csrf, **data}
        async with self.session.post(f"{self.node.url}{path}", data=data, headers=HTML) as resp:
            return resp.status, await resp.text(), str(resp.url)

    async def get(self, path: str) -> tuple[int, str]:
        async with self.session.get(f"{self.node.url}{path}", headers=HTML) as resp:
            return resp.status, await resp.text()


async def signed_in(node: RunningNode, session: aiohttp.ClientSession, token: str) -> Editor:
    async with session.get(f"{node.url}/en/editor", headers=HTML) as resp:
        csrf = resp.cookies["cn_csrf"].value
    editor = Editor(node, session, csrf)
    status, _, _ = await editor.post("/en/editor/sign-in", {"token": token})
    assert status == 200
    return editor


def posted_back(text: str) -> aiohttp.FormData:
    """The form of an editor page as a browser would send it unchanged."""
    form = re.search(r'<form method="post" action="[^"]*" novalidate>(.*?)</form>', text, re.S)
    assert form is not None
    body = form.group(1)
    data = aiohttp.FormData()
    for attrs in re.findall(r"<input\b([^>]*)>", body):
        name = re.search(r'name="([^"]+)"', attrs)
        if not name or ('type="checkbox"' in attrs and " checked" not in attrs):
            continue
        value = re.search(r'value="([^"]*)"', attrs)
        data.add_field(name.group(1), html.unescape(value.group(1)) if value else "")
    for name, options in re.findall(
        r'<select id="[^"]*" name="([^"]+)"[^>]*>(.*?)</select>', body, re.S
    ):
        chosen = re.search(r'<option value="([^"]*)" selected', options)
        first = re.search(r'<option value="([^"]*)"', options)
        value = chosen or first
        data.add_field(name, html.unescape(value.group(1)) if value else "")
    for name, text_value in re.findall(
        r'<textarea id="[^"]*" name="([^"]+)"[^>]*>(.*?)</textarea>', body, re.S
    ):
        data.add_field(name, html.unescape(text_value))
    return data


async def test_a_practice_page_shows_every_field_of_vocabulary_1_1(medellin: RunningNode) -> None:
    base = medellin.url
    await publish(medellin, practice("eva"))
    full = full_practice(
        "alfa",
        approach={"fr": "Des ateliers dans chaque bibliothèque de quartier."},
        partOf=[f"{base}/records/eva"],
    )
    await publish(medellin, full)
    status, text = await page(f"{base}/es/records/alfa")
    assert status == 200
    shown = words(text)
    for expected in (
        "Ampliada",  # stage, in Spanish
        "Local",  # level of government
        "Ciudad",  # scale
        "1.200.000.000",  # the budget, as Spanish writes money
        "COP",
        "Formadores y equipos",
        "Banco Interamericano de Desarrollo",
        "Multilateral",
        "Universidad de Antioquia",
        "Diseño de los contenidos",
        "Personas mayores de 60 años",
        "4.500",
        "marzo de 2022",  # a year-month date in words
        "junio de 2023",
        "Comuna 1 Popular",
        "Evaluación de resultados 2022",
        "Observatorio de Políticas Públicas",
        "Taller en la biblioteca",
        "Personas mayores frente a computadores en una biblioteca",  # the image's text alternative
        "Parte de",
    ):
        assert expected in shown, expected
    # Registries and gazetteers are links; so is the evidence and the media.
    for href in (
        "https://www.wikidata.org/entity/Q1327141",
        "https://ror.org/03bp5hc83",
        "https://www.wikidata.org/entity/Q5151404",
        "https://example.org/evaluacion-2022.pdf",
        "https://example.org/taller.jpg",
        "/es/records/eva",
    ):
        assert f'href="{href}"' in text, href
    # A text in a language the page is not in carries its lang attribute (WCAG 3.1.2).
    assert '<span lang="fr">Des ateliers dans chaque bibliothèque de quartier.</span>' in text
    # Marks beside what they mark: the problem is editorial, the start date and the reach's
    # count illustrative, the partner's contribution editorial; and each kind is explained.
    problem = re.search(r"<h2>Problema(.*?)</h2>", text, re.S)
    assert problem and "mark editorial" in problem.group(1)
    start = re.search(r"<dt>Inicio</dt><dd>(.*?)</dd>", text, re.S)
    assert start and "mark illustrative" in start.group(1)
    assert re.search(r"4\.500 personas</strong> <span class=\"mark illustrative\">", text)
    assert re.search(r"Diseño de los contenidos <span class=\"mark editorial\">", text)
    assert 'class="note illustrative"' in text and "editoriales" in shown
    # The other languages: the same fields in their words.
    _, english = await page(f"{base}/en/records/alfa")
    assert "Scaled" in words(english) and "COP1,200,000,000" in words(english)
    _, portuguese = await page(f"{base}/pt/records/alfa")
    assert "Financiadores e parceiros" in words(portuguese)
    assert "1.200.000.000" in words(portuguese)


async def test_texts_fall_back_through_the_readers_languages(medellin: RunningNode) -> None:
    """Issue 9 item 3: a page in Portuguese shows a text the record lacks in Portuguese in the
    reader's next language (Accept-Language), else in any language the record has."""
    summary = {"es": "Talleres en bibliotecas.", "fr": "Ateliers dans les bibliothèques."}
    await publish(medellin, practice("ateliers", summary=summary))
    _, text = await page(f"{medellin.url}/pt/records/ateliers", **{"Accept-Language": "fr, pt"})
    assert '<span lang="fr">Ateliers dans les bibliothèques.</span>' in text
    _, text = await page(f"{medellin.url}/pt/records/ateliers")
    assert '<span lang="es">Talleres en bibliotecas.</span>' in text


async def test_adaptations_show_on_both_sides_and_the_relay_path_is_named(
    node_factory: Factory,
) -> None:
    """A -> B -> C: C holds A's practice through B. A practice of C adapted from A's shows on
    A's page once it reaches A; C's copy of A's practice says it came through B."""
    a = await node_factory("Medellín", **FAST)
    b = await node_factory("Lisboa", **FAST)
    c = await node_factory("Montevideo", **FAST)
    await follow(b, a)
    await follow(c, b)
    await follow(b, c)
    await follow(a, b)
    origin = f"{a.url}/records/wifi"
    await publish(a, practice("wifi"))
    await wait_for(lambda: _held(c, origin), what="A's practice at C through B")
    changes = {"es": "Con puntos en bibliotecas"}
    await publish(
        c,
        practice(
            "wifi-bibliotecas",
            adaptedFrom=[{"type": "Adaptation", "practice": origin, "changes": changes}],
        ),
    )
    adapted = f"{c.url}/records/wifi-bibliotecas"
    await wait_for(lambda: _held(a, adapted), what="C's adaptation at A")

    async def listed() -> bool:
        _, text = await page(f"{a.url}/es/records/wifi")
        return "Con puntos en bibliotecas" in text

    await wait_for(listed, what="the adaptation on the origin's page")
    _, text = await page(f"{a.url}/en/records/wifi")
    section = re.search(r"Adapted from this practice elsewhere</h2>(.*?)</section>", text, re.S)
    assert section and "Montevideo" in section.group(1) and "wifi-bibliotecas" in section.group(1)
    _, text = await page(f"{c.url}/en/records/wifi-bibliotecas")
    section = re.search(r"<h2>Adapted from</h2>(.*?)</section>", text, re.S)
    assert section and "Medellín" in section.group(1)

    # The path: at C, A's record came from B's feed; at B, straight from A.
    _, at_c = await page(f"{c.url}/en/practice?id={origin}")
    path = re.search(r"How it reached this node</dt><dd>(.*?)</dd>", at_c, re.S)
    assert path and "relayed by Lisboa" in words(path.group(1)), words(path.group(1))
    _, at_b = await page(f"{b.url}/en/practice?id={origin}")
    path = re.search(r"How it reached this node</dt><dd>(.*?)</dd>", at_b, re.S)
    assert path and "from the origin city's own node" in words(path.group(1))
    _, at_a = await page(f"{a.url}/es/records/wifi")
    assert "publicado aquí" in at_a


async def _held(node: RunningNode, record_id: str) -> bool:
    return await current(node, record_id) is not None


async def test_the_editor_takes_the_new_fields_and_names_each_problem_in_its_language(
    medellin: RunningNode,
) -> None:
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as session:
        editor = await signed_in(medellin, session, medellin.token)
        form = {
            "type": "Programme",
            "status": "ongoing",
            "title_es": "Alfabetización en bibliotecas",
            "summary_es": "Talleres.",
            "stage": CN + "stage#pilot",
            "governmentLevel": CN + "government-level#local",
            "scale": CN + "scale#district",
            "startDate": "2021-13",
            "cost_rows": "1",
            "cost0_kind": CN + "cost-kind#budget",
            "cost0_value": "1500000",
            "cost0_currency": "ZZZ",
            "funder_rows": "1",
            "funder0_name_es": "BID",
            "funder0_kind": CN + "organisation-kind#multilateral",
            "funder0_sameAs": "https://www.wikidata.org/entity/Q1327141",
            "partner_rows": "1",
            "partner0_kind": CN + "organisation-kind#academic",
            "area_rows": "1",
            "area0_name_es": "Comuna 1",
            "area0_latitude": "95",
            "area0_longitude": "-75.5",
            "evidence_rows": "1",
            "evidence0_kind": CN + "evidence-kind#audit",
            "evidence0_url": "not a link",
            "adapted_practice": "https://lisboa.example/records/wifi",
            "adapted_changes_es": "En bibliotecas",
        }
        status, text, _ = await editor.post("/es/editor/new", form)
        assert status == 422
        assert field_errors(text) == {
            "startDate": "Escriba un año (2021), un mes (2021-05) o una fecha (2021-05-31).",
            "partner0_name_es": "Complete esto o deje toda la fila vacía.",
            "area0_latitude": "Escriba una latitud entre -90 y 90, por ejemplo 6.2442.",
            "evidence0_url": "Escriba una dirección web que empiece por https:// o http://.",
        }
        assert 'id="startDate"' in text and 'aria-describedby="startDate-error' in text
        # What the form reads passes; the publisher's own rule (ISO 4217) comes back on its
        # field, in Portuguese for a Portuguese editor.
        form.update(
            startDate="2021-05",
            partner0_name_es="Universidad de Antioquia",
            area0_latitude="6.29",
            evidence0_url="https://example.org/auditoria.pdf",
        )
        status, text, _ = await editor.post("/pt/editor/new", form)
        assert status == 422
        assert field_errors(text) == {
            "cost0_currency": "Isto não é um código de moeda ISO 4217; escreva um como COP, EUR "
            "ou USD."
        }
        form["cost0_currency"] = "cop"
        status, _, url = await editor.post("/es/editor/new", form)
        assert status == 200 and "done=alfabetizacion-en-bibliotecas" in url
    _, record, _ = await request_json(
        "GET",
        f"{medellin.url}/records/alfabetizacion-en-bibliotecas",
        headers={"Accept": "application/json"},
    )
    assert record["stage"] == CN + "stage#pilot" and record["startDate"] == "2021-05"
    assert record["costs"][0]["currency"] == "COP" and record["costs"][0]["value"] == 1500000
    assert record["funders"][0]["sameAs"] == "https://www.wikidata.org/entity/Q1327141"
    assert record["areas"][0]["latitude"] == 6.29
    assert record["adaptedFrom"] == [
        {
            "type": "Adaptation",
            "practice": "https://lisboa.example/records/wifi",
            "changes": {"es": "En bibliotecas"},
        }
    ]


async def test_saving_the_edit_form_unchanged_keeps_every_field(medellin: RunningNode) -> None:
    """Fields and nested terms the form does not lay out (media, legal basis, an evidence's
    creator, marks) survive an edit: the same form sent back changes nothing."""
    await publish(
        medellin,
        full_practice(
            "alfa",
            legalBasis=[{"type": "LegalResource", "title": {"es": "Acuerdo 1 de 2020"}}],
        ),
    )
    await publish(
        medellin,
        result(
            "alfa-resultados",
            "alfa",
            measurements=[
                {
                    "type": "Measurement",
                    "measures": CN + "indicator#people-trained",
                    "value": 900,
                    "unitCode": "{person}",
                    "period": "2022",
                    "role": "observed",
                }
            ],
        ),
    )
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as session:
        editor = await signed_in(medellin, session, medellin.token)
        for slug in ("alfa", "alfa-resultados"):
            status, text = await editor.get(f"/es/editor/records/{slug}")
            assert status == 200
            status, saved, url = await editor.post(f"/es/editor/records/{slug}", posted_back(text))
            problems = (field_errors(saved), re.findall(r'<p lang="en">([^<]+)', saved))
            assert status == 200 and f"done={slug}&what=unchanged" in url, (slug, problems)


async def test_the_operator_creates_a_token_shown_once_and_revokes_it(
    medellin: RunningNode,
) -> None:
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as session:
        operator = await signed_in(medellin, session, medellin.token)
        status, text, _ = await operator.post(
            "/es/operator/tokens", {"action": "create", "label": "Secretaría", "valid": "30"}
        )
        assert status == 200
        token = re.search(r'id="new-token" readonly value="([^"]+)"', text)
        assert token and token.group(1).startswith("cn_")
        assert "solo esta vez" in text
        status, again = await operator.get("/es/operator")
        assert token.group(1) not in again  # shown once
        token_id = token.group(1).split("_")[1]
        assert f"<code>{token_id}</code>" in again
        # The new token signs in and publishes.
        async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as other:
            await signed_in(medellin, other, token.group(1))
        headers = {"Authorization": f"Bearer {token.group(1)}"}
        status, _, _ = await request_json(
            "POST", f"{medellin.url}/api/records", json=[practice("x")], headers=headers
        )
        assert status == 201
        # A form without the CSRF token is refused; with it, the token is revoked.
        async with session.post(
            f"{medellin.url}/es/operator/tokens",
            data={"action": "revoke", "token": token_id},
            headers=HTML,
        ) as resp:
            assert resp.status == 403
        status, text, _ = await operator.post(
            "/es/operator/tokens", {"action": "revoke", "token": token_id}
        )
        assert status == 200 and f"Token {token_id} revocado" in text
        status, _, _ = await request_json(
            "POST", f"{medellin.url}/api/records", json=[practice("y")], headers=headers
        )
        assert status == 401
        status, text, _ = await operator.post(
            "/es/operator/tokens", {"action": "create", "label": " ", "valid": "30"}
        )
        assert status == 422 and "Diga para quién es el token" in text


async def test_an_unknown_facet_value_is_a_400_page_in_the_readers_language(
    medellin: RunningNode,
) -> None:
    await publish(medellin, practice("wifi"))
    status, text = await page(f"{medellin.url}/pt/search?q=wifi&theme=colours")
    assert status == 400
    shown = words(text)
    assert "O filtro «Tema» não tem o valor «colours»." in shown
    assert "Conectividade" in shown  # a valid value, by its label, as a link
    assert 'href="/pt/search?q=wifi&amp;theme=connectivity"' in text
    status, text = await page(f"{medellin.url}/es/search?year=nineteen")
    assert status == 400 and "Escriba el año con cuatro cifras" in text
    # An API client keeps the JSON error, which names the value and the valid ones.
    status, body, _ = await request_json("GET", f"{medellin.url}/search?theme=colours")
    assert status == 400 and body["detail"]["value"] == "colours" and body["detail"]["valid"]


async def test_the_compare_page_is_the_indicator_service(node_factory: Factory) -> None:
    a = await node_factory("Medellín", **FAST)
    await publish(a, practice("eva"))
    await publish(
        a,
        result(
            "eva-resultados",
            "eva",
            measurements=[
                {
                    "type": "Measurement",
                    "measures": CN + "indicator#people-trained",
                    "value": 1.5,
                    "unitCode": "10*3.{person}",
                    "unit": "mil personas",
                    "period": "2023",
                    "role": "observed",
                }
            ],
        ),
    )
    status, data, _ = await request_json(
        "GET", f"{a.url}/compare?indicator=people-trained&format=json"
    )
    _, api, _ = await request_json("GET", f"{a.url}/api/indicators/people-trained/compare")
    assert status == 200 and data["comparison"] == api
    point = api["cities"][0]["observed"][0]
    assert point["value"] == 1500 and point["reportedUnit"] == "10*3.{person}"
    status, text = await page(f"{a.url}/es/compare?indicator=people-trained")
    assert status == 200
    row = re.search(r"<tr><th scope=\"row\">Medellín</th>(.*?)</tr>", text, re.S)
    assert row and "1.500" in row.group(1) and "10*3.{person}" in row.group(1)
    assert 'href="/es/records/eva-resultados"' in row.group(1)
    status, text = await page(f"{a.url}/es/compare?indicator=no-such-thing")
    assert status == 404 and "No hay ningún indicador «no-such-thing»" in text


async def test_the_vocabulary_is_a_page_for_people_and_data_for_machines(
    medellin: RunningNode,
) -> None:
    status, text = await page(f"{medellin.url}/es/vocab/ontology")
    assert status == 200 and 'id="term-adaptedFrom"' in text and '<html lang="es">' in text
    status, text = await page(f"{medellin.url}/pt/vocab/schemes/indicators")
    assert status == 200 and "{person}" in text and "17.6.1" in text
    status, body, headers = await request_json("GET", f"{medellin.url}/vocab/ontology")
    assert status == 200 and headers["Content-Type"].startswith("text/turtle")
    status, body, headers = await request_json("GET", f"{medellin.url}/vocab/schemes/stage")
    assert status == 200 and body["name"] == "stage"
