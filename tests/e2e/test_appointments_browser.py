"""The missed-appointments page in Debian's chromium: the call list, recording a call, the card."""

from __future__ import annotations

# bypass_csp: Playwright's wait_for_function evaluates a string in the page, which the dashboard's
# Content Security Policy forbids (no 'unsafe-eval'); the policy itself is tested, with every page
# of every role, in test_access_browser.py.

import subprocess
import sys
from datetime import date, timedelta

import pytest

from tests.e2e.dashboard_server import (
    CHROMIUM,
    CHROMIUM_ARGS,
    SCREENSHOTS,
    require_browser,
    running_server,
    sign_in,
)

pytestmark = pytest.mark.browser


def test_staff_work_the_call_list_and_a_reached_patient_leaves_it(tmp_path):
    require_browser()
    from playwright.sync_api import sync_playwright

    from carelens.appointments.synth import generate_appointments

    yesterday = date.today() - timedelta(days=1)
    table = tmp_path / "appointments.csv"
    generate_appointments(3_000, seed=4, start=str(yesterday - timedelta(days=540)), end=str(yesterday), future_days=30).to_csv(table, index=False)
    db = tmp_path / "store.duckdb"
    cli = [sys.executable, "-m", "carelens.cli.app", "appointments"]
    subprocess.run([*cli, "train", str(table), "-o", str(tmp_path / "model"), "--valid", "4m"], check=True, capture_output=True)
    done = subprocess.run([*cli, "score", str(table), "--model", str(tmp_path / "model"), "--publish", "--db", str(db)],
                          check=True, capture_output=True, text=True)
    assert "published to the call list" in done.stdout

    with sync_playwright() as p, running_server(db, tmp_path) as url:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(bypass_csp=True, viewport={"width": 1400, "height": 1100})
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.set_default_timeout(30_000)
        sign_in(page, url, "caller")
        page.get_by_role("tab", name="Missed appointments", exact=True).click()
        rows = page.locator("#appointments-call_list tbody tr")
        rows.first.wait_for()
        before = rows.count()
        assert before > 0
        assert "Never use" in page.locator(".dna-intended-use").inner_text()
        first_patient = rows.first.locator("td").nth(6).inner_text()
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / "appointments-01-call-list.png"), full_page=True)

        # the first appointment in the picker is the top of the list
        page.locator("#appointments-call_outcome").select_option("reached_attending")
        page.locator("#appointments-call_note").fill("confirmed, needs transport")
        page.get_by_role("button", name="Record call").click()
        page.locator(".dna-call-result.alert-success").wait_for()
        page.locator("#appointments-calls tbody tr").first.wait_for()
        assert "confirmed, needs transport" in page.locator("#appointments-calls").inner_text()
        page.wait_for_function(f"document.querySelectorAll('#appointments-call_list tbody tr').length === {before - 1}")
        assert first_patient not in [rows.nth(i).locator("td").nth(6).inner_text() for i in range(rows.count())]
        assert "must not be used" in page.locator(".card", has_text="Model card").inner_text().lower()

        # "No answer" keeps the patient on the list, with the attempt counted.
        second_patient = rows.first.locator("td").nth(6).inner_text()
        page.locator("#appointments-call_outcome").select_option("no_answer")
        page.get_by_role("button", name="Record call").click()
        page.wait_for_function(
            "[...document.querySelectorAll('#appointments-call_list tbody tr')].some("
            f"r => r.cells[6].innerText === {second_patient!r} && r.cells[9].innerText === '1')"
        )
        assert rows.count() == before - 1

        # Fewer working days: a shorter list.
        page.locator("#appointments-days").fill("1")
        page.locator("#appointments-days").press("Tab")
        page.wait_for_function(f"document.querySelectorAll('#appointments-call_list tbody tr').length < {before - 1}")
        page.screenshot(path=str(SCREENSHOTS / "appointments-02-after-call.png"), full_page=True)
        browser.close()
        assert not errors
