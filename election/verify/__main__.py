"""``python -m election.verify <record dir>``: check an election record; exit 0 only if every check passes."""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path
from typing import TextIO

from election.verify.checks import CHECKS, Invalid, State


class Reporter:
    """One line per check; on a terminal, a progress bar updated in place while the check runs."""

    def __init__(self, out: TextIO) -> None:
        self.out = out
        self.tty = out.isatty()
        self.name = ""
        self._last = 0.0

    def start(self, name: str) -> None:
        self.name = name

    def progress(self, done: int, total: int) -> None:
        if not self.tty or total <= 0:
            return
        now = time.monotonic()
        if done < total and now - self._last < 0.1:
            return
        self._last = now
        width = 30
        filled = width * done // total
        self.out.write(f"\r  {self.name:<28} [{'#' * filled}{'.' * (width - filled)}] {done}/{total}")
        self.out.flush()

    def finish(self, ok: bool, message: str) -> None:
        clear = "\r\033[K" if self.tty else ""
        self.out.write(f"{clear}{'PASS' if ok else 'FAIL'}  {self.name}: {message}\n")
        self.out.flush()


def verify_record(root: Path, out: TextIO, *, jobs: int = 1) -> bool:
    reporter = Reporter(out)
    state = State(root, jobs=jobs)
    for name, check in CHECKS:
        reporter.start(name)
        try:
            message = check(state, reporter.progress)
        except Invalid as exc:
            reporter.finish(False, str(exc))
            out.write("the record does NOT verify\n")
            return False
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            reporter.finish(False, f"malformed record ({type(exc).__name__}: {exc})")
            out.write("the record does NOT verify\n")
            return False
        reporter.finish(True, message)
    out.write("the record verifies\n")
    return True


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m election.verify", description=__doc__)
    parser.add_argument("record", type=Path, help="the election record directory")
    parser.add_argument(
        "--jobs", type=int, default=os.cpu_count() or 1,
        help="processes checking the cast ballots' proofs (default: one per CPU; 1: all in this process)",
    )  # fmt: skip
    args = parser.parse_args(argv)
    if args.jobs < 1:
        parser.error("--jobs must be at least 1")
    if not args.record.is_dir():
        print(f"{args.record} is not a directory", file=sys.stderr)
        return 2
    return 0 if verify_record(args.record, sys.stdout, jobs=args.jobs) else 1


if __name__ == "__main__":
    raise SystemExit(main())
