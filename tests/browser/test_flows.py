"""What people do, in a real browser: search with the keyboard alone and open a practice; sign in,
publish through the form, find it in a search, edit it, withdraw it; approve a pending peer."""

from __future__ import annotations

import re
import time

from playwright.sync_api import Browser, Page, expect

from tests.browser.browser import context, sign_in
from tests.browser.demo_federation import Demo


def _tab_to(page: Page, selector: str, limit: int = 40) -> None:
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate("(s) => document.activeElement.matches(s)", selector):
            return
    raise AssertionError(f"Tab never reached {selector}")


def test_search_with_the_keyboard_alone_and_open_a_practice(browser: Browser, demo: Demo) -> None:
    made = context(browser)
    try:
        page = made.new_page()
        page.goto(f"{demo.url()}/en/")
        _tab_to(page, "#q")
        page.keyboard.type("digital skills")
        page.keyboard.press("Enter")
        page.wait_for_url(re.compile(r"/en/search\?q=digital\+skills"))
        expect(page.locator("#results-heading")).to_contain_text("result")
        _tab_to(page, "ol.hits .hit-title a")
        title = page.evaluate("document.activeElement.textContent")
        page.keyboard.press("Enter")
        page.wait_for_load_state()
        expect(page.locator("h1")).to_contain_text(title.strip())
        expect(page.locator(".badge").first).to_be_visible()
    finally:
        made.close()


def test_a_practice_shows_its_results_as_charts_and_tables(browser: Browser, demo: Demo) -> None:
    made = context(browser)
    try:
        page = made.new_page()
        page.goto(f"{demo.url()}/es/records/eva-escuela-virtual")
        chart = page.locator("figure.chart svg[role=img]").first
        expect(chart).to_be_visible()
        assert "13" in (chart.locator("desc").text_content() or "")
        expect(page.locator("table").first).to_contain_text("13.700")  # as Spanish writes it
        expect(page.locator("h2", has_text="Procedencia")).to_be_visible()
    finally:
        made.close()


def _search_titles(page: Page, base: str, words: str) -> list[str]:
    page.goto(f"{base}/es/search?q={words}")
    return page.locator("ol.hits .hit-title a").all_text_contents()


def test_sign_in_publish_find_edit_and_withdraw(browser: Browser, demo: Demo) -> None:
    made = context(browser)
    base = demo.url()
    stamp = str(int(time.time()))
    title = f"Huertas comunitarias en azoteas {stamp}"
    try:
        page = made.new_page()
        sign_in(page, base, demo.token, "es")
        page.click("text=Nueva práctica")
        page.select_option("#type", "Project")
        page.fill("#title_es", title)
        page.fill("#summary_es", "Vecinos cultivan alimentos en las azoteas de edificios públicos.")
        page.check("input[name=themes] >> nth=0")
        page.fill("#sdgs", "11.7")
        page.click("form[novalidate] button[type=submit]")
        page.wait_for_url(re.compile(r"/es/editor\?done="))
        expect(page.locator("[role=status]")).to_contain_text("Publicado y firmado")
        slug = page.url.split("done=")[1].split("&")[0]

        titles = _search_titles(page, base, f"huertas+azoteas+{stamp}")
        assert title in titles, titles

        page.goto(f"{base}/es/editor/records/{slug}")
        page.fill("#title_es", title + " (ampliado)")
        page.click("form[novalidate] button[type=submit]")
        page.wait_for_url(re.compile(r"what=updated"))
        page.goto(f"{base}/es/records/{slug}")
        expect(page.locator("h1")).to_contain_text("(ampliado)")
        expect(page.locator("table", has_text="Versión")).to_contain_text("Título")

        page.goto(f"{base}/es/editor/records/{slug}")
        page.fill("#reason", "Duplicado de otra práctica")
        page.click("button.danger")
        page.wait_for_url(re.compile(r"what=withdrawn"))
        assert title not in " ".join(_search_titles(page, base, f"huertas+azoteas+{stamp}"))
        response = page.goto(f"{base}/es/records/{slug}")
        assert response is not None and response.status == 410
        expect(page.locator("main")).to_contain_text("retiró")
    finally:
        made.close()


