"""The dashboard's HTML: every table escapes what it shows (a comment holding markup shows as text),
and the page's element ids are namespaced by page and never repeated."""

from __future__ import annotations

import re
from collections import Counter
from html.parser import HTMLParser

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from carelens.web.dashboard.html_table import Cell, element, frame_table, html_table
from carelens.web.dashboard.widgets import comment_table

XSS = "<img src=x onerror=alert(1)>"


class _Parsed(HTMLParser):
    """Tags with their attributes, and the text of every element with a class, as a browser reads them."""

    def __init__(self, html: str):
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict]] = []
        self.text: list[str] = []
        self.feed(str(html))

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data):
        self.text.append(data)


def _comment(text: str, **more) -> dict:
    return {"comment_key": "id:1", "comment_id": "1", "date": pd.Timestamp("2025-02-03"), "text": text,
            "question": None, "location_1": "Medicine", "location_2": None, "location_3": None, "topics": ["Parking"],
            "sentiment": 4, "flagged": False, "corrected": False, **more}


@pytest.mark.parametrize("search", ["staff", ""])
def test_a_comment_holding_markup_shows_as_text_in_the_comment_table(search):
    frame = pd.DataFrame([_comment(f"Lovely staff {XSS} thanks", location_1=XSS, question=f"Q {XSS}",
                                   topics=[XSS, "Parking"], comment_key=f"id:{XSS}")])
    html = str(comment_table(frame, search, flag_input="feedback-flag_request"))
    parsed = _Parsed(html)
    assert "img" not in {tag for tag, _ in parsed.tags}
    # no inline handler at all (the Content Security Policy would not run one): buttons carry data
    assert not any(name.startswith("on") for tag, attrs in parsed.tags for name in attrs)
    shown = "".join(parsed.text)
    assert f"Lovely staff {XSS} thanks" in shown  # a search hit is marked, the text intact
    assert shown.count(XSS) == 4  # text, location, question, topic: each as the characters typed
    assert ("<mark>staff</mark>" in html) == bool(search)
    rows = [attrs for tag, attrs in parsed.tags if tag == "tr" and "data-comment-id" in attrs]
    assert rows == [{"data-comment-id": f"id:{XSS}"}]


def test_flag_buttons_send_the_comment_key_to_the_given_input_as_data():
    html = str(comment_table(pd.DataFrame([_comment("fine", comment_key="id:it's \"odd\"")]), flag_input="feedback-flag_request"))
    buttons = [attrs for tag, attrs in _Parsed(html).tags if tag == "button"]
    assert len(buttons) == 2 and not any(name.startswith("on") for b in buttons for name in b)
    assert all(b["data-flag-input"] == "feedback-flag_request" and b["data-comment-key"] == 'id:it\'s "odd"'
               for b in buttons)
    assert [b["data-flag-kind"] for b in buttons] == ["interesting", "wrong_topics"]
    no_buttons = str(comment_table(pd.DataFrame([_comment("fine")])))
    assert "<button" not in no_buttons


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.text(max_size=40), st.text(max_size=40)), min_size=1, max_size=5), st.text(max_size=20))
def test_any_text_in_a_frame_table_is_shown_as_typed_and_never_becomes_markup(rows, heading):
    frame = pd.DataFrame(rows, columns=["a", "b"])
    html = str(frame_table(frame, {"a": heading, "b": "B"}))
    parsed = _Parsed(html)
    assert {tag for tag, _ in parsed.tags} <= {"div", "table", "thead", "tbody", "tr", "th", "td"}
    cells = re.findall(r"<td>(.*?)</td>", html, flags=re.S)
    assert len(cells) == 2 * len(rows)
    for cell, value in zip(cells, [v for row in rows for v in row]):
        assert "".join(_Parsed(cell).text) == value


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=80), st.text(max_size=20), st.lists(st.text(max_size=15), max_size=3), st.text(max_size=10))
def test_any_text_in_a_comment_never_becomes_markup(text, place, topics, search):
    frame = pd.DataFrame([_comment(text, location_1=place or None, topics=topics)])
    parsed = _Parsed(comment_table(frame, search, flag_input="feedback-flag_request"))
    assert {tag for tag, _ in parsed.tags} <= {"table", "thead", "tbody", "tr", "th", "td", "span", "div", "mark",
                                               "button", "p"}
    assert {name for _, attrs in parsed.tags for name in attrs} <= {
        "class", "style", "scope", "data-comment-id", "aria-label", "aria-pressed", "type", "data-flag-kind",
        "data-flag-input", "data-comment-key"}


