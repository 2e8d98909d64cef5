"""The Compare places page in Debian's chromium (issue 12): a ward built into the data to get worse in
the last month shows as a Making Data Count concern in the signals table and on its control chart;
a chart point and a table row (by mouse and by keyboard) open that ward's comments; "This month vs
last" names the ward as a change beyond chance. Screenshots of the page go to docs/images/ when
``CARELENS_DOC_SHOTS`` is set (docs/dashboard.md shows them), else to tests/e2e/screenshots/."""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd
import pytest

from tests.e2e.dashboard_server import CHROMIUM, CHROMIUM_ARGS, SCREENSHOTS, require_browser, running_server, sign_in, wait_until

pytestmark = pytest.mark.browser
WARD = "Ward 10"
DOC_SHOTS = Path(__file__).parents[2] / "docs" / "images"


@pytest.fixture(scope="module")
def browser():
    require_browser()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


def _shot(page, name: str, locator=None) -> None:
    folder = DOC_SHOTS if os.environ.get("CARELENS_DOC_SHOTS") else SCREENSHOTS
    folder.mkdir(parents=True, exist_ok=True)
    (locator or page).screenshot(path=str(folder / f"{name}.png"))


def _returns() -> pd.DataFrame:
    from carelens.feedback.synth import generate_returns

    return generate_returns(4800, seed=11, months=12, worse={WARD: 11})


@pytest.fixture(scope="module")
def store(tmp_path_factory) -> Path:
    """A store with a year of two-question returns in which Ward 10 turns poor in the last month."""
    from carelens.db import get_engine
    from carelens.feedback.ingest import load_comments
    from carelens.feedback.model_cache import cached_model

    db = tmp_path_factory.mktemp("compare") / "store.duckdb"
    engine = get_engine(db)
    load_comments(_returns(), engine=engine, model=cached_model(), progress=False)
    engine.dispose()
    return db


def test_a_ward_getting_worse_is_flagged_charted_and_opens_its_comments(browser, store, tmp_path):
    with running_server(store, tmp_path) as url:
        page = browser.new_page(viewport={"width": 1400, "height": 1100})
        sign_in(page, url, "admin")  # every page needs a signed-in user (issue 16)
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.set_default_timeout(60_000)
        page.goto(url)
        page.get_by_role("tab", name="Compare places", exact=True).click()

        # the signals table: the ward first, a concern outside the limits
        table = page.locator("#compare-signals table.signals-table")
        table.wait_for()
        first = table.locator("tbody tr").first
        assert first.locator("th").inner_text() == WARD
        assert "Special cause: concern" in first.inner_text() and "outside the limits" in first.inner_text()
        _shot(page, "compare-signals", page.locator(".card", has=table))

        # keyboard: Tab to the row's "Read comments" button and press Enter
        button = first.get_by_role("button", name=f"Read the comments of {WARD}, 2025-12")
        button.focus()
        page.keyboard.press("Enter")
        dialog = page.locator(".modal-dialog")
        dialog.wait_for()
        assert dialog.locator(".modal-title").inner_text() == f"Comments: {WARD}, 1 to 31 December 2025"
        dialog.locator("tr[data-comment-id]").first.wait_for()
        assert dialog.locator("tr[data-comment-id]").count() > 5
        # every comment behind the row, as a spreadsheet
        behind = int(dialog.locator(".count").inner_text().split()[0].replace(",", ""))
        with page.expect_download() as dl:
            dialog.get_by_role("link", name="Download these comments (CSV)").click()
        frame = pd.read_csv(dl.value.path(), encoding="utf-8-sig")
        assert len(frame) == behind and set(frame["Ward / team"]) == {WARD}
        assert set(pd.to_datetime(frame["date"]).dt.strftime("%Y-%m")) == {"2025-12"}
        dialog.get_by_role("button", name="Close").click()
        dialog.wait_for(state="hidden")

        # the ward's control chart: the last point is a concern; clicking it opens the same comments
        page.locator("#compare-place").select_option(WARD)
        verdict = page.locator("#compare-verdict .spc-verdict")
        verdict.wait_for()
        wait_until(page, "document.querySelector('#compare-verdict').innerText.includes('Ward 10, 2025-12')")
        assert "Special cause: concern" in verdict.inner_text()
        assert "provisional" in page.locator("#compare-verdict").inner_text()  # 12 points
        chart = page.locator("[data-chart=spc]")
        chart.locator(".scatterlayer .trace").last.locator(".points path").last.wait_for()
        _shot(page, "compare-control-chart", page.locator(".card", has=chart))
        point = chart.locator(".scatterlayer .trace").last.locator(".points path").last
        box = point.bounding_box()
        page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
        dialog.wait_for()
        assert dialog.locator(".modal-title").inner_text() == f"Comments: {WARD}, 1 to 31 December 2025"
        page.get_by_role("button", name="Close").click()
        dialog.wait_for(state="hidden")

        # this month against last: the ward's fall is more than chance
        page.get_by_role("button", name="This month vs last").click()
        change = page.locator("#compare-change table.change-table")
        change.wait_for()
        wait_until(page, "document.querySelector('#compare-change').innerText.includes('1 to 31 December 2025 "
                               "against 1 to 30 November 2025')")
        row = change.locator("tbody tr").first  # the biggest fall first
        assert row.locator("th").inner_text() == WARD and "Yes" in row.inner_text() and "-" in row.locator("td").nth(2).inner_text()
        _shot(page, "compare-this-month-vs-last", page.locator(".card", has=change))
        funnel = page.locator("[data-chart=funnel]")
        funnel.scroll_into_view_if_needed()
        funnel.locator(".scatterlayer .trace .points path").first.wait_for()
        _shot(page, "compare-funnel", page.locator(".card", has=funnel))
        assert not errors, errors
        page.close()


