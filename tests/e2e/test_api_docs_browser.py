"""The API's documentation pages in Debian's chromium: they ask for the key, then show the routes
(the OpenAPI document itself needs the key); with a wrong key they show none."""

from __future__ import annotations

import pytest

from carelens.config import Settings, hash_api_key
from tests.e2e.dashboard_server import CHROMIUM, CHROMIUM_ARGS, require_browser
from tests.integration.api_server import serve_api

pytestmark = pytest.mark.browser
KEY = "docs-browser-key"


@pytest.fixture(scope="module")
def api_url(tmp_path_factory):
    home = tmp_path_factory.mktemp("docs")
    settings = Settings(home=home, database_url=f"duckdb:///{home / 'docs.duckdb'}", api_key_hashes=[hash_api_key(KEY)])
    with serve_api(settings) as url:
        yield url


@pytest.fixture(scope="module")
def browser():
    require_browser()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


# Swagger UI breaks a path into segments (with <wbr>) but keeps it whole in data-path; ReDoc shows it as text.
@pytest.mark.parametrize("page_path, route", [("/docs", '[data-path="/comments/query"]'),
                                              ("/redoc", 'text="/comments/query"')])
def test_the_docs_page_asks_for_the_key_and_then_shows_the_routes(browser, api_url, page_path, route):
    page = browser.new_page()
    asked = []

    def answer(dialog):
        asked.append(dialog.message)
        dialog.accept(KEY)

    page.on("dialog", answer)
    page.goto(api_url + page_path)
    page.locator(route).first.wait_for(timeout=60_000)
    assert asked and "API key" in asked[0]
    page.close()


def test_without_the_key_the_docs_page_shows_no_route(browser, api_url):
    page = browser.new_page()
    page.on("dialog", lambda dialog: dialog.accept("wrong key"))
    page.goto(api_url + "/docs")
    page.wait_for_timeout(2_000)
    assert "/comments/query" not in page.content()
    page.close()
