"""Helpers for browser tests: start ``carelens serve`` on a free loopback port against a temp store."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
SCREENSHOTS = Path(__file__).parent / "screenshots"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def require_browser() -> None:
    """Skip cleanly when Playwright or Debian's chromium is not installed."""
    pytest.importorskip("playwright.sync_api")
    if not (Path(CHROMIUM).exists() or shutil.which("chromium")):
        pytest.skip("chromium not installed (apt-get install chromium)")


# The staff every test server has (password tests.access_helpers.PASSWORD): one per role.
STAFF = {"admin": ("admin", ()), "lead": ("feedback_lead", ()), "caller": ("caller", ()), "planner": ("planner", ())}


def add_staff(db: Path, staff: dict[str, tuple[str, tuple[str, ...]]]) -> None:
    """Create ``staff`` ({name: (role, places)}) in the store at ``db``, then let the file go (the
    server about to start must be able to open it)."""
    from carelens.access import Role
    from carelens.db import database_url, get_engine
    from tests.access_helpers import add_user

    engine = get_engine(database_url(str(db)))
    for name, (role, places) in staff.items():
        add_user(engine, name, Role(role) if role else None, *places)
    engine.dispose()


def session_cookie(url: str, name: str = "admin", password: str | None = None) -> str:
    """Sign ``name`` in through the sign-in form at ``url`` (the app's root, a proxy's prefix
    included) as a browser would, without one; returns the ``Cookie`` header of the session."""
    import re
    import urllib.parse
    from urllib.parse import urlsplit

    from tests.access_helpers import PASSWORD

    jar = urllib.request.HTTPCookieProcessor()
    opener = urllib.request.build_opener(jar)
    root = url.rstrip("/") + "/"
    form = opener.open(root + "auth/login", timeout=60).read().decode()
    csrf = re.search(r'name="csrf" value="([^"]+)"', form).group(1)
    parts = urlsplit(root)
    opener.open(urllib.request.Request(root + "auth/login", data=urllib.parse.urlencode(
        {"username": name, "password": password or PASSWORD, "csrf": csrf, "next": "/"}).encode(),
        headers={"Origin": f"{parts.scheme}://{parts.netloc}"}), timeout=60)
    cookie = "; ".join(f"{c.name}={c.value}" for c in jar.cookiejar)
    assert "carelens_session=" in cookie, "the sign-in did not give a session"
    return cookie


def sign_in(page, url: str, name: str = "admin", password: str | None = None) -> None:
    """Sign ``page`` in through the sign-in form as a person would, and wait for the dashboard."""
    from tests.access_helpers import PASSWORD

    page.goto(url)
    page.locator("#username").fill(name)
    page.locator("#password").fill(password or PASSWORD)
    page.locator("#sign-in").click()
    page.locator("#signout").wait_for()


@contextmanager
def running_server(db: Path, home: Path, timeout: float = 60, staff: dict | None = None,
                   env: dict | None = None) -> Iterator[str]:
    """``carelens serve`` in a subprocess, with :data:`STAFF` (and ``staff``) able to sign in; yields
    its base URL and stops it afterwards. ``env`` adds environment variables (settings)."""
    add_staff(db, {**STAFF, **(staff or {})})
    port = free_port()
    extra = env or {}
    env = {**os.environ, "CARELENS_HOME": str(home), **extra}
    env.pop("CARELENS_DATABASE_URL", None)
    if "CARELENS_CONFIG" not in extra:
        env.pop("CARELENS_CONFIG", None)
    log = (home / "serve.log").open("w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "carelens.cli.app", "serve", "--host", "127.0.0.1", "--port", str(port), "--db", str(db)],
        env=env, stdout=log, stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}/"
    try:
        deadline = time.monotonic() + timeout
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"carelens serve exited: {(home / 'serve.log').read_text()[-2000:]}")
            try:  # the sign-in page answers once the server is up (every other page needs a signed-in user)
                with urllib.request.urlopen(url + "auth/login", timeout=2) as resp:
                    if resp.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("carelens serve did not start in time")
            time.sleep(0.3)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


def clean_env(home: Path, api_key: str | None = None, **extra: str) -> dict:
    """This process's environment without any CARELENS_ setting but the shared data's, for a
    carelens process on ``home`` (its default store and settings)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CARELENS_") or k == "CARELENS_SHARED_DATA"}
    env["CARELENS_HOME"] = str(home)
    if api_key:
        env["CARELENS_API_KEYS"] = api_key
    return {**env, **extra}


def carelens_command(home: Path, *args: str, api_key: str | None = None, timeout: float = 300,
                     **env: str) -> subprocess.CompletedProcess:
    """Run one ``carelens`` command as its own process on ``home``."""
    return subprocess.run([sys.executable, "-m", "carelens.cli.app", *args], env=clean_env(home, api_key, **env),
                          capture_output=True, text=True, timeout=timeout)


class ServeProcess:
    """``carelens serve`` as its own process on ``home``'s store, up once ``/api/health`` answers;
    ``request`` calls the API with ``api_key``; ``stop()`` sends SIGTERM as systemd does."""

    def __init__(self, home: Path, *args: str, api_key: str | None = None, timeout: float = 120) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.api_key = api_key
        self.log_path = home / f"serve-{self.port}.log"
        self.log = self.log_path.open("w")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "carelens.cli.app", "serve", "--port", str(self.port), *args],
            env=clean_env(home, api_key), stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout
        while True:
            if self.proc.poll() is not None:
                raise AssertionError(f"carelens serve exited: {self.log_path.read_text()[-2000:]}")
            try:
                if self.request("/api/health").get("status"):
                    break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise AssertionError("carelens serve did not start in time")
            time.sleep(0.3)

    def request(self, path: str, body: dict | None = None) -> dict:
        data = None if body is None else json.dumps(body).encode()
        headers = {"Content-Type": "application/json", **({"X-API-Key": self.api_key} if self.api_key else {})}
        req = urllib.request.Request(self.url + path, data=data, headers=headers)
        with urllib.request.urlopen(req, timeout=120) as resp:
            return json.loads(resp.read())

    def stop(self) -> bool:
        """SIGTERM, as systemd stops it; True if it shut down cleanly (uvicorn finishes its shutdown,
        then exits by the signal it caught: -15; 0 if the process ends on its own) with no traceback."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()
        return self.proc.returncode in (0, -signal.SIGTERM) and "Traceback" not in self.log_path.read_text()


def wait_until(page, expression: str, timeout: float = 60) -> None:
    """Wait for a JavaScript ``expression`` to be true in ``page``. Playwright's ``wait_for_function``
    evaluates a string with ``eval`` inside the page, which the dashboard's Content Security Policy
    forbids (no 'unsafe-eval'); ``evaluate`` goes through the DevTools protocol, which it does not."""
    import time

    deadline = time.monotonic() + timeout
    while not page.evaluate(f"() => Boolean({expression})"):
        if time.monotonic() > deadline:
            raise AssertionError(f"not true after {timeout:.0f} s: {expression}")
        time.sleep(0.1)


def pick_option(page, input_id: str, text: str, tries: int = 3) -> None:
    """Choose an option in a selectize input by typing it, as staff would. The server may refresh an
    input's choices while its list is open (after "Clear all filters", say), which closes the list:
    then type again, as staff would."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    box = page.locator(f"#{input_id}-selectized")
    for attempt in range(tries):
        box.click()
        box.fill(text)
        try:
            page.locator(".selectize-dropdown:visible .option", has_text=text).first.click(timeout=15_000)
            break
        except PlaywrightTimeout:
            if attempt == tries - 1:
                raise
    page.keyboard.press("Escape")
