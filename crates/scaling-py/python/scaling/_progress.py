"""Progress for long computations: a bar in notebooks and terminals (tqdm when installed,
otherwise one line on stderr), shown only once a call has taken more than a second."""

from __future__ import annotations

import sys
from typing import Callable, Optional


def reporter(label: str, enabled: bool) -> Optional[Callable[[int, int], None]]:
    """A `progress(done, total)` callable for the Rust core, or None when disabled."""
    if not enabled:
        return None
    state = {"bar": None}

    def progress(done: int, total: int) -> None:
        bar = state["bar"]
        if bar is None:
            try:
                from tqdm.auto import tqdm

                bar = tqdm(total=total, desc=label, unit="rep")
            except ImportError:
                bar = _Line(label, total)
            state["bar"] = bar
        bar.n = done
        bar.refresh()
        if done >= total:
            bar.close()

    return progress


class _Line:
    """A one-line stderr progress display for when tqdm is not installed."""

    def __init__(self, label: str, total: int):
        self.label, self.total, self.n = label, total, 0

    def refresh(self) -> None:
        sys.stderr.write(f"\r{self.label}: {self.n}/{self.total}")
        sys.stderr.flush()

    def close(self) -> None:
        sys.stderr.write("\n")
        sys.stderr.flush()
