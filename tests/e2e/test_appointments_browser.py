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


def _column(page, name: str) -> int:
    """Index of a call-list column by its header (columns appear when there is something to show)."""
    return page.evaluate(f"[...document.querySelectorAll('#appointments-call_list thead th')].findIndex(th => th.innerText === {name!r})")


def test_staff_work_the_call_list_and_a_reached_patient_leaves_it(tmp_path):
    require_browser()
    import pandas as pd
    from playwright.sync_api import sync_playwright

    from carelens.appointments.synth import generate_appointments

    yesterday = date.today() - timedelta(days=1)
    table = tmp_path / "appointments.csv"
    raw = generate_appointments(3_000, seed=4, start=str(yesterday - timedelta(days=540)), end=str(yesterday), future_days=30)
    raw.assign(phone=["07700 9" + str(i % 99_999).zfill(5) for i in range(len(raw))]).to_csv(table, index=False)
    db = tmp_path / "store.duckdb"
    cli = [sys.executable, "-m", "carelens.cli.app", "appointments"]
    subprocess.run([*cli, "train", str(table), "-o", str(tmp_path / "model"), "--valid", "4m"], check=True, capture_output=True)
    done = subprocess.run([*cli, "score", str(table), "--model", str(tmp_path / "model"), "--publish", "--db", str(db),
                           "--contact-column", "phone"], check=True, capture_output=True, text=True)
    assert "published to the call list" in done.stdout

    with sync_playwright() as p, running_server(db, tmp_path) as url:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(bypass_csp=True, viewport={"width": 1400, "height": 1100}, accept_downloads=True)
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
        patient, attempts, contact = _column(page, "Patient"), _column(page, "Earlier attempts"), _column(page, "Contact")
        first_patient = rows.first.locator("td").nth(patient).inner_text()
        assert rows.first.locator("td").nth(contact).inner_text().startswith("phone: 07700 9")
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / "appointments-01-call-list.png"), full_page=True)

        # Each row has its own call control: the top patient, reached.
        top = rows.first
        top.locator(".dna-outcome").select_option("reached_attending")
        top.locator(".dna-note").fill("confirmed, needs transport")
        top.get_by_role("button", name="Record").click()
        page.locator(".dna-call-result.alert-success").wait_for()
        assert first_patient in page.locator(".dna-call-result").inner_text()
        page.locator("#appointments-calls tbody tr").first.wait_for()
        assert "confirmed, needs transport" in page.locator("#appointments-calls").inner_text()
        page.wait_for_function(f"document.querySelectorAll('#appointments-call_list tbody tr').length === {before - 1}")
        assert first_patient not in [rows.nth(i).locator("td").nth(patient).inner_text() for i in range(rows.count())]
        assert "must not be used" in page.locator(".card", has_text="Model card").inner_text().lower()

        # Recorded by mistake: Undo brings the patient back, and the call stays on record as undone.
        page.locator(".dna-call-result").get_by_role("button", name="Undo").click()
        page.wait_for_function(f"document.querySelectorAll('#appointments-call_list tbody tr').length === {before}")
        assert "(undone)" in page.locator("#appointments-calls").inner_text()
        page.locator(".dna-call-result.alert-info").wait_for()

        # "No answer" keeps the patient on the list, with the attempt counted.
        second_patient = rows.first.locator("td").nth(patient).inner_text()
        rows.first.locator(".dna-outcome").select_option("no_answer")
        rows.first.get_by_role("button", name="Record").click()
        page.wait_for_function(
            "[...document.querySelectorAll('#appointments-call_list tbody tr')].some("
            f"r => r.cells[{patient}].innerText === {second_patient!r} && r.cells[{attempts}].innerText === '1')"
        )
        assert rows.count() == before

        # The day's list downloads with contact details, and prints without the controls.
        with page.expect_download() as download:
            page.get_by_role("link", name="Download CSV").click()
        exported = pd.read_csv(download.value.path())
        assert len(exported) == before and exported.columns[-1] == "Contact: phone"
        page.emulate_media(media="print")
        assert page.locator("#appointments-call_list").is_visible() and not page.locator(".dna-record-control").first.is_visible()
        page.emulate_media(media="screen")

        # Why "High" starts where it does.
        page.locator(".dna-band-note summary").click()
        assert "High risk:" in page.locator(".dna-band-note").inner_text()

        # A quota by age band: no group is left out of the list.
        page.locator("#appointments-quota").select_option("age band")
        page.wait_for_function(f"document.querySelectorAll('#appointments-call_list tbody tr').length > {before}")

        # Fewer working days: a shorter list.
        page.locator("#appointments-quota").select_option("")
        page.locator("#appointments-days").fill("1")
        page.locator("#appointments-days").press("Tab")
        page.wait_for_function(f"document.querySelectorAll('#appointments-call_list tbody tr').length < {before}")
        page.screenshot(path=str(SCREENSHOTS / "appointments-02-after-call.png"), full_page=True)
        browser.close()
        assert not errors
