"""Comment text is shown as text in Debian's chromium: a comment (or a ward name) holding markup is
uploaded, previewed, listed and drilled into, and no element or script of it ever reaches the page."""

from __future__ import annotations

# bypass_csp: Playwright's wait_for_function evaluates a string in the page, which the dashboard's
# Content Security Policy forbids (no 'unsafe-eval'); the policy itself is tested, with every page
# of every role, in test_access_browser.py.

import pandas as pd
import pytest

from tests.e2e.dashboard_server import CHROMIUM, CHROMIUM_ARGS, SCREENSHOTS, require_browser, running_server, sign_in

pytestmark = pytest.mark.browser

XSS = "<img src=x onerror=alert(1)>"
SCRIPT = "<script>window.pwned=1</script>"


def test_a_comment_holding_markup_is_shown_as_text_everywhere(tmp_path):
    require_browser()
    from playwright.sync_api import sync_playwright

    rows = [{"Comment ID": f"C-{i}", "Date": "03/02/2025", "Ward": "Ward 9", "FFT score": "1",
             "Comment": f"The nurses were kind and the food was good, visit {i}"} for i in range(12)]
    rows[0]["Comment"] = f"Staff were lovely {XSS} and {SCRIPT} thanks"
    rows[1]["Ward"] = f"Ward {XSS}"
    export = tmp_path / "export.csv"
    pd.DataFrame(rows).to_csv(export, index=False)

    with sync_playwright() as p, running_server(tmp_path / "store.duckdb", tmp_path) as url:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(bypass_csp=True, viewport={"width": 1400, "height": 1000})
        dialogs: list[str] = []
        errors: list[str] = []
        page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.set_default_timeout(60_000)
        sign_in(page, url, "admin")

        # the upload preview shows the file's cells as typed
        page.get_by_role("tab", name="Upload", exact=True).click()
        page.locator("#upload-file").set_input_files(str(export))
        preview = page.locator("#upload-mapping table.preview")
        preview.wait_for()
        assert XSS in preview.inner_text() and SCRIPT in preview.inner_text()
        assert preview.locator("img, script").count() == 0
        page.get_by_role("button", name="Check and load comments").click()
        page.locator(".alert-success", has_text="Comments loaded").wait_for(timeout=90_000)

        # the comment list: the comment's words, markup included, as text; its ward too
        page.get_by_role("tab", name="Comments", exact=True).click()
        page.locator("#filters-search").fill("lovely")
        row = page.locator(".comment-table tbody tr")
        page.wait_for_function("document.querySelectorAll('.comment-table tbody tr').length === 1")
        text = row.locator(".c-text").inner_text()
        assert XSS in text and SCRIPT in text
        assert page.locator(".comment-table img, .comment-table script").count() == 0
        page.locator("#filters-search").fill("")
        page.locator(".comment-table .c-meta", has_text=XSS).wait_for()

        # the comments behind a chart element, in the drill-through dialog
        page.get_by_role("tab", name="Overview", exact=True).click()
        page.locator("[data-chart=subcategories] .trace.bars").first.wait_for()
        page.locator("[data-chart=fft_time]").scroll_into_view_if_needed()  # drawn when in view
        page.locator("[data-chart=fft_time] .trace.bars").first.wait_for()
        bar = page.locator("[data-chart=fft_time] .trace.bars .point path").first
        bar.scroll_into_view_if_needed()
        box = bar.bounding_box()
        page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
        dialog = page.locator(".modal-dialog")
        dialog.locator("tr[data-comment-id]").first.wait_for()
        assert XSS in dialog.inner_text() and dialog.locator("img, script").count() == 0
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / "escaping-01-drill-through.png"))

        assert page.evaluate("() => window.pwned === undefined")
        assert not dialogs, dialogs
        assert not errors, errors
        browser.close()
