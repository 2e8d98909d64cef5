"""The dashboard end to end in Debian's chromium: upload, filter, drill into a chart, search, flag,
export, report; screenshots go to tests/e2e/screenshots/ (git-ignored)."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pandas as pd
import pytest

from tests.e2e.dashboard_server import (
    CHROMIUM,
    CHROMIUM_ARGS,
    SCREENSHOTS,
    require_browser,
    running_server,
)

pytestmark = pytest.mark.browser
N_COMMENTS = 400


@pytest.fixture(scope="module")
def browser():
    require_browser()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


def _value_box_number(page, title: str) -> int:
    box = page.locator(".bslib-value-box", has_text=title).first
    text = box.locator(".value-box-value").inner_text()
    return int(re.sub(r"[^\d]", "", text))


def _shot(page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"))


def test_upload_filter_drill_search_flag_and_export(browser, tmp_path):
    from carelens.feedback.synth import generate_comments

    export = tmp_path / "fft_export.csv"
    generate_comments(N_COMMENTS, seed=7).to_csv(export, index=False)
    db = tmp_path / "store.duckdb"
    with running_server(db, tmp_path) as url:
        page = browser.new_page(viewport={"width": 1400, "height": 1000}, accept_downloads=True)
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.set_default_timeout(30_000)
        page.goto(url)

        # an empty store says what to do
        page.get_by_text("No comments yet").wait_for()
        assert "carelens demo" in page.locator(".empty-store").first.inner_text()
        _shot(page, "01-empty-store")

        # upload: column mapping guessed, validation + classification, result shown
        page.get_by_role("tab", name="Upload", exact=True).click()
        page.locator("#up_file").set_input_files(str(export))
        page.get_by_role("button", name="Check and load comments").wait_for()
        assert page.locator("#map_comment_text").input_value() == "FFT answer"
        _shot(page, "02-upload-mapping")
        page.get_by_role("button", name="Check and load comments").click()
        result = page.locator(".alert-success", has_text="Comments loaded")
        result.wait_for(timeout=90_000)
        assert f"{N_COMMENTS:,} rows read" in result.inner_text()
        result.scroll_into_view_if_needed()
        _shot(page, "03-upload-done")

        # overview with charts
        page.get_by_role("tab", name="Overview", exact=True).click()
        page.locator("[data-chart=subcategories] .trace.bars").first.wait_for()
        page.wait_for_function(f"document.querySelector('.bslib-value-box .value-box-value')?.innerText.includes('{N_COMMENTS}')")
        assert _value_box_number(page, "Comments") == N_COMMENTS
        _shot(page, "04-overview")

        # filter by a division: the headline count drops
        page.locator("#f_loc_1-selectized").click()
        page.locator("#f_loc_1-selectized").fill("Surgery")
        page.keyboard.press("Enter")
        page.keyboard.press("Escape")
        page.wait_for_function(
            f"(() => {{ const v = document.querySelector('.bslib-value-box .value-box-value'); return v && !v.innerText.includes('{N_COMMENTS}'); }})()"
        )
        filtered = _value_box_number(page, "Comments")
        assert 0 < filtered < N_COMMENTS
        _shot(page, "05-filtered")

        # click a bar: the comments behind it open in a dialog
        bar = page.locator("[data-chart=subcategories] .trace.bars .point path").last
        box = bar.bounding_box()
        page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
        dialog = page.locator(".modal-dialog")
        dialog.wait_for()
        assert dialog.locator(".modal-title").inner_text().startswith("Comments:")
        assert dialog.locator("tr[data-comment-id]").count() > 0 or "Fewer than" in dialog.inner_text()
        _shot(page, "06-drill-through")
        page.get_by_role("button", name="Close").click()
        dialog.wait_for(state="hidden")

        # search: every word must appear, plurals matched, hits highlighted
        page.get_by_role("tab", name="Comments", exact=True).click()
        page.locator("#f_search").fill("phones")
        page.wait_for_function("document.querySelectorAll('.comment-table mark').length > 0")
        rows = page.locator(".comment-table tbody tr")
        assert rows.count() > 0
        for i in range(min(rows.count(), 10)):
            text = rows.nth(i).locator(".c-text").inner_text().lower()
            assert "phone" in text
            assert rows.nth(i).locator("mark").count() > 0
        _shot(page, "07-search")

        # flag one comment as interesting, correct another's topics
        first = rows.first
        key = first.get_attribute("data-comment-id")
        first.get_by_role("button", name=re.compile("interesting", re.IGNORECASE)).click()
        page.get_by_text("Marked as interesting").wait_for()
        page.locator(f"tr[data-comment-id='{key}'] .flag-note").wait_for()
        rows.nth(1).get_by_role("button", name=re.compile("Correct the topics", re.IGNORECASE)).click()
        page.get_by_role("button", name="Save correction").wait_for()
        _shot(page, "08-correct-topics")
        page.get_by_role("button", name="Save correction").click()
        page.get_by_text("Correction saved").wait_for()
        page.locator(".flag-note", has_text="topics corrected").first.wait_for()

        # export: the filtered comments, summaries and the report
        page.get_by_role("tab", name="Export and report", exact=True).click()
        count_text = page.locator("#ex_count .count").inner_text()
        selected = int(re.sub(r"[^\d]", "", count_text))
        with page.expect_download() as dl:
            page.get_by_role("link", name="Comments (CSV)").click()
        frame = pd.read_csv(dl.value.path(), encoding="utf-8-sig")
        assert len(frame) == selected > 0
        assert frame["comment (personal details removed)"].str.lower().str.contains("phone").all()
        assert set(frame["Division"]) == {"Surgery"}
        with page.expect_download() as dl:
            page.get_by_role("link", name="All summaries (Excel)").click()
        sheets = pd.read_excel(io.BytesIO(Path(dl.value.path()).read_bytes()), sheet_name=None)
        assert "Sub-categories" in sheets and "Filters" in sheets
        # the board report for everything: charts and verbatim comments
        page.get_by_role("button", name="Clear all filters").click()
        page.wait_for_function(f"document.querySelector('#ex_count .count')?.innerText.startsWith('{N_COMMENTS}')")
        with page.expect_download() as dl:
            page.get_by_role("link", name="Report (web page)").click()
        html = Path(dl.value.path()).read_text(encoding="utf-8")
        assert "Patient feedback report" in html and "<svg" in html and "<blockquote>" in html
        with page.expect_download() as dl:
            page.get_by_role("link", name="Report (PDF)").click()
        assert Path(dl.value.path()).read_bytes()[:5] == b"%PDF-"
        _shot(page, "09-export")

        # the framework page describes every sub-category with examples
        page.get_by_role("tab", name="Framework", exact=True).click()
        page.locator(".fw-category dt", has_text="Staff manner & personal attributes").wait_for()
        _shot(page, "10-framework")
        assert not errors, errors

    # after the server has let go of the DuckDB file: the flags are in the store
    from carelens.store.corrections import list_corrections
    from carelens.store.engine import get_engine

    kinds = list_corrections(get_engine(db))["kind"].tolist()
    assert kinds.count("interesting") == 1 and kinds.count("wrong_topics") == 1
