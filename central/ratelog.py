"""Rate-limited logging for the office's server process (issue 15, point 7).

A flood of bad connections must not become a flood of log lines: out of file descriptors, asyncio logged one
traceback per refused ``accept`` (730 MB in 70 s). ``RateLimit`` lets through at most ``burst`` records of the
same kind (logger name, level and message template) per ``window`` seconds; the rest are counted and reported
in the next record of that kind that passes ("... and 5812 more like this in the last 10 s"), without their
tracebacks. ``install`` puts it on the root handler (created if there is none) and on uvicorn's handlers.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Final

FORMAT: Final = "%(asctime)s %(levelname)s %(name)s: %(message)s"


class RateLimit(logging.Filter):
    def __init__(self, *, burst: int = 5, window: float = 10.0, clock: Callable[[], float] = time.monotonic) -> None:
        super().__init__()
        self.burst, self.window, self.clock = burst, window, clock
        self._lock = threading.Lock()
        self._seen: dict[tuple[str, int, str], tuple[float, int, int]] = {}  # key -> (window start, passed, dropped)

    def filter(self, record: logging.LogRecord) -> bool:
        key = (record.name, record.levelno, str(record.msg)[:200])
        now = self.clock()
        with self._lock:
            start, passed, dropped = self._seen.get(key, (now, 0, 0))
            if now - start >= self.window:
                start, passed = now, 0
            if passed >= self.burst:
                self._seen[key] = (start, passed, dropped + 1)
                return False
            self._seen[key] = (start, passed + 1, 0)
            if len(self._seen) > 10_000:  # many distinct messages: forget the oldest windows
                for old in sorted(self._seen, key=lambda k: self._seen[k][0])[:5_000]:
                    del self._seen[old]
        if dropped:
            record.msg = f"{record.msg} (and {dropped} more like this in the last {self.window:g} s, not logged)"
            record.exc_info, record.exc_text = None, None
        return True


def install(rate: RateLimit | None = None) -> RateLimit:
    """Filter every handler the server's records reach: the root's (one is added at INFO if none) and uvicorn's."""
    rate = rate or RateLimit()
    root = logging.getLogger()
    if not root.handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter(FORMAT))
        root.addHandler(handler)
        root.setLevel(logging.INFO)
    for name in ("", "uvicorn", "uvicorn.error", "asyncio"):
        for each in logging.getLogger(name).handlers:
            if rate not in each.filters:
                each.addFilter(rate)
    return rate