def _selected(page, input_id: str) -> list[str]:
    return page.evaluate(f"Array.from(document.querySelector('#{input_id}').selectedOptions).map(o => o.value)")


def test_a_bookmarked_view_opens_with_its_page_and_filters_and_the_address_follows_changes(browser, store, tmp_path):
    with running_server(store, tmp_path) as url:
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        sign_in(page, url, "admin")  # every page needs a signed-in user (issue 16)
        page.set_default_timeout(60_000)
        page.goto(f"{url}?page=comments&l1=Medicine&l3=Ward+10&sentiment=4&sentiment=5&l3=Not+a+ward")
        page.locator("#comments-table .comment-table").wait_for()
        assert page.get_by_role("tab", name="Comments", exact=True).get_attribute("aria-selected") == "true"
        wait_until(page, "document.querySelector('#filters-loc_3').selectedOptions.length == 1")
        assert _selected(page, "filters-loc_1") == ["Medicine"] and _selected(page, "filters-loc_3") == [WARD]
        assert page.locator("#filters-sentiment input:checked").count() == 2
        labels = page.locator(".comment-table .badge").all_inner_texts()
        assert labels and all("negative" in t.lower() for t in labels)
        # the division narrows the wards offered
        page.locator("#filters-loc_3-selectized").click()
        offered = page.locator(".selectize-dropdown:visible .option").all_inner_texts()
        assert offered and not {"Ward 20", "Labour Ward"} & set(offered)
        page.keyboard.press("Escape")
        # the address follows a change of page and of filters
        page.get_by_role("tab", name="Compare places", exact=True).click()
        wait_until(page, "location.search.includes('page=compare')")
        assert "l3=Ward+10" in page.evaluate("location.search")
        page.get_by_role("button", name="Clear all filters").click()
        wait_until(page, "location.search == '?page=compare'")
        # the comment list pages through everything, 200 at a time
        page.get_by_role("tab", name="Comments", exact=True).click()
        position = page.locator("#comments-position")
        wait_until(page, "document.querySelector('#comments-position').innerText.startsWith('Comments 1–200 of')")
        first_key = page.locator(".comment-table tbody tr").first.get_attribute("data-comment-id")
        page.get_by_role("button", name="Next 200").click()
        wait_until(page, "document.querySelector('#comments-position').innerText.startsWith('Comments 201–400')")
        wait_until(page, f"document.querySelector('.comment-table tbody tr').dataset.commentId != '{first_key}'")
        assert page.locator(".comment-table tbody tr").count() == 200
        page.get_by_role("button", name="Previous 200").click()
        wait_until(page, "document.querySelector('#comments-position').innerText.startsWith('Comments 1–200')")
        assert "of" in position.inner_text()
        page.close()


