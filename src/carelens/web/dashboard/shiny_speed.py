"""One setting of Shiny's that costs a page view its speed, turned off while nobody uses it.

Shiny 1.8 names every ``reactive.value`` it creates without a name (for OpenTelemetry logs) by
walking the call stack with ``inspect.stack()``, which reads the source of every frame: about a
fifth of the server's work when a page opens here (py-spy, BENCHMARKS.md, issue 12), since each
page view creates some sixty values (ours, extended tasks', polls'). carelens sends no
OpenTelemetry; where a trust turns Shiny's tracing on, the names are inferred as before.
"""

from __future__ import annotations


def skip_name_inference_without_tracing() -> None:
    """Make ``Value._try_infer_name`` a no-op unless Shiny's OpenTelemetry tracing is enabled.

    Idempotent; does nothing on a Shiny without the inference (older or newer internals)."""
    try:
        from shiny.otel._core import is_otel_tracing_enabled
        from shiny.reactive._reactives import Value
    except ImportError:
        return
    original = getattr(Value, "_try_infer_name", None)
    if original is None or getattr(original, "_carelens_wrapped", False):
        return

    def _try_infer_name(self):
        return original(self) if is_otel_tracing_enabled() else None

    _try_infer_name._carelens_wrapped = True  # type: ignore[attr-defined]
    Value._try_infer_name = _try_infer_name  # type: ignore[method-assign]
