"""Console output for long operations: a progress bar and plain-text tables.

The bar redraws in place on a terminal and prints a few milestone lines otherwise (CI logs stay short).
"""

from __future__ import annotations

import sys
import time
from collections.abc import Sequence
from typing import TextIO


class Progress:
    """``with Progress("Synthesising audio", total) as bar: bar.advance()``."""

    def __init__(self, label: str, total: int, *, stream: TextIO | None = None, width: int = 30) -> None:
        self.label = label
        self.total = max(total, 0)
        self.done = 0
        self.stream = stream or sys.stderr
        self.width = width
        self.tty = self.stream.isatty()
        self._next_milestone = 0.25
        self._started = time.monotonic()

    def __enter__(self) -> Progress:
        self._draw()
        return self

    def __exit__(self, *exc: object) -> None:
        self.done = self.total if exc == (None, None, None) else self.done
        self._draw(final=True)

    def advance(self, n: int = 1) -> None:
        self.done = min(self.total, self.done + n)
        if self.tty:
            self._draw()
        elif self.total and self.done / self.total >= self._next_milestone and self.done < self.total:
            self._next_milestone += 0.25
            self._draw()

    def _draw(self, *, final: bool = False) -> None:
        fraction = self.done / self.total if self.total else 1.0
        filled = int(self.width * fraction)
        bar = "#" * filled + "-" * (self.width - filled)
        elapsed = time.monotonic() - self._started
        line = f"{self.label:<28} [{bar}] {self.done}/{self.total} ({elapsed:.1f} s)"
        if self.tty:
            self.stream.write("\r" + line + ("\n" if final else ""))
        elif final or self.done:
            self.stream.write(line + "\n")
        self.stream.flush()


def table(headers: Sequence[str], rows: Sequence[Sequence[object]], *, align_right: Sequence[bool] = ()) -> str:
    """A fixed-width text table; numbers right-aligned unless told otherwise."""
    cells = [[str(c) for c in headers], *[[_fmt(c) for c in row] for row in rows]]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    right = list(align_right) or [all(isinstance(row[i], int | float) for row in rows) for i in range(len(headers))]

    def line(row: Sequence[str]) -> str:
        return "  ".join(
            c.rjust(w) if right[i] else c.ljust(w) for i, (c, w) in enumerate(zip(row, widths, strict=True))
        )

    rule = "  ".join("-" * w for w in widths)
    return "\n".join([line(cells[0]), rule, *(line(r) for r in cells[1:])])


def _fmt(value: object) -> str:
    if isinstance(value, float):
        return f"{value:,.2f}"
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    return str(value)
