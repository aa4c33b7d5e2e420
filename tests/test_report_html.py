"""The HTML report rendered in headless Chromium (Debian's /usr/bin/chromium through Playwright): a screenshot is
taken and the page is checked against the Recommendations object it came from."""

from __future__ import annotations

import re
from pathlib import Path

from click.testing import CliRunner
from playwright.sync_api import Browser, Page

import reasoner
from reasoner.cli import main
from tests.conftest import SEED


def _open(browser: Browser, html: str, path: Path) -> tuple[Page, list[str]]:
    path.write_text(html, encoding="utf-8")
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    requests: list[str] = []
    page.on("request", lambda r: requests.append(r.url))
    page.goto(path.as_uri())
    return page, requests


def _links(rec_sources: list[reasoner.output.result.SourceRef]) -> set[str]:
    return {f"https://doi.org/{s.doi}" if s.doi else s.url for s in rec_sources if s.doi or s.url}  # type: ignore[misc]


def test_clinician_report_renders_with_every_element(
    browser: Browser, seed_result: reasoner.Recommendations, tmp_path: Path
) -> None:
    result = seed_result
    page, requests = _open(browser, result.to_html(), tmp_path / "report.html")
    shot = page.screenshot(full_page=True, path=str(tmp_path / "report.png"))
    assert shot[:8] == b"\x89PNG\r\n\x1a\n" and len(shot) > 50_000
    assert requests == [(tmp_path / "report.html").as_uri()]  # self-contained: nothing else is fetched

    assert page.inner_text("h1#headline") == result.headline
    articles = page.query_selector_all("article.rec")
    assert [a.get_attribute("data-identifier") for a in articles] == [r.identifier for r in _in_section_order(result)]
    for rec in result.recommendations:
        article = page.locator(f'article[data-identifier="{rec.identifier}"]')
        assert rec.label in article.locator("h3").inner_text()
        svg = article.locator("details.why svg")
        box = svg.bounding_box()
        assert box is not None and box["width"] > 400 and box["height"] > 60  # the picture is drawn
        nodes = svg.locator("g.node")
        # facts, inferred classes, the recommendation, one statement and one source per evidence statement
        assert nodes.count() == max(1, len(rec.because)) + len(rec.via) + 1 + 2 * len(rec.sources)
        titles = [t.text_content() or "" for t in svg.locator("g.node > title").all()]
        assert all(any(f.label in t for t in titles) for f in rec.because)
        assert all(any(s.label in t for t in titles) for s in rec.sources)
        grades = [g for g in (s.strength or s.quality or s.rating for s in rec.sources) if g]
        assert all(any(g in t for t in titles) for g in grades)

    cited = {link for r in result.recommendations for link in _links(r.sources)}
    hrefs = {a.get_attribute("href") for a in page.locator("#references a").all()}
    assert hrefs == cited and cited
    numbered = page.locator("#references li").count()
    assert numbered == len({s.iri for r in result.recommendations for s in r.sources})

    missing = page.locator("#missing")
    assert missing.evaluate("e => getComputedStyle(e).backgroundColor") != "rgba(0, 0, 0, 0)"
    for m in result.missing:
        assert m.label in missing.inner_text()
    unknown_boxes = page.locator('article[data-identifier="LBP-ASSESS-03"] g.node.unknown')
    assert unknown_boxes.count() == len(
        [f for f in result.by_identifier()["LBP-ASSESS-03"].because if "unknown" in f.label]
    )
    for s in result.suppressed:
        item = page.locator(f'#suppressed li[data-identifier="{s.identifier}"]').inner_text()
        assert s.label in item and all(label in item for label in s.by_labels)
    page.close()


def test_patient_report_is_plain_and_renders(
    browser: Browser, seed_result: reasoner.Recommendations, tmp_path: Path
) -> None:
    from reasoner.output.report import patient_headline

    page, _ = _open(browser, seed_result.to_html(audience="patient"), tmp_path / "patient.html")
    assert len(page.screenshot(full_page=True)) > 20_000
    assert page.inner_text("h1#headline") == patient_headline(seed_result)
    text = page.inner_text("body")
    assert (
        not re.search(r"LBP-[A-Z]+-\d", text)
        and "Grade:" not in text
        and "unverified" not in text
        and "Condition:" not in text
    )
    shown = [r for r in seed_result.recommendations if r.patient_label]
    assert page.locator("article.rec").count() == len(shown)
    assert all(str(r.patient_label) in text for r in shown)
    page.close()


def test_html_format_on_the_command_line_is_one_self_contained_file() -> None:
    out = CliRunner().invoke(main, ["recommend", str(SEED), "--format", "html"])
    assert out.exit_code == 0, out.output
    html = out.output
    assert html.startswith("<!DOCTYPE html>") and html.rstrip().endswith("</html>")
    assert not re.search(r"<script|<link|<img|<iframe|\bsrc=|@import|url\(\s*['\"]?http", html)


def _in_section_order(result: reasoner.Recommendations) -> list[reasoner.output.result.AppliedRecommendation]:
    return [r for s in result.wording.sections for r in result.recommendations if r.kind in s.kinds]
