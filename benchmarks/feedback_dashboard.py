"""Benchmark: how fast the dashboard answers a filter change, measured in the browser.

    .venv/bin/python benchmarks/feedback_dashboard.py [--sizes 100000] [--repeats 5]

For each store size: a DuckDB store is filled (10,000 synthetic comments loaded through the real
loader, then repeated under new keys and dates with ``feedback_api.fill_store``; cached under
``benchmarks/.cache/``), ``carelens serve`` is started on it, and Debian's chromium (Playwright)
opens the Overview page (headline numbers, five charts and the sub-category table) and the Comments
page. For each filter change we time, in the browser, from the input changing to Shiny being idle
again with every output redrawn (``shiny:idle`` plus one animation frame): what a member of staff
waits for. The server-side share is timed separately in-process (the same store queries the pages
call). Peer: experiencesdashboard is an R Shiny (golem) app whose source and CRAN dependencies are
not on this machine (R and Debian's r-cran-shiny are, but nothing can be downloaded here), so it
cannot run side by side; no ratio is printed.

With sign-in (issue 16) each size is measured twice: signed in as an admin (every location) and as
a ward manager whose scope is one division (``--scope``), whose every query carries the scope
(the server-side share likewise, with the scope ANDed into the filters).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / "benchmarks")]
CACHE = REPO / "benchmarks" / ".cache"

# (label, input id, two values to alternate between so every repeat is a real change)
SCENARIOS = [
    ("division", "filters-loc_1", [["Surgery"], ["Medicine"]]),
    ("sentiment", "filters-sentiment", [["4", "5"], ["1", "2"]]),
    ("category", "filters-category", [["Staff"], ["Access to medical care & support"]]),
    ("FFT answer", "filters-fft", [["4", "5"], ["1"]]),
    ("search one word", "filters-search", ["staff", "parking"]),
    ("search two words", "filters-search", ["nurses kind", "phone appointment"]),
]


def build_store(size: int, returns: bool = False) -> Path:
    """The cached store of ``size`` comments: one comment per respondent, or with ``returns``
    two-question FFT returns (most respondents answer both questions, so a respondent's comments
    must be counted once per cell: ``feedback.store.cell_counts``)."""
    from feedback_api import fill_store

    from carelens.db import get_engine
    from carelens.feedback.ingest import load_comments
    from carelens.feedback.synth import generate_comments, generate_returns

    CACHE.mkdir(parents=True, exist_ok=True)
    db = CACHE / (f"dashboard-returns-{size}.duckdb" if returns else f"dashboard-{size}.duckdb")
    if db.exists():
        return db
    base = min(size, 10_000)
    t0 = time.perf_counter()
    rows = generate_returns(base // 2, seed=11, months=24) if returns else generate_comments(base, seed=11)
    load_comments(rows, db=str(db), source="benchmark", progress=False)
    fill_store(get_engine(db), size)
    get_engine(db).dispose()
    print(f"built {db.name} ({size:,} comments) in {time.perf_counter() - t0:.0f} s", flush=True)
    return db


SET_AND_WAIT = """
async ([id, value]) => {
  const idle = new Promise(r => $(document).one('shiny:idle', r));
  const t0 = performance.now();
  Shiny.setInputValue(id, value);
  await idle;
  await new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)));
  return performance.now() - t0;
}
"""


def browser_latency(url: str, repeats: int, user: str = "admin") -> dict:
    from playwright.sync_api import sync_playwright
    from tests.e2e.dashboard_server import CHROMIUM, CHROMIUM_ARGS, sign_in

    out: dict = {}
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.set_default_timeout(120_000)
        t0 = time.perf_counter()
        sign_in(page, url, user)
        page.locator("[data-chart=subcategories] .trace.bars").first.wait_for()
        out["first page load (s)"] = round(time.perf_counter() - t0, 2)
        for tab in ("Overview", "Comments"):
            page.get_by_role("tab", name=tab, exact=True).click()
            page.wait_for_timeout(1500)
            for label, input_id, values in SCENARIOS:
                times = []
                for r in range(repeats):
                    times.append(page.evaluate(SET_AND_WAIT, [input_id, values[r % 2]]))
                empty = "" if input_id == "filters-search" else []
                page.evaluate(SET_AND_WAIT, [input_id, empty])
                out[f"{tab}: {label}"] = {"median_ms": round(statistics.median(times)), "max_ms": round(max(times))}
        out.update(browser_interactions(browser, url, repeats, user))
        browser.close()
    return out


# topics most synthetic comments carry, so a correction to one of them is always a change
COMMON_TOPICS = ["Staff manner & personal attributes", "Positive experience & gratitude", "Organisation & efficiency"]


def browser_interactions(browser, url: str, repeats: int, user: str) -> dict:
    """What staff wait for besides a filter change (issue 12, point 5 and 2): a page view after the
    first one (a new tab of the same signed-in browser: static assets cached, the store's view
    warm), saving a topic correction (click "Save correction" to the comment's row redrawn as
    corrected), undoing it, and toggling the "Interesting" flag (click to the button redrawn).
    A click's wait is timed from the moment it reaches the page to Playwright seeing the change."""
    import re

    from tests.e2e.dashboard_server import pick_option, sign_in

    out: dict = {}
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    context.set_default_timeout(120_000)
    # a click's time is taken in the page (when the click reaches it), so Playwright's own checks
    # before clicking (is the button still moving: a dialog fades in) are not counted as waiting
    context.add_init_script("document.addEventListener('click', () => { window.__clickAt = performance.now(); }, true);")

    def clicked_ms_ago(page) -> float:
        return page.evaluate("performance.now() - window.__clickAt") / 1000
    first = context.new_page()
    sign_in(first, url, user)
    first.locator("[data-chart=subcategories] .trace.bars").first.wait_for()
    views = []
    for _ in range(repeats):
        page = context.new_page()
        t0 = time.perf_counter()
        page.goto(url)
        page.locator("[data-chart=subcategories] .trace.bars").first.wait_for()
        views.append(time.perf_counter() - t0)
        page.close()
    out["page view after the first (s)"] = {"median": round(statistics.median(views), 2), "max": round(max(views), 2)}
    page = first
    page.get_by_role("tab", name="Comments", exact=True).click()
    saves, undos, flags = [], [], []
    for r in range(repeats):
        row = page.locator(".comment-table tbody tr").nth(r)
        row.wait_for()
        key = row.get_attribute("data-comment-id")
        row = page.locator(f"tr[data-comment-id='{key}']")
        had = row.locator(".c-topics").inner_text()
        topic = next(t for t in COMMON_TOPICS if t not in had)
        row.get_by_role("button", name=re.compile("Correct the topics", re.IGNORECASE)).click()
        box = page.locator("#feedback-correct_topics-selectized")
        box.wait_for()
        pick_option(page, "feedback-correct_topics", topic)
        page.get_by_role("button", name="Save correction").click()
        row.locator(".flag-note", has_text="topics corrected").wait_for()
        saves.append(clicked_ms_ago(page))
        page.locator(".modal-dialog").wait_for(state="hidden")
        row.get_by_role("button", name=re.compile("Correct the topics", re.IGNORECASE)).click()
        page.get_by_role("button", name="Undo the last correction").click()
        row.locator(".flag-note", has_text="topics corrected").wait_for(state="detached")
        undos.append(clicked_ms_ago(page))
        page.locator(".modal-dialog").wait_for(state="hidden")
        for pressed in ("true", "false"):  # flag, then take the flag off
            row.locator("button[data-flag-kind=interesting]").click()
            row.locator(f"button[data-flag-kind=interesting][aria-pressed={pressed}]").wait_for()
            flags.append(clicked_ms_ago(page))
    for label, times in (("correction save (s)", saves), ("correction undo (s)", undos), ("flag toggle (s)", flags)):
        out[label] = {"median": round(statistics.median(times), 2), "max": round(max(times), 2)}
    context.close()
    return out


