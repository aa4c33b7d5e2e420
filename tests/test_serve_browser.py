"""The query page in a real browser (Debian's headless Chromium driven by Playwright): it lists the research
queries, loads one with a click, takes a typed parameter, runs it and shows the rows the store holds; a row cap is
flagged on the page; a screenshot is taken."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page
from rdflib import URIRef

from reasoner.serve import Server, Settings, make_server
from reasoner.store.cohort import open_store, query
from reasoner.store.research import queries
from tests.test_serve import build_store, serving

MAX_ROWS = 25


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_store(tmp_path_factory.mktemp("browser"))


@pytest.fixture(scope="module")
def server(store: Path) -> Iterator[Server]:
    with serving(make_server(store, settings=Settings(timeout=10, max_rows=MAX_ROWS, workers=1))) as started:
        yield started


@pytest.fixture(scope="module")
def page(browser: Browser) -> Iterator[Page]:
    opened = browser.new_page(viewport={"width": 1400, "height": 900})
    yield opened
    opened.close()


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
    assert page.locator("#query").input_value() == urgent.text
    assert urgent.question in page.locator("#about").inner_text()
    page.locator('#params input[data-param="patient"]').fill(f"<{patient}>")
    page.locator("#run").click()
    page.locator("#status", has_text="rows in").wait_for()
    headers = page.locator("#table thead th").all_inner_texts()
    assert headers == [f"?{v}" for v in expected.variables]
    rows = page.locator("#table tbody tr")
    assert rows.count() == len(expected)
    identifiers = rows.locator("td:nth-child(3)").all_inner_texts()
    assert identifiers == [str(r["identifier"]) for r in expected]
    assert page.locator(".flag").count() == 0

    shot = tmp_path / "page.png"
    page.screenshot(path=str(shot), full_page=True)
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 10_000
    assert outside == []


def test_the_row_cap_and_refusals_are_shown_on_the_page(server: Server, page: Page) -> None:
    page.goto(server.url)
    page.locator("#query").fill("SELECT * WHERE { GRAPH ?g { ?s ?p ?o } }")
    page.locator("#run").click()
    page.locator(".flag.truncated").wait_for()
    assert f"only the first {MAX_ROWS} rows" in page.locator(".flag.truncated").inner_text()
    assert page.locator("#table tbody tr").count() == MAX_ROWS

    page.locator("#query").fill("SELECT * WHERE { SERVICE <http://127.0.0.1:9/> { ?s ?p ?o } }")
    page.locator("#run").click()
    page.locator(".flag.error").wait_for()
    assert "SERVICE is refused" in page.locator(".flag.error").inner_text()
    assert page.locator("#table").count() == 0