def test_form_errors_are_per_field_in_the_editors_language(browser: Browser, demo: Demo) -> None:
    made = context(browser)
    try:
        page = made.new_page()
        sign_in(page, demo.url(), demo.token, "pt")
        page.goto(f"{demo.url()}/pt/editor/new")
        page.fill("#website", "não é um endereço")
        page.click("form[novalidate] button[type=submit]")
        expect(page.locator("#title_es-error")).to_contain_text("pelo menos uma língua")
        expect(page.locator("#website-error")).to_contain_text("https://")
        assert page.get_attribute("#website", "aria-invalid") == "true"
        assert page.input_value("#website") == "não é um endereço"
    finally:
        made.close()


def test_a_form_without_its_csrf_token_is_refused(browser: Browser, demo: Demo) -> None:
    made = context(browser)
    try:
        page = made.new_page()
        sign_in(page, demo.url(), demo.token, "en")
        page.goto(f"{demo.url()}/en/editor/new")
        page.evaluate("document.querySelector('input[name=csrf]').value = 'forged-token-value-123'")
        page.fill("#title_es", "Should not be published")
        page.fill("#summary_es", "Never")
        page.click("form[novalidate] button[type=submit]")
        expect(page.locator("h1")).to_contain_text("could not be accepted")
    finally:
        made.close()


def test_the_session_cookie_is_http_only_and_strict(browser: Browser, demo: Demo) -> None:
    made = context(browser)
    try:
        page = made.new_page()
        sign_in(page, demo.url(), demo.token, "en")
        cookies = {c["name"]: c for c in made.cookies()}
        for name in ("cn_session", "cn_csrf"):
            assert cookies[name]["httpOnly"] is True
            assert cookies[name]["sameSite"] == "Strict"
        assert page.evaluate("document.cookie") == ""
    finally:
        made.close()


def test_the_operator_approves_a_pending_peer_from_the_page(browser: Browser, demo: Demo) -> None:
    made = context(browser)
    try:
        page = made.new_page()
        sign_in(page, demo.url(), demo.token, "en")
        page.goto(f"{demo.url()}/en/operator")
        row = page.locator("tr", has_text="Montevideo")
        expect(row).to_contain_text("waiting for your approval")
        row.get_by_role("button", name=re.compile("^Approve")).click()
        expect(page.locator("[role=status]")).to_contain_text("Approved Montevideo")
        expect(page.locator("tr", has_text="Montevideo")).not_to_contain_text("waiting")
    finally:
        made.close()


def test_a_csv_upload_publishes_and_reports_each_record(browser: Browser, demo: Demo) -> None:
    stamp = str(int(time.time()))
    rows = "".join(
        f"csv-{stamp}-{n},Project,ongoing,Práctica {n} {stamp},Resumen de la práctica {n}\n"
        for n in range(30)
    )
    data = ("slug,type,status,title_es,summary_es\n" + rows).encode()
    made = context(browser)
    try:
        page = made.new_page()
        sign_in(page, demo.url(), demo.token, "es")
        page.goto(f"{demo.url()}/es/editor/import")
        page.set_input_files(
            "#file", files=[{"name": "practicas.csv", "mimeType": "text/csv", "buffer": data}]
        )
        page.click("form button[type=submit]")
        page.wait_for_url(re.compile(r"/es/editor/imports/"))
        # The progress script reloads the page when publishing ends; without it, "check again".
        expect(page.locator(".state-ok")).to_contain_text("30 registros publicados", timeout=30_000)
        expect(page.locator("table tbody tr")).to_have_count(30)
        expect(page.locator("table")).to_contain_text("creado")
    finally:
        made.close()
