"""Progress for long work, on stderr and only when stderr is a terminal (never in CI logs, pipes or
files, where a bar's redraws become hundreds of lines)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)


def _console() -> Console:
    return Console(stderr=True)  # stderr, so stdout stays the command's result


def make_progress(*, disable: bool | None = None) -> Progress:
    """A rich Progress with the columns we use everywhere. ``disable=True`` turns it off; it is
    also off whenever stderr is not a terminal (``FORCE_TERMINAL=1`` counts as one, as in rich)."""
    console = _console()
    return Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=console,
        disable=bool(disable) or not console.is_terminal,
        transient=False,
    )


@contextmanager
def progress_task(description: str, total: int | None, *, disable: bool | None = None) -> Iterator[Callable[..., None]]:
    """Yield an ``advance(n=1)`` callable that moves a single bar of ``total`` steps: count the
    steps the user asked for (64 runs are 64 steps), not the work done around them."""
    with make_progress(disable=disable) as progress:
        task = progress.add_task(description, total=total)
        yield lambda n=1: progress.advance(task, n)


def status(description: str) -> AbstractContextManager:
    """A spinner with ``description`` while one long step runs (no count to show); nothing when
    stderr is not a terminal."""
    console = _console()
    return console.status(description) if console.is_terminal else nullcontext()
