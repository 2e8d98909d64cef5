"""``carelens serve --root-path /carelens`` behind a real nginx on loopback, with the proxy
configuration docs/deploy.md gives (``deploy/nginx/carelens-proxy.conf``): the dashboard page, its
static assets and websocket (in chromium), and the API, all under the prefix.

nginx comes from Debian's apt (``.ci/run`` installs it); skipped where it is absent. Without nginx,
the second test still checks what ``--root-path`` changes, on the server directly.
"""

from __future__ import annotations

import asyncio
import json
import re
import shutil
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from tests.conftest import REPO
from tests.e2e.dashboard_server import (
    CHROMIUM,
    CHROMIUM_ARGS,
    STAFF,
    ServeProcess,
    add_staff,
    carelens_command,
    free_port,
    require_browser,
    session_cookie,
    sign_in,
)

KEY = "proxy-key"
PREFIX = "/carelens"
PAGE = {"Accept": "text/html"}  # what a browser asks for a page (anything else unsigned is a 401)


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def get(url: str, headers: dict | None = None) -> tuple[int, dict, bytes]:
    opener = urllib.request.build_opener(NoRedirect)
    try:
        with opener.open(urllib.request.Request(url, headers=headers or {}), timeout=60) as resp:
            return resp.status, dict(resp.headers), resp.read()
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers), exc.read()


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """A store with comments, ``carelens serve --root-path /carelens``."""
    from carelens.feedback.synth import generate_comments

    home = tmp_path_factory.mktemp("proxy") / "home"
    home.mkdir()
    export = home.parent / "export.csv"
    generate_comments(120, seed=9).to_csv(export, index=False)
    assert carelens_command(home, "feedback", "load", str(export)).returncode == 0
    add_staff(home / "carelens.duckdb", STAFF)
    server = ServeProcess(home, "--root-path", PREFIX, api_key=KEY)
    yield server
    assert server.stop()


@pytest.fixture(scope="module")
def nginx(served, tmp_path_factory):
    binary = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None)
    if binary is None:
        pytest.skip("nginx not installed (apt-get install --no-install-recommends nginx)")
    work = tmp_path_factory.mktemp("nginx")
    port = free_port()
    locations = (REPO / "deploy" / "nginx" / "carelens-proxy.conf").read_text()
    assert "http://127.0.0.1:8000/" in locations
    (work / "carelens-proxy.conf").write_text(locations.replace("127.0.0.1:8000", f"127.0.0.1:{served.port}"))
    temp = " ".join(f"{kind}_temp_path {work}/{kind};" for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
    (work / "nginx.conf").write_text(f"""
worker_processes 1;
pid {work}/nginx.pid;
error_log {work}/error.log warn;
events {{ worker_connections 128; }}
http {{
  access_log {work}/access.log;
  {temp}
  map $http_upgrade $connection_upgrade {{ default upgrade; '' close; }}
  server {{
    listen 127.0.0.1:{port};
    include {work}/carelens-proxy.conf;
  }}
}}
""")
    proc = subprocess.Popen([binary, "-p", str(work), "-c", str(work / "nginx.conf"), "-e", str(work / "error.log"),
                             "-g", "daemon off;"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        if proc.poll() is not None:
            raise AssertionError(f"nginx exited: {proc.stdout.read().decode()[-2000:]}")
        try:
            if get(url + PREFIX + "/api/health")[0] == 200:
                break
        except OSError:
            pass
        assert time.monotonic() < deadline, "nginx did not start"
        time.sleep(0.2)
    yield url
    proc.terminate()
    proc.wait(timeout=30)


def test_page_assets_websocket_and_api_through_nginx_under_the_prefix(nginx: str) -> None:
    status, headers, _ = get(nginx + PREFIX)
    assert status == 301 and headers["Location"].endswith(PREFIX + "/")
    status, headers, _ = get(nginx + PREFIX + "/", PAGE)  # not signed in: to the sign-in page, under the prefix
    assert status == 303 and headers["location"].startswith(PREFIX + "/auth/login")
    assert get(nginx + PREFIX + "/auth/login")[0] == 200
    cookie = {"Cookie": session_cookie(nginx + PREFIX, "lead")}  # the session cookie's path is the prefix
    status, _, page = get(nginx + PREFIX + "/", cookie)
    assert status == 200
    html = page.decode()
    assets = sorted(set(re.findall(r'(?:src|href)="((?:lib|vendor|www)/[^"]+)"', html)))
    assert any(a.startswith("vendor/plotly") for a in assets) and any(a.startswith("www/") for a in assets)
    assert any(a.startswith("lib/shiny") for a in assets)
    for asset in assets:  # relative: each resolves under the prefix
        assert get(f"{nginx}{PREFIX}/{asset}", cookie)[0] == 200, asset

    assert json.loads(get(nginx + PREFIX + "/api/health")[2])["status"] == "ok"
    status, _, body = get(nginx + PREFIX + "/api/comments/query", {"X-API-Key": KEY})
    assert status == 405  # a POST route, reached through the prefix
    request = urllib.request.Request(nginx + PREFIX + "/api/comments/query", data=b'{"limit": 1}',
                                     headers={"X-API-Key": KEY, "Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=60) as resp:
        assert json.loads(resp.read())["total"] == 120
    status, _, docs = get(nginx + PREFIX + "/api/docs", cookie)
    assert status == 200 and f"{PREFIX}/api/openapi.json" in docs.decode()  # the docs page finds its document

    async def shiny_session() -> dict:  # the websocket, upgraded through nginx
        import websockets

        uri = nginx.replace("http://", "ws://") + PREFIX + "/websocket/"
        async with websockets.connect(uri, origin=nginx, additional_headers=cookie) as ws:
            await ws.send(json.dumps({"method": "init", "data": {}}))
            return json.loads(await asyncio.wait_for(ws.recv(), 60))

    assert "config" in asyncio.run(shiny_session())


@pytest.mark.browser
def test_the_dashboard_works_in_a_browser_through_nginx_under_the_prefix(nginx: str) -> None:
    require_browser()
    from playwright.sync_api import sync_playwright

    failed: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page()
        page.set_default_timeout(120_000)
        page.on("requestfailed", lambda r: failed.append(f"{r.url} {r.failure}"))
        page.on("response", lambda r: failed.append(f"{r.url} {r.status}") if r.status >= 400 else None)
        sign_in(page, nginx + PREFIX + "/", "lead")
        # the headline number is drawn by the server over the websocket
        page.locator(".bslib-value-box .value-box-value", has_text="120").first.wait_for()
        page.locator("[data-chart=subcategories] .trace.bars").first.wait_for()
        assert page.evaluate("location.pathname") == PREFIX + "/"
        browser.close()
    assert failed == []


def test_root_path_on_the_server_itself(served: ServeProcess) -> None:
    """What ``--root-path`` changes, without a proxy: the API documents itself under the prefix."""
    status, _, docs = get(served.url + "/api/docs", {"X-API-Key": KEY})
    assert status == 200 and f"{PREFIX}/api/openapi.json" in docs.decode()
    status, headers, _ = get(served.url + "/", PAGE)
    assert status == 303 and headers["location"].startswith(PREFIX + "/auth/login")  # sign-in, under the prefix
    assert get(served.url + "/auth/login")[0] == 200 and get(served.url + "/api/health")[0] == 200
    assert "behind a proxy at /carelens/" in served.log_path.read_text()