def test_cells_can_be_row_headers_and_spans_and_markup_passes_only_when_made_by_the_helpers():
    html = str(html_table(["Topic", "Figures"], [[Cell("A & B", header=True), Cell("hidden", colspan=2, class_="suppressed")],
                                                 [element("span", "<b>", class_="x"), "<b>"]], table_id=None))
    assert '<th scope="row">A &amp; B</th>' in html and '<td colspan="2" class="suppressed">hidden</td>' in html
    assert '<span class="x">&lt;b&gt;</span>' in html and "<td>&lt;b&gt;</td>" in html
    assert frame_table(pd.DataFrame({"x": [None, float("nan"), 1.5]}), formats={"x": lambda v: f"{v:.2f}"}, numeric={"x"}
                       ).count('<td class="num"></td>') == 2


def test_every_element_id_of_the_dashboard_is_unique_and_namespaced_by_its_page(tmp_path):
    from starlette.testclient import TestClient

    from carelens.config import Settings
    from carelens.web.app import create_app
    from carelens.web.dashboard.registry import pages

    from carelens.access import Role
    from carelens.db import get_engine
    from tests.access_helpers import sign_in

    settings = Settings(database_url=f"duckdb:///{tmp_path / 'store.duckdb'}")
    app, engine = create_app(settings), get_engine(settings.database_url)
    seen = ""
    for name, role in (("admin", Role.ADMIN), ("caller", Role.CALLER), ("planner", Role.PLANNER)):  # every page
        client = TestClient(app)
        sign_in(client, engine, name, role)
        html = client.get("/").text
        seen += html
        ids = re.findall(r'\sid="([^"]+)"', html)
        repeated = [i for i, n in Counter(ids).items() if n > 1]
        assert not repeated, repeated
        namespaces = {p.id for p in pages()} | {"filters"}
        page_ids = [i for i in ids if "-" in i and not i.startswith(("navbar-", "tab-nav-"))]  # bslib's own
        assert page_ids and all(i.split("-")[0] in namespaces for i in page_ids), page_ids
    for page in pages():
        assert f'id="{page.id}-' in seen, page.id  # each page's own inputs/outputs carry its id


def test_static_assets_are_compressed_and_cached(tmp_path):
    """plotly.js (then 4.8 MB) went uncompressed with no cache header on every view (issue 12)."""
    from starlette.testclient import TestClient

    from carelens.access import Role
    from carelens.config import Settings
    from carelens.db import get_engine
    from carelens.web.app import create_app
    from tests.access_helpers import sign_in

    settings = Settings(database_url=f"duckdb:///{tmp_path / 'store.duckdb'}")
    client = TestClient(create_app(settings))
    sign_in(client, get_engine(settings.database_url), "lead", Role.FEEDBACK_LEAD)
    with client.stream("GET", "/vendor/plotly-cartesian.min.js", headers={"Accept-Encoding": "gzip"}) as plotly:
        sent = b"".join(plotly.iter_raw())  # the bytes on the wire
    assert plotly.status_code == 200 and plotly.headers["content-encoding"] == "gzip"
    whole = client.get("/vendor/plotly-cartesian.min.js", headers={"Accept-Encoding": "identity"})
    assert len(sent) < len(whole.content) / 3 and len(whole.content) > 1_000_000
    assert plotly.headers["cache-control"] == "public, max-age=86400"
    css = client.get("/www/carelens.css", headers={"Accept-Encoding": "gzip"})
    assert css.headers["cache-control"] == "no-cache" and css.headers.get("etag")
    again = client.get("/www/carelens.css", headers={"If-None-Match": css.headers["etag"]})
    assert again.status_code == 304 and again.headers["cache-control"] == "no-cache"
    page = client.get("/", headers={"Accept-Encoding": "gzip"})
    # a page holds patient comments: never kept by a browser or proxy (the security gate says so)
    assert page.headers.get("content-encoding") == "gzip" and page.headers["cache-control"] == "no-store"
    assert "content-encoding" not in whole.headers


def test_the_vendored_plotly_bundle_is_the_python_packages_plotly_js_version():
    """The dashboard sends figures built for the Python plotly package's plotly.js to the vendored
    cartesian bundle (vendor/README.md): an upgrade of one without the other fails here."""
    import re
    from pathlib import Path

    import plotly

    from carelens.web.dashboard.app import VENDOR

    def version(path: Path) -> str:
        with path.open(encoding="utf-8") as fh:
            head = fh.read(400)
        return re.search(r"plotly\.js.*? v(\d+\.\d+\.\d+)", head).group(1)

    ships = version(Path(plotly.__file__).parent / "package_data" / "plotly.min.js")
    vendored = VENDOR / "plotly-cartesian.min.js"
    assert version(vendored) == ships
    assert "cartesian" in vendored.open(encoding="utf-8").read(200)
    assert (VENDOR / "plotly-LICENSE.txt").read_text().startswith("MIT License")
