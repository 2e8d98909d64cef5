"""Progress bars for long work, quiet when output is not a terminal (CI logs, pipes)."""

from __future__ import annotations

import sys
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import TypeVar

from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

T = TypeVar("T")


def make_progress(*, disable: bool | None = None) -> Progress:
    """A rich Progress with the columns we use everywhere (stderr, so stdout stays data)."""
    from rich.console import Console

    console = Console(stderr=True)
    if disable is None:
        disable = not sys.stderr.isatty()
    return Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=console,
        disable=disable,
        transient=False,
    )


@contextmanager
def progress_task(description: str, total: int | None, *, disable: bool | None = None):
    """Yield an ``advance(n)`` callable that moves a single bar."""
    with make_progress(disable=disable) as progress:
        task = progress.add_task(description, total=total)
        yield lambda n=1: progress.advance(task, n)


def track(items: Iterable[T], description: str, total: int | None = None) -> Iterator[T]:
    if total is None and hasattr(items, "__len__"):
        total = len(items)  # type: ignore[arg-type]
    with progress_task(description, total) as advance:
        for item in items:
            yield item
            advance(1)