def _few_people_many_comments() -> tuple[str, str, int, int]:
    """A (ward, ethnicity) held by fewer than 10 respondents who wrote 10 or more comments between them."""
    from carelens.feedback.synth import BETTER_QUESTION, GOOD_QUESTION

    frame = _returns()
    answers = (frame[[GOOD_QUESTION, BETTER_QUESTION]] != "").sum(axis=1).clip(lower=1)
    groups = frame.assign(answers=answers).groupby(["Ward / team", "Ethnicity"])["answers"].agg(["size", "sum"])
    few = groups[(groups["size"] < 10) & (groups["sum"] >= 10)].sort_values("sum", ascending=False)
    (ward, ethnicity), row = next(few.iterrows())
    return ward, ethnicity, int(row["size"]), int(row["sum"])


def test_who_we_hear_from_and_suppression_per_respondent(browser, store, tmp_path):
    from urllib.parse import urlencode

    ward, ethnicity, people, comments = _few_people_many_comments()
    with running_server(store, tmp_path) as url:
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        sign_in(page, url, "admin")  # every page needs a signed-in user (issue 16)
        page.set_default_timeout(60_000)
        # 10 or more comments, but from fewer than 10 people picked out by ethnicity: withheld
        page.goto(f"{url}?{urlencode({'page': 'comments', 'l3': ward, 'd.Ethnicity': ethnicity})}")
        page.locator("#comments-table .privacy-note").wait_for()
        said = page.locator("#comments-table .count").inner_text()  # neither the comments nor their number
        assert "fewer than 10 people" in said and f"{comments:,}" not in said, said
        assert page.locator(".comment-table").count() == 0
        # who we hear from: every demographic field, the ward against every respondent, small values hidden
        page.get_by_role("button", name="Clear all filters").click()
        page.get_by_role("tab", name="Who we hear from", exact=True).click()
        cards = page.locator("#demographics-fields .card")
        cards.first.wait_for()
        assert cards.count() == 3
        assert {h.strip() for h in cards.locator(".card-header").all_inner_texts()} == {"Age group", "Gender",
                                                                                          "Ethnicity"}
        _pick_ward = page.locator("#filters-loc_3-selectized")
        _pick_ward.click()
        _pick_ward.fill(WARD)
        page.locator(".selectize-dropdown:visible .option", has_text=WARD).first.click()
        page.keyboard.press("Escape")
        gender = cards.filter(has_text="Gender").locator("table")
        wait_until(page, "Array.from(document.querySelectorAll('#demographics-fields table')).some("
                               "t => t.innerText.includes('–'))")
        assert "Prefer not to say" in gender.inner_text()
        cards.first.locator(".plotly-graph-div").wait_for()
        _shot(page, "who-we-hear-from", cards.filter(has_text="Age group"))
        page.close()


