"""The feedback model read once per process, and read ahead of need in a background thread.

Why a process-wide cache: the API's classify and load routes and the dashboard's upload all need
the model, and reading it takes seconds of CPU; each request reading it again would make every
one of them slow.
"""

from __future__ import annotations

import threading
from pathlib import Path

_MODELS: dict[str, object] = {}
_MODELS_LOCK = threading.Lock()


def cached_model(path: str | Path | None = None):
    """Load a feedback model once per process (the API and dashboard call this on every request).

    Thread-safe: ``carelens serve`` warms it in a background thread while the first upload or
    classify request may already be waiting for it; the model is read once either way.
    """
    key = str(path or "")
    model = _MODELS.get(key)
    if model is not None:
        return model
    with _MODELS_LOCK:
        if key not in _MODELS:
            from carelens.feedback.model import FeedbackModel

            _MODELS[key] = FeedbackModel.load(path)
    return _MODELS[key]


_WARMING: set[str] = set()


def warm_model_in_background(path: str | Path | None = None) -> None:
    """Start reading the model in a daemon thread (once per path), so a load that follows soon does not
    wait for it. The dashboard calls this when staff open the Upload page: reading the model takes
    seconds of CPU, and doing it at server start would slow the first minute of everyone's browsing."""
    key = str(path or "")
    if key in _MODELS or key in _WARMING:
        return
    _WARMING.add(key)

    def warm() -> None:
        try:
            cached_model(path)
        except Exception:  # noqa: BLE001 - the load that needs the model reports the problem itself
            pass
        finally:
            _WARMING.discard(key)

    threading.Thread(target=warm, name="carelens-model-warm-up", daemon=True).start()


def is_loaded() -> bool:
    """Whether any model has been read in this process (the API's health route says so)."""
    return bool(_MODELS)
