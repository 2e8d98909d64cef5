"""A scenario run in a process of its own, with progress and a way to stop it.

Why a process and not a thread: the dashboard serves every planner from one Python process. A
projection is minutes of numpy and pandas work; in a thread it shares the interpreter lock with
every other user's page, and a thread cannot be stopped. In its own process (started fresh, with
``spawn``, so it inherits no server threads or open database files) it leaves the server free,
and cancelling it ends the process at once. The parent keeps the store: the child only computes
and hands back the :class:`~carelens.demand.scenario.Scenario`.
"""

from __future__ import annotations

import multiprocessing as mp
import threading
import time
import traceback
from typing import Any

from carelens.errors import CarelensError

#: Progress messages are sent at most this often (a fast run would otherwise flood the pipe).
PROGRESS_EVERY_S = 0.25


class Cancelled(CarelensError):
    """The person who started the run stopped it."""


def _child(conn, params, data, options: dict[str, Any]) -> None:  # pragma: no cover - runs in the child process
    import warnings

    from carelens.demand.scenario import run_scenario

    last = [0.0]

    def report(done: int, total: int) -> None:
        now = time.monotonic()
        if now - last[0] >= PROGRESS_EVERY_S or done >= total:
            last[0] = now
            conn.send(("progress", done, total))

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the scenario keeps its warnings
            scenario = run_scenario(params, data, on_progress=report, **options)
        conn.send(("done", scenario))
    except CarelensError as exc:
        conn.send(("error", type(exc).__name__, exc.message, exc.file, exc.row, exc.field))
    except Exception as exc:  # noqa: BLE001 - a bug: keep its traceback for the server's log
        conn.send(("failed", f"{type(exc).__name__}: {exc}", traceback.format_exc()))
    finally:
        conn.close()


class BackgroundRun:
    """``run_scenario(params, data, **options)`` in its own process.

    :meth:`wait` (blocking: call it from a worker thread) returns the scenario, or raises the
    ``CarelensError`` the run raised, :class:`Cancelled` after :meth:`cancel`, or ``RuntimeError``
    for anything else (its traceback in the message for the log). :meth:`progress` is
    ``(done, total)`` Monte Carlo runs, safe to read from any thread.
    """

    def __init__(self, params, data, **options: Any) -> None:
        self._params, self._data, self._options = params, data, options
        self._progress = (0, max(1, int(options.get("runs") or params.model_runs)))
        self._cancelled = threading.Event()
        self._process: mp.process.BaseProcess | None = None

    def progress(self) -> tuple[int, int]:
        return self._progress

    def cancel(self) -> None:
        self._cancelled.set()

    @property
    def cancelled(self) -> bool:
        return self._cancelled.is_set()

    def wait(self, on_progress=None):
        """Run and wait (blocking); ``on_progress(done, total)`` is called as the runs go by."""
        context = mp.get_context("spawn")
        receive, send = context.Pipe(duplex=False)
        process = context.Process(target=_child, args=(send, self._params, self._data, self._options), daemon=True)
        self._process = process
        process.start()
        send.close()  # the child holds the sending end; EOF when it ends
        try:
            while True:
                if self._cancelled.is_set():
                    raise Cancelled("the projection was stopped")
                if not receive.poll(0.2):
                    if not process.is_alive() and not receive.poll(0):
                        raise RuntimeError(f"the projection's process ended unexpectedly (exit code "
                                           f"{process.exitcode})")
                    continue
                try:
                    message = receive.recv()
                except EOFError:
                    raise RuntimeError(f"the projection's process ended unexpectedly (exit code {process.exitcode})") \
                        from None
                kind = message[0]
                if kind == "progress":
                    self._progress = (int(message[1]), max(int(message[2]), 1))
                    if on_progress is not None:
                        on_progress(*self._progress)
                elif kind == "done":
                    return message[1]
                elif kind == "error":
                    _, cls, text, file, row, field = message
                    error = next((c for c in CarelensError.__subclasses__() if c.__name__ == cls), CarelensError)
                    raise error(text, file=file, row=row, field=field)
                else:
                    raise RuntimeError(f"the projection failed: {message[1]}\n{message[2]}")
        finally:
            receive.close()
            if process.is_alive():
                process.terminate()
            process.join(timeout=10)
            if process.is_alive():  # pragma: no cover - terminate is enough on Linux
                process.kill()
                process.join(timeout=5)
