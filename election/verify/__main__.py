"""``python -m election.verify <record dir>``: check an election record; exit 0 only if every check passes.

The verifier fails closed: a missing part of the record, or a file or directory that is not a known part, fails
the record unless ``--skip <check>`` names the check concerned; the output ends with a table of every check and
its result (PASS, FAIL, or SKIPPED with the reason).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path
from typing import TextIO

from election.verify.parts import Check, Stage
from election.verify.runner import CheckResult, Listener, Outcome, Verdict, check_names, run_checks, table


class Reporter(Listener):
    """One line per check; on a terminal, a progress bar updated in place while the check runs."""

    def __init__(self, out: TextIO) -> None:
        self.out = out
        self.tty = out.isatty()
        self.name = ""
        self._last = 0.0

    def start(self, check: Check) -> None:
        self.name = check.title

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

    def finish(self, result: CheckResult) -> None:
        clear = "\r\033[K" if self.tty else ""
        self.out.write(f"{clear}{result.outcome.value}  {self.name}: {result.message}\n")
        self.out.flush()


def conclusion(verdict: Verdict) -> str:
    if not verdict.ok:
        return "the record does NOT verify"
    if verdict.skipped:
        return f"the record verifies, except the skipped check(s): {', '.join(verdict.skipped)}"
    return "the record verifies"


def verify_record(
    root: Path, out: TextIO, *, jobs: int = 1, skip: tuple[str, ...] = (), allow_unclosed: tuple[str, ...] = ()
) -> bool:
    """Every check on the record at ``root``, a line each, then the table and the conclusion, to ``out``."""
    verdict = run_checks(root, jobs=jobs, skip=skip, allow_unclosed=allow_unclosed, listener=Reporter(out))
    out.write("\n" + table(verdict) + "\n" + conclusion(verdict) + "\n")
    return verdict.ok


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m election.verify", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("record", type=Path, help="the election record directory")
    parser.add_argument(
        "--jobs", type=int, default=os.cpu_count() or 1,
        help="processes checking the cast ballots' proofs (default: one per CPU; 1: all in this process)",
    )  # fmt: skip
    parser.add_argument(
        "--skip", action="append", default=[], choices=check_names(), metavar="CHECK",
        help=f"do not run this check (repeatable; reported as SKIPPED): {', '.join(check_names())}",
    )  # fmt: skip
    parser.add_argument(
        "--allow-unclosed", action="append", default=[], metavar="KIOSK",
        help="accept this kiosk's chain without a signed close (a kiosk destroyed or stolen; still reported)",
    )  # fmt: skip
    args = parser.parse_args(argv)
    if args.jobs < 1:
        parser.error("--jobs must be at least 1")
    if not args.record.is_dir():
        print(f"{args.record} is not a directory", file=sys.stderr)
        return 2
    ok = verify_record(
        args.record, sys.stdout, jobs=args.jobs, skip=tuple(args.skip), allow_unclosed=tuple(args.allow_unclosed)
    )
    return 0 if ok else 1


__all__ = ["Outcome", "Stage", "main", "verify_record"]

if __name__ == "__main__":
    raise SystemExit(main())