def browser_upload(rows: int) -> dict:
    """Staff's path for a new export: a fresh store, ``carelens serve``, the Upload page, a CSV of
    ``rows`` synthetic comments; timed from clicking "Check and load comments" to the result shown,
    and on to the Overview's headline showing them. ``carelens serve`` reads the model in the background
    as it starts; the benchmark waits for that (``/api/health``: ``model_loaded``) and reports when it
    was ready, so the upload figure is the upload's own."""
    import tempfile

    from playwright.sync_api import sync_playwright

    from carelens.feedback.synth import generate_comments
    from tests.e2e.dashboard_server import CHROMIUM, CHROMIUM_ARGS, running_server, sign_in

    out: dict = {}
    with tempfile.TemporaryDirectory() as tmp, sync_playwright() as p:
        work = Path(tmp)
        export = work / f"export_{rows}.csv"
        generate_comments(rows, seed=29).to_csv(export, index=False)
        started = time.perf_counter()
        with running_server(work / "fresh.duckdb", work, timeout=300) as url:
            out["server up (s)"] = round(time.perf_counter() - started, 2)
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            # bypass_csp: wait_for_function evaluates a string in the page, which the policy forbids
            page = browser.new_page(viewport={"width": 1400, "height": 1000}, bypass_csp=True)
            page.set_default_timeout(300_000)
            sign_in(page, url, "admin")
            page.get_by_text("No comments yet").wait_for()
            page.get_by_role("tab", name="Upload", exact=True).click()
            t0 = time.perf_counter()
            page.locator("#upload-file").set_input_files(str(export))
            page.get_by_role("button", name="Check and load comments").wait_for()
            out["file sent and columns mapped (s)"] = round(time.perf_counter() - t0, 2)
            # the model warm-up that serve starts: wait for it (reported), as it is done by the time staff
            # have chosen a file in practice; the upload is then timed on its own
            import json as _json
            import urllib.request

            while not _json.loads(urllib.request.urlopen(url + "api/health", timeout=10).read())["model_loaded"]:
                time.sleep(0.5)
            out["model ready after server start (s)"] = round(time.perf_counter() - started, 2)
            t0 = time.perf_counter()
            page.get_by_role("button", name="Check and load comments").click()
            page.locator(".alert-success", has_text="Comments loaded").wait_for()
            out["validated, classified and stored (s)"] = round(time.perf_counter() - t0, 2)
            page.get_by_role("tab", name="Overview", exact=True).click()
            page.wait_for_function(
                f"document.querySelector('.bslib-value-box .value-box-value')?.innerText.replace(/[^0-9]/g, '') == '{rows}'")
            page.locator("[data-chart=subcategories] .trace.bars").first.wait_for()
            out["click to Overview showing them (s)"] = round(time.perf_counter() - t0, 2)
            browser.close()
    return out


