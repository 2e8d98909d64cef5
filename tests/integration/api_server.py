"""A real uvicorn server on loopback serving the API mounted at ``/api`` (as ``carelens serve`` mounts it)."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

from carelens.config import Settings


@contextmanager
def serve_api(settings: Settings) -> Iterator[str]:
    """Yield the API's base URL (``http://127.0.0.1:PORT/api``) while a server runs in a thread."""
    import uvicorn
    from fastapi import FastAPI

    from carelens.web.api import create_api

    root = FastAPI(docs_url=None, redoc_url=None, openapi_url=None)
    root.mount("/api", create_api(settings))
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(root, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the API server did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}/api"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
