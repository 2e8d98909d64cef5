"""Progress for long work, on stderr and only when stderr is a terminal (never in CI logs, pipes or
files, where a bar's redraws become hundreds of lines)."""

from __future__ import annotations

import sys
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


def interactive() -> bool:
    """Whether stderr is a terminal a person watches: not a log, a pipe or a file. (Rich's own test
    also says yes under ``FORCE_COLOR``, which CI systems set to colour their logs: a bar redrawn
    into a log is hundreds of lines, so colour alone does not count here.)"""
    try:
        return sys.stderr.isatty()
    except (AttributeError, ValueError):  # replaced or closed stderr
        return False


def _console() -> Console:
    # stderr, so stdout stays the command's result
    return Console(stderr=True, force_terminal=True) if interactive() else Console(stderr=True)


def make_progress(*, disable: bool | None = None) -> Progress:
    """A rich Progress with the columns we use everywhere. ``disable=True`` turns it off; it is
    also off whenever stderr is not a terminal (:func:`interactive`)."""
    console = _console()
    return Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=console,
        disable=bool(disable) or not interactive(),
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
    return _console().status(description) if interactive() else nullcontext()