def server_side(db: Path, repeats: int, scope=None) -> dict:
    """The store queries one Overview redraw issues, timed in-process (no HTTP, no drawing); with
    ``scope`` (a ward manager's places) ANDed into every filter, as the dashboard does for them."""
    from carelens.db import get_engine
    from carelens.feedback.store import queries
    from carelens.feedback.store.filters import CommentFilters
    from carelens.feedback.store.view import store_view

    engine = get_engine(db)
    t0 = time.perf_counter()
    store_view(engine)
    out = {"first read of the store into memory (s)": round(time.perf_counter() - t0, 2)}
    from carelens.feedback.store.view import _views

    times = []
    for _ in range(max(5, repeats)):  # a filter change after the view's revision check has expired (2 s)
        next(iter(_views.values())).checked_at = 0
        t = time.perf_counter()
        store_view(engine)
        times.append((time.perf_counter() - t) * 1000)
    out["revision check on a filter change, store unchanged (ms)"] = round(statistics.median(times), 1)
    filters = {
        "no filter": CommentFilters(),
        "division": CommentFilters(location_1=["Surgery"]),
        "sentiment": CommentFilters(sentiment=[4, 5]),
        "search two words": CommentFilters(search="nurses kind"),
    }
    n = 10  # the dashboard passes the setting's threshold (default 10) to every query
    for label, f in filters.items():
        f = f.scoped(scope) if scope is not None else f
        times = []
        for _ in range(repeats):
            next(iter(_views.values())).masks.clear()  # as after a filter change: nothing kept for these filters
            t = time.perf_counter()
            queries.summary_totals(engine, f, suppress_below=n)
            queries.fft_totals(engine, f, suppress_below=n)
            queries.topic_summary(engine, f, suppress_below=n)
            queries.categories_by_month(engine, f, suppress_below=n)
            queries.sentiment_by_month(engine, f, suppress_below=n)
            queries.fft_by_month(engine, f, suppress_below=n)
            queries.cooccurrence_grid(engine, f, suppress_below=n)
            queries.topic_summary(engine, f, suppress_below=n)
            times.append((time.perf_counter() - t) * 1000)
        out[f"overview queries, {label} (ms)"] = round(statistics.median(times))
    engine.dispose()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--upload-rows", type=int, default=10_000, help="0 to skip the browser upload timing")
    parser.add_argument("--scope", default="Surgery", help="The ward manager's place (any location level); '' skips")
    parser.add_argument("--server-only", action="store_true", help="Only the in-process share (no browser)")
    parser.add_argument("--returns", action="store_true",
                        help="Stores of two-question FFT returns (several comments per respondent) instead of one comment each")
    parser.add_argument("--out", default="feedback_dashboard.json", help="Result file in benchmarks/results/")
    args = parser.parse_args()
    import tempfile

    from tests.e2e.dashboard_server import running_server

    import os

    results: dict = {"date": time.strftime("%Y-%m-%d %H:%M"), "loadavg_start": [round(x, 2) for x in os.getloadavg()]}
    if args.upload_rows:
        results["upload"] = {"rows": args.upload_rows, **browser_upload(args.upload_rows),
                             "loadavg": [round(x, 2) for x in os.getloadavg()]}
        print(f"\n== upload {args.upload_rows:,} comments in the browser ==")
        for k, v in results["upload"].items():
            print(f"  {k:45s} {v}")
    from carelens.access import Scope

    for size in args.sizes:
        db = build_store(size, returns=args.returns)
        res = {"server side": server_side(db, args.repeats)}
        staff = {"ward": ("viewer", (args.scope,))} if args.scope else {}
        if args.scope:
            res[f"server side, scoped to {args.scope}"] = server_side(db, args.repeats, Scope.of(args.scope))
        if not args.server_only:
            with tempfile.TemporaryDirectory() as home, running_server(db, Path(home), timeout=300, staff=staff) as url:
                res["browser"] = browser_latency(url, args.repeats)
                if args.scope:
                    res[f"browser, ward manager scoped to {args.scope}"] = browser_latency(url, args.repeats, "ward")
        res["loadavg"] = [round(x, 2) for x in os.getloadavg()]
        res["date"] = results["date"]
        results[size] = res
        print(f"\n== {size:,} stored comments ==")
        for part, values in res.items():
            if not isinstance(values, dict):
                print(f"-- {part}: {values}")
                continue
            print(f"-- {part}")
            for k, v in values.items():
                print(f"  {k:45s} {v}")
        print("peer (experiencesdashboard, R Shiny): not run, its source and CRAN packages are not on this machine; no ratio")
    out = REPO / "benchmarks" / "results" / args.out
    # sizes not run this time keep their earlier results (each size records its own date)
    previous = json.loads(out.read_text()) if out.exists() else {}
    for key, value in previous.items():
        if key.isdigit() and key not in {str(k) for k in results}:
            results[key] = {"date": previous.get("date"), **value} if "date" not in value else value
    out.write_text(json.dumps(results, indent=2))
    print(f"\nwritten {out}")


if __name__ == "__main__":
    main()
