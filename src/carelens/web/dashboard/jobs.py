"""Long jobs with progress: the one way a page runs something that takes seconds or minutes.

A job (loading and classifying an upload, a Monte Carlo projection) runs in a worker thread through
Shiny's ``reactive.extended_task``, so the page, and every other page and session, stays responsive
while it runs, and a second start waits for the first. The work function reports progress with
``on_progress(done, total)`` (the signature ``load_comments`` and the demand runner already call);
the page draws :meth:`BackgroundJob.progress_bar` while the job runs and reads
:meth:`~BackgroundJob.result` or :meth:`~BackgroundJob.error` when it ends.

Create jobs inside a page's server function (they belong to one browser session).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any, Generic, TypeVar

from shiny import reactive, ui

R = TypeVar("R")

POLL_SECONDS = 0.4


class BackgroundJob(Generic[R]):
    """``work(*args, on_progress=..., **kwargs)`` run in a thread, with its status, progress and outcome.

    ``status()`` is reactive: "initial", "running", "success", "error" (Shiny's extended-task states).
    """

    def __init__(self, work: Callable[..., R], *, poll_seconds: float = POLL_SECONDS):
        self._work = work
        self._poll = poll_seconds
        self._progress: tuple[int, int] = (0, 1)  # written by the worker thread, read by the page

        async def run(*args: Any, **kwargs: Any) -> R:
            return await asyncio.to_thread(self._work, *args, on_progress=self._report, **kwargs)

        self._task = reactive.extended_task(run)

    def _report(self, done: int, total: int) -> None:
        self._progress = (int(done), max(int(total), 1))

    def start(self, *args: Any, **kwargs: Any) -> None:
        """Run the job with these arguments (after the current run, if one is running)."""
        self._progress = (0, 1)
        self._task(*args, **kwargs)

    def status(self) -> str:
        return self._task.status()

    def running(self) -> bool:
        return self.status() == "running"

    def result(self) -> R | None:
        """The last run's result, or None unless it succeeded (reactive)."""
        return self._task.value.get() if self.status() == "success" else None

    def error(self) -> BaseException | None:
        """What the last run raised, or None unless it failed (reactive)."""
        return self._task.error.get() if self.status() == "error" else None

    def progress(self) -> tuple[int, int]:
        """(done, total) so far; while running, the caller re-runs every ``poll_seconds``."""
        if self.running():
            reactive.invalidate_later(self._poll)
        return self._progress

    def progress_bar(self, label: str, describe: Callable[[int, int], str], *, class_: str = "") -> ui.Tag | None:
        """An accessible progress bar and one line of words while the job runs, else None.

        ``label`` names the bar for screen readers; ``describe(done, total)`` is the line under it.
        """
        if not self.running():
            return None
        done, total = self.progress()
        pct = round(100 * min(done, total) / total)
        bar = ui.div(ui.div(f"{pct}%", class_="progress-bar", style=f"width:{pct}%"),
                     class_="progress mt-2", role="progressbar", aria_label=label, aria_valuenow=str(pct),
                     aria_valuemin="0", aria_valuemax="100")
        return ui.div(bar, ui.p(describe(done, total), class_="hint job-running"), class_=f"job-progress {class_}".strip())
