"""Each role signs in to the dashboard in Debian's chromium, with the Content Security Policy on
(no bypass): the menu holds only the pages the role may see, each of those pages draws with no
script refused by the policy, a ward manager's sidebar and comments are their ward's only, the
caller alone sees contact details; the dashboard's websocket refuses another site's page and a
browser that is not signed in; a signed-out browser is back at the sign-in page."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

import pytest

from tests.e2e.dashboard_server import CHROMIUM, CHROMIUM_ARGS, require_browser, running_server, sign_in

pytestmark = pytest.mark.browser

WARD = "Ward 10"
FEEDBACK_PAGES = ["Overview", "Comments", "Complex comments", "Framework", "Export and report"]
MENUS = {
    "admin": ["Overview", "Comments", "Complex comments", "Framework", "Upload", "Trust mix", "Export and report",
              "Demand and capacity", "Admin"],
    "lead": FEEDBACK_PAGES,
    "ward": FEEDBACK_PAGES,
    "caller": ["Missed appointments"],
    "planner": ["Demand and capacity"],
    "nobody": [],
}
ALL_PAGES = sorted({p for pages in MENUS.values() for p in pages})


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    require_browser()
    import json

    from carelens.appointments.store import dna_contacts
    from carelens.db import get_engine
    from carelens.db.schema import now_utc
    from carelens.feedback.ingest import load_comments
    from carelens.feedback.synth import generate_comments
    from tests.integration.test_api_appointments import publish

    tmp = tmp_path_factory.mktemp("access_browser")
    db = tmp / "store.duckdb"
    engine = get_engine(str(db))
    export = generate_comments(600, seed=5)
    load_comments(export, engine=engine, progress=False)
    soon = datetime.combine(datetime.today().date() + timedelta(days=1), datetime.min.time()) + timedelta(hours=9)
    scores = publish(engine, "access0000", 30, soon, datetime.now())
    scores = scores.assign(risk_band="high")
    with engine.begin() as conn:
        from carelens.appointments.store import dna_models, dna_scores
        from carelens.db.bulk import upsert_frame

        upsert_frame(conn, dna_scores, scores)
        conn.execute(dna_models.update().values(card=json.dumps({"model_version": "access0000"})))
        conn.execute(dna_contacts.insert(), [{"patient_id": p, "details": json.dumps({"phone": f"07700 900{i:03d}"}),
                                              "updated_at": now_utc()} for i, p in enumerate(sorted(set(scores.patient_id)))])
    engine.dispose()
    staff = {"ward": ("viewer", (WARD,)), "nobody": (None, ())}
    with running_server(db, tmp, staff=staff) as url:
        yield url, export


def _menu(page) -> list[str]:
    return [t.strip() for t in page.locator(".navbar .nav-link").all_inner_texts() if t.strip() in ALL_PAGES]


@pytest.mark.parametrize("who", list(MENUS))
def test_each_role_sees_its_pages_and_nothing_else_with_the_policy_on(site, who):
    from playwright.sync_api import sync_playwright

    url, export = site
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})  # the CSP applies
        refused: list[str] = []
        page.on("console", lambda m: refused.append(m.text) if "Content Security Policy" in m.text else None)
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.set_default_timeout(30_000)
        sign_in(page, url, who)
        assert _menu(page) == MENUS[who]
        if not MENUS[who]:
            assert "no access yet" in page.locator(".no-access").inner_text()
        for title in MENUS[who]:
            page.get_by_role("tab", name=title, exact=True).click()
            page.wait_for_timeout(300)
        if who in ("lead", "ward", "admin"):
            page.get_by_role("tab", name="Comments", exact=True).click()
            rows = page.locator("#comments-table tbody tr")
            rows.first.wait_for()
            places = [m.split(" · ") for m in page.locator("#comments-table .c-meta").all_inner_texts()]
            assert places
            if who == "ward":  # every comment listed is of their ward, and the sidebar offers no other
                assert all(WARD in p for p in places), places[:5]
                page.locator("#filters-loc_3-selectized").click()
                offered = page.locator(".selectize-dropdown-content .option").all_inner_texts()
                assert offered == [WARD], offered
            else:
                assert len({p[-1] for p in places}) > 1
        if who == "caller":
            page.get_by_role("tab", name="Missed appointments", exact=True).click()
            page.locator("#appointments-call_list tbody tr").first.wait_for()
            assert "phone: 07700 900" in page.locator("#appointments-call_list").inner_text()
        browser.close()
    assert not refused, refused
    assert not errors, errors


def test_signing_out_ends_the_session_and_the_next_page_asks_to_sign_in(site):
    from playwright.sync_api import sync_playwright

    url, _ = site
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page()
        page.set_default_timeout(30_000)
        sign_in(page, url, "lead")
        page.locator("#signout").click()
        page.locator("#username").wait_for()
        page.goto(url)
        assert "/auth/login" in page.url and page.locator("#username").is_visible()
        browser.close()


def test_the_websocket_refuses_another_sites_page_and_a_browser_not_signed_in(site):
    import websockets

    from tests.e2e.dashboard_server import session_cookie

    url, _ = site
    cookie = session_cookie(url, "lead")  # a signed-in browser's cookie
    ws = url.replace("http://", "ws://") + "websocket/"

    async def opened(origin: str, with_cookie: bool) -> bool:
        headers = {"Cookie": cookie} if with_cookie else {}
        try:
            async with websockets.connect(ws, origin=origin, additional_headers=headers):
                return True
        except websockets.exceptions.InvalidStatus:
            return False

    own = url.rstrip("/")
    assert asyncio.run(opened(own, True))  # the dashboard's own page, signed in
    assert not asyncio.run(opened("http://evil.example", True))  # another site's page, same browser
    assert not asyncio.run(opened(own, False))  # not signed in