def test_spellings_merged_on_the_admin_page_show_as_one_ward_and_can_be_unmerged(browser, tmp_path):
    from carelens.db import get_engine
    from carelens.feedback.ingest import load_comments
    from carelens.feedback.model_cache import cached_model

    db = tmp_path / "spellings.duckdb"
    engine = get_engine(db)
    for ward, prefix in (("Ward 10", "a"), ("ward 10 ", "b"), ("Wd10", "c")):
        frame = pd.DataFrame({"Comment ID": [f"{prefix}{i}" for i in range(4)], "Date": ["01/03/2025"] * 4,
                              "Ward": [ward] * 4, "Comments": [f"Kind staff, visit {prefix}{i}" for i in range(4)]})
        load_comments(frame, engine=engine, model=cached_model(), progress=False, mapping={"location_3": "Ward"})
    engine.dispose()
    with running_server(db, tmp_path) as url:
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        sign_in(page, url, "admin")  # every page needs a signed-in user (issue 16)
        page.set_default_timeout(60_000)
        page.goto(url)
        page.get_by_role("tab", name="Spellings", exact=True).click()
        page.locator("#spellings-field").select_option("location_3")
        for spelling in ("Wd10", "ward 10"):
            box = page.locator("#spellings-spellings-selectized")
            box.click()
            box.fill(spelling)
            page.locator(".selectize-dropdown:visible .option", has_text=spelling).first.click()
        page.keyboard.press("Escape")
        page.locator("#spellings-canonical").fill("Ward 10")
        page.get_by_role("button", name="Merge", exact=True).click()
        table = page.locator("#spellings-aliases table.aliases-table")
        table.wait_for()
        assert table.locator("tbody tr").count() == 2
        # the ward filter now offers one Ward 10 holding all 12 comments
        page.get_by_role("tab", name="Comments", exact=True).click()
        page.locator("#filters-loc_3-selectized").click()
        wait_until(page, "Array.from(document.querySelectorAll('.selectize-dropdown:not([style*=\"none\"]) "
                               ".option')).map(o => o.innerText).join('|') === 'Ward 10'")
        page.keyboard.press("Escape")
        # removing a merge brings that spelling back
        page.get_by_role("tab", name="Spellings", exact=True).click()
        table.get_by_role("button", name="Remove the merge of wd10 into Ward 10").click()
        wait_until(page, "document.querySelectorAll('#spellings-aliases tbody tr').length == 1")
        page.close()


def test_who_we_hear_from_shows_the_trust_mix_beside_the_respondents(browser, tmp_path):
    """A trust mix loaded from the command line: its column, the difference (hidden where the
    selection's share is) and where it came from, on the page."""
    from carelens.cli.app import main
    from carelens.db import get_engine
    from carelens.feedback.ingest import load_comments
    from carelens.feedback.model_cache import cached_model

    db = tmp_path / "mix.duckdb"
    engine = get_engine(db)
    ethnicity = ["White British"] * 20 + ["Asian or Asian British"] * 12 + ["Mixed"] * 3
    frame = pd.DataFrame({"Comment ID": [f"m{i}" for i in range(len(ethnicity))], "Date": ["01/03/2025"] * 35,
                          "Ward": ["Ward 1"] * 35, "FFT score": ["1"] * 35, "Ethnicity": ethnicity,
                          "Comments": [f"Kind staff, visit {i}" for i in range(35)]})
    load_comments(frame, engine=engine, model=cached_model(), progress=False,
                  mapping={"location_3": "Ward", "demographics": ["Ethnicity"]})
    engine.dispose()
    census = tmp_path / "census.csv"
    census.write_text("field,value,share\nEthnicity,White British,72%\nEthnicity,Asian or Asian British,18%\n"
                      "Ethnicity,Mixed,4%\nEthnicity,Black or Black British,6%\n", encoding="utf-8")
    assert main(["feedback", "mix", "load", str(census), "--source", "ONS Census 2021, our catchment",
                 "--db", str(db)]) == 0
    with running_server(db, tmp_path) as url:
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        sign_in(page, url, "admin")  # every page needs a signed-in user (issue 16)
        page.set_default_timeout(60_000)
        page.get_by_role("tab", name="Who we hear from", exact=True).click()
        table = page.locator("#demographics-fields table.demographics-table")
        table.wait_for()
        headers = [h.strip() for h in table.locator("thead th").all_inner_texts()]
        assert headers[-2:] == ["Trust mix", "Difference"], headers
        rows = {r.locator("th").inner_text(): [c.strip() for c in r.locator("td").all_inner_texts()]
                for r in table.locator("tbody tr").all()}
        # 12 of 35 respondents (34%) against 18% of the catchment: 16 points more
        assert rows["Asian or Asian British"][-2:] == ["18%", "+16 points"], rows
        # 3 respondents are fewer than 10: the share and its difference hidden, the mix shown
        assert rows["Mixed"][:2] == ["–", "–"] and rows["Mixed"][-2:] == ["4%", "–"], rows
        assert rows["Black or Black British"][-2:] == ["6%", "–"], rows  # in the mix, no respondent: listed
        note = page.locator("#demographics-fields .mix-source").inner_text()
        assert note.startswith("Trust mix: ONS Census 2021, our catchment (loaded ")
        legend = page.locator("#demographics-fields .legend").first
        legend.wait_for()
        assert "Trust mix" in legend.text_content()  # a third bar in the chart
        _shot(page, "who-we-hear-from-trust-mix", page.locator("#demographics-fields .card").first)
        page.close()


