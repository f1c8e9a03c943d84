"""How capture progress looks: a rich bar on a terminal, one plain line per run elsewhere."""

from __future__ import annotations

import contextlib
import sys
import time
from collections.abc import Callable, Iterator

from flamediff.capture import Progress


def _describe(event: Progress) -> str:
    kind = "run" if event.counted else "warm-up"
    run = event.run
    assert run is not None
    wall = f"{run.info.wall_seconds:.2f} s, " if run.info.wall_seconds is not None else ""
    return f"{event.label}: {kind} {event.number}/{event.of}: {wall}{run.info.samples} samples"


@contextlib.contextmanager
def progress_reporter(title: str) -> Iterator[Callable[[Progress], None]]:
    """A progress callback for capture; the bar is drawn only when stderr is a terminal."""
    if not sys.stderr.isatty():
        started = time.monotonic()

        def plain(event: Progress) -> None:
            if event.run is not None:
                elapsed = time.monotonic() - started
                sys.stderr.write(f"{_describe(event)} (elapsed {elapsed:.0f} s)\n")
                sys.stderr.flush()

        yield plain
        return

    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        TextColumn,
        TimeElapsedColumn,
    )
    from rich.progress import Progress as Bar

    console = Console(stderr=True)
    with Bar(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=False,
    ) as bar:
        task = bar.add_task(title, total=None)

        def fancy(event: Progress) -> None:
            bar.update(task, total=event.steps)
            if event.run is None:
                kind = "run" if event.counted else "warm-up"
                bar.update(task, description=f"{event.label}: {kind} {event.number}/{event.of}")
            else:
                bar.update(task, completed=event.step)
                console.log(_describe(event))

        yield fancy
