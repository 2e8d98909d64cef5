"""A two-question FFT return through the upload form, and a correction that shows everywhere and can
be undone, in Debian's chromium (issue 12, "Done when"); the Overview's table reaches each
sub-category's comments from the keyboard."""

from __future__ import annotations

import re

import pandas as pd
import pytest

from tests.e2e.dashboard_server import (
    CHROMIUM,
    CHROMIUM_ARGS,
    pick_option,
    require_browser,
    running_server,
    sign_in,
    wait_until,
)

pytestmark = pytest.mark.browser
# topics most generated comments carry: the Overview shows their counts (never under the privacy limit)
COMMON_TOPICS = ["Staff manner & personal attributes", "Positive experience & gratitude", "Organisation & efficiency"]


@pytest.fixture(scope="module")
def browser():
    require_browser()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


def _count(page, selector: str) -> int:
    return int(re.sub(r"[^\d]", "", page.locator(selector).first.inner_text().split()[0]))


def test_two_questions_upload_and_a_correction_shows_everywhere_then_undoes(browser, tmp_path):
    from carelens.feedback.synth import BETTER_QUESTION, GOOD_QUESTION, generate_returns

    returns = generate_returns(150, seed=3)
    path = tmp_path / "fft returns.csv"
    returns.to_csv(path, index=False)
    answers = int((returns[[GOOD_QUESTION, BETTER_QUESTION]] != "").sum(axis=1).clip(lower=1).sum())
    with running_server(tmp_path / "store.duckdb", tmp_path) as url:
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        sign_in(page, url, "admin")  # every page needs a signed-in user (issue 16)
        page.set_default_timeout(90_000)
        page.goto(url)
        page.get_by_role("tab", name="Upload", exact=True).click()
        page.locator("#upload-file").set_input_files(str(path))
        page.get_by_role("button", name="Check and load comments").wait_for()
        chosen = page.evaluate("Array.from(document.querySelector('#upload-map_text').selectedOptions).map(o => o.value)")
        for question in (GOOD_QUESTION, BETTER_QUESTION):  # tick both questions (guessed or not)
            if question not in chosen:
                pick_option(page, "upload-map_text", question)
        page.get_by_role("button", name="Check and load comments").click()
        done = page.locator(".alert-success", has_text="Comments loaded")
        done.wait_for()
        assert f"{answers:,} comments added ({len(returns):,} new responses)" in done.inner_text()

        # the Comments page: correct the first comment's topics to one common topic it does not have
        page.get_by_role("tab", name="Comments", exact=True).click()
        first = page.locator(".comment-table tbody tr").first
        first.wait_for()
        key = first.get_attribute("data-comment-id")
        had = first.locator(".c-topics").inner_text()
        topic = next(t for t in COMMON_TOPICS if t not in had)
        first.get_by_role("button", name=re.compile("Correct the topics", re.IGNORECASE)).click()
        topics = page.locator("#feedback-correct_topics-selectized")
        topics.wait_for()
        for _ in range(8):  # remove the model's topics
            topics.press("Backspace")
        pick_option(page, "feedback-correct_topics", topic)
        page.get_by_role("button", name="Save correction").click()
        row = page.locator(f"tr[data-comment-id='{key}']")
        row.locator(".flag-note", has_text="topics corrected").wait_for()
        assert row.locator(".c-topics").inner_text().strip() == topic

        # everywhere: the topic's filter lists it, the Overview counts it under the topic
        pick_option(page, "filters-topic", topic)
        wait_until(page, "parseInt(document.querySelector('#comments-table .count').innerText.replace(/,/g, ''))"
                               f" < {answers}")
        page.locator(f".comment-table tr[data-comment-id='{key}']").wait_for()
        in_topic = _count(page, "#comments-table .count")
        page.get_by_role("tab", name="Overview", exact=True).click()
        table = page.locator(".summary-table")
        table.wait_for()
        in_topic_row = table.locator("tbody tr", has=page.locator("th", has_text=topic)).first
        assert in_topic_row.locator("td").nth(1).inner_text().replace(",", "") == str(in_topic)

        # the keyboard reaches the topic's comments from the table
        in_topic_row.get_by_role("button", name=f"Read the comments about {topic}").focus()
        page.keyboard.press("Enter")
        dialog = page.locator(".modal-dialog")
        dialog.locator(f"tr[data-comment-id='{key}']").wait_for()
        dialog.get_by_role("button", name="Close").click()
        dialog.wait_for(state="hidden")

        # undo: the comment leaves the topic's list and shows the model's topics again
        page.get_by_role("tab", name="Comments", exact=True).click()
        page.locator(f"tr[data-comment-id='{key}']").get_by_role(
            "button", name=re.compile("Correct the topics", re.IGNORECASE)).click()
        page.get_by_role("button", name="Undo the last correction").click()
        page.get_by_text("Correction undone").last.wait_for()
        page.locator(f".comment-table tr[data-comment-id='{key}']").wait_for(state="detached")
        assert _count(page, "#comments-table .count") == in_topic - 1
        page.close()
