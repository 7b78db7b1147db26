"""Progress for long computations: a bar in notebooks and terminals (tqdm when installed,
otherwise one line on stderr), shown only once a call has taken more than a second. Work that
is not counted (total 0) shows the time taken instead of a fraction."""

from __future__ import annotations

import sys
import time
from typing import Callable, Optional


def reporter(label: str, enabled: bool) -> Optional[Callable[[int, int], None]]:
    """A `progress(done, total)` callable for the Rust core, or None when disabled. The core
    calls it after the first second, then every 100 ms (`total` 0: work that is not counted),
    and once with `done == total > 0` at the end."""
    if not enabled:
        return None
    state = {"bar": None}

    def progress(done: int, total: int) -> None:
        bar = state["bar"]
        if bar is None:
            try:
                from tqdm.auto import tqdm

                bar = tqdm(total=total or None, desc=label, unit="rep" if total else "it")
            except ImportError:
                bar = _Line(label, total)
            state["bar"] = bar
        bar.n = done
        bar.refresh()
        if total and done >= total:
            bar.close()
            state["bar"] = None

    return progress


class _Line:
    """A one-line stderr progress display for when tqdm is not installed."""

    def __init__(self, label: str, total: int):
        self.label, self.total, self.n = label, total, 0
        self.start = time.monotonic()

    def refresh(self) -> None:
        if self.total:
            sys.stderr.write(f"\r{self.label}: {self.n}/{self.total}")
        else:
            sys.stderr.write(f"\r{self.label}: {time.monotonic() - self.start + 1:.0f} s")
        sys.stderr.flush()

    def close(self) -> None:
        sys.stderr.write("\n")
        sys.stderr.flush()
