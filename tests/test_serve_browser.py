"""The researcher's page in a real browser (Debian's headless Chromium driven by Playwright): YASGUI served from
the package (nothing from outside), the research queries as a gallery, a typed parameter checked and expanded, the
rows the store holds in a sortable table with a CSV download, a refusal shown on the page, parameter boxes cleared
between queries; a screenshot is taken."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page
from rdflib import URIRef

from reasoner.serve import Server
from reasoner.store.cohort import open_store, query
from reasoner.store.research import queries
from tests.test_serve import build_store, serving

MAX_ROWS = 25


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_store(tmp_path_factory.mktemp("browser"))


@pytest.fixture(scope="module")
def server(store: Path) -> Iterator[Server]:
    with serving(store, timeout=10, max_rows=MAX_ROWS, workers=1) as started:
        yield started


@pytest.fixture(scope="module")
def page(browser: Browser) -> Iterator[Page]:
    opened = browser.new_page(viewport={"width": 1400, "height": 1000}, accept_downloads=True)
    yield opened
    opened.close()


def run(page: Page) -> None:
    page.locator(".yasqe_queryButton").click()


def test_pick_a_research_query_type_its_parameter_and_see_its_rows(
    server: Server, store: Path, page: Page, tmp_path: Path
) -> None:
    urgent = queries()["urgent-advice"]
    with open_store(store, read_only=True) as opened:
        patient = str(query(opened, urgent.text).column("patient")[0])  # someone who was given urgent advice
        expected = query(opened, urgent.text, bindings={"patient": URIRef(patient)})
    assert 0 < len(expected) < MAX_ROWS

    outside: list[str] = []
    page.on("request", lambda r: outside.append(r.url) if not r.url.startswith(server.url) else None)
    page.goto(server.url)
    buttons = page.locator("#examples .example")
    buttons.first.wait_for()
    assert buttons.count() == len(queries())
    page.locator(f'#examples .example[data-name="{urgent.name}"]').click()
    editor = page.locator(".yasqe .CodeMirror").first
    assert "PREFIX gr: <https://w3id.org/guideline-reasoner/core#>" in editor.inner_text()
    assert urgent.question in page.locator("#about").inner_text()

    box = page.locator('#params input[data-param="patient"]')
    box.fill("nope:x")  # an unknown prefix: an error on the page, the box marked
    assert "unknown prefix nope:" in page.locator("#param-error").inner_text()
    assert "invalid" in (box.get_attribute("class") or "")
    box.fill(f"<{patient}>")
    assert page.locator("#param-error").inner_text() == ""
    run(page)
    rows = page.locator(".yasr table.dataTable tbody tr")
    rows.first.wait_for()
    assert rows.count() == len(expected)
    headers = [h.strip() for h in page.locator(".yasr table.dataTable thead th").all_inner_texts() if h.strip()]
    assert headers[-len(expected.variables) :] == list(expected.variables)
    assert str(expected.rows[0][2]) in page.locator(".yasr table.dataTable tbody").inner_text()

    with page.expect_download() as download:
        page.locator(".yasr_downloadIcon").click()
    saved = tmp_path / "rows.csv"
    download.value.save_as(saved)
    assert len(saved.read_text().strip().splitlines()) == len(expected) + 1

    shot = tmp_path / "page.png"
    page.screenshot(path=str(shot), full_page=True)
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 10_000
    assert outside == []

    page.locator('#examples .example[data-name="red-flag-prevalence"]').click()
    assert all(not v for v in page.locator("#params input").evaluate_all("els => els.map(e => e.value)"))


def test_an_answer_over_the_cap_and_a_refusal_are_shown_on_the_page(server: Server, page: Page) -> None:
    page.goto(server.url)
    page.locator("#examples .example").first.wait_for()
    page.evaluate("() => { yasgui.getTab().setQuery('SELECT * WHERE { ?s ?p ?o }'); }")
    run(page)
    page.locator(".yasr .errorResult").wait_for()
    assert f"more than {MAX_ROWS} rows" in page.locator(".yasr .errorResult").inner_text()
    page.evaluate(
        "() => { yasgui.getTab().setQuery('SELECT * WHERE { SERVICE <http://127.0.0.1:9/> { ?s ?p ?o } }'); }"
    )
    run(page)
    page.locator(".yasr .errorResult", has_text="SERVICE is refused").wait_for()
