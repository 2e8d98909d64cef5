"""Helpers for browser tests: start ``carelens serve`` on a free loopback port against a temp store."""

from __future__ import annotations

import os
import shutil
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


@contextmanager
def running_server(db: Path, home: Path, timeout: float = 60) -> Iterator[str]:
    """``carelens serve`` in a subprocess; yields its base URL and stops it afterwards."""
    port = free_port()
    env = {**os.environ, "CARELENS_HOME": str(home)}
    env.pop("CARELENS_DATABASE_URL", None)
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
            try:
                with urllib.request.urlopen(url, timeout=2) as resp:
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