def test_an_admin_loads_checks_and_removes_the_trust_mix_in_the_dashboard(browser, tmp_path):
    """The Trust mix page: a file with a mistake is refused in one line naming its row and column and
    stores nothing; a good one is listed and shows on "Who we hear from"; Remove takes it away."""
    from carelens.db import get_engine
    from carelens.feedback.ingest import load_comments
    from carelens.feedback.model_cache import cached_model

    db = tmp_path / "mixform.duckdb"
    engine = get_engine(db)
    ethnicity = ["White British"] * 20 + ["Asian or Asian British"] * 12
    frame = pd.DataFrame({"Comment ID": [f"f{i}" for i in range(32)], "Date": ["01/03/2025"] * 32,
                          "Ward": ["Ward 1"] * 32, "Ethnicity": ethnicity,
                          "Comments": [f"Kind staff, visit {i}" for i in range(32)]})
    load_comments(frame, engine=engine, model=cached_model(), progress=False,
                  mapping={"location_3": "Ward", "demographics": ["Ethnicity"]})
    engine.dispose()
    wrong = tmp_path / "wrong.csv"
    wrong.write_text("field,value,share\nEthnicity,White British,70%\nEthnicity,Asian or Asian British,eighteen\n",
                     encoding="utf-8")
    good = tmp_path / "census.csv"
    good.write_text("Field,Value,Share\nethnicity,White British,0.8\nethnicity,Asian or Asian British,0.2\n",
                    encoding="utf-8")
    with running_server(db, tmp_path) as url:
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        sign_in(page, url, "admin")
        page.set_default_timeout(60_000)
        page.get_by_role("tab", name="Trust mix", exact=True).click()
        mixes = page.locator("#trust_mix-mixes")
        mixes.get_by_text("No mix loaded yet").wait_for()
        page.locator("#trust_mix-file").set_input_files(str(wrong))
        page.get_by_label("Where the figures come from").fill("ONS Census 2021, our catchment")
        page.get_by_role("button", name="Load the mix", exact=True).click()
        error = page.locator(".shiny-notification-error").last
        error.wait_for()
        message = error.inner_text()
        assert "Nothing loaded" in message and "wrong.csv" in message and "row 3" in message, message
        assert "share" in message and "Traceback" not in message, message
        assert mixes.get_by_text("No mix loaded yet").is_visible()  # nothing was stored
        page.locator("#trust_mix-file").set_input_files(str(good))
        page.get_by_role("button", name="Load the mix", exact=True).click()
        table = page.locator("#trust_mix-mixes table.mix-table")
        table.wait_for()
        page.locator(".shiny-notification-error").wait_for(state="detached")  # the refusal went with the next try
        cells = [c.strip() for c in table.locator("tbody tr").first.locator("th, td").all_inner_texts()]
        # stored under the uploads' own spelling of the field, the values as the file wrote them
        assert cells[:3] == ["Ethnicity", "White British 80%, Asian or Asian British 20%",
                             "ONS Census 2021, our catchment"], cells
        _shot(page, "trust-mix")
        page.get_by_role("tab", name="Who we hear from", exact=True).click()
        demo = page.locator("#demographics-fields table.demographics-table")
        demo.wait_for()
        assert [h.strip() for h in demo.locator("thead th").all_inner_texts()][-2:] == ["Trust mix", "Difference"]
        page.get_by_role("tab", name="Trust mix", exact=True).click()
        table.get_by_role("button", name="Remove the Ethnicity mix").click()
        mixes.get_by_text("No mix loaded yet").wait_for()
        page.get_by_role("tab", name="Who we hear from", exact=True).click()
        wait_until(page, "!document.querySelector('#demographics-fields .mix-source')")
        page.close()
