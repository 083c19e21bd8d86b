"""``python -m election.verify <record dir>``: check an election record; exit 0 only if every check passes.

The verifier fails closed: a missing part of the record, or a file or directory that is not a known part, fails
the record unless ``--skip <check>`` names the check concerned; the output ends with a table of every check and
its result (PASS, FAIL, or SKIPPED with the reason). Exit status: 0 the record verifies (every check passed, or was
skipped by --skip); 1 it does not; 2 bad arguments, no such directory, an unreadable key; 3 no check failed but a
check was SKIPPED because an input was not given (check 'package' without --commission-key), which only
--skip <check> accepts; 130 stopped before a verdict (Ctrl-C, SIGTERM, a worker process killed).

On several machines: ``--shard i/n --out FILE`` checks the record's files, its parameters and a deterministic 1/n
of the ballots (the shard i of n) and writes the shard result to FILE; ``--merge FILE...`` then runs every check of
the record, taking the ballots' checks from the n shard results (each shard 1..n exactly once, every ballot file in
exactly one of them, unchanged: docs/election-record.md, "Verifying on several machines").
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import signal
import sys
import time
from pathlib import Path
from typing import TextIO

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from election.package import read_commission_key
from election.verify.merge import shard_result
from election.verify.parts import Check, Stage
from election.verify.primitives import RunStopped
from election.verify.runner import CheckResult, Listener, Outcome, Verdict, check_names, run_checks, table
from election.verify.shard import Shard, ShardError

#: exit statuses: every check passed (or was skipped by ``--skip``); a check failed, or a shard's checks did not
#: all pass; the record directory or the commission key cannot be read, or a bad argument; no check failed but one
#: was SKIPPED for want of an input (no ``--commission-key``) and not accepted with ``--skip <check>``
EXIT_VERIFIES, EXIT_FAILS, EXIT_USAGE, EXIT_INCOMPLETE = 0, 1, 2, 3
EXIT_INTERRUPTED = 130
"""Stopped before a verdict (Ctrl-C, SIGTERM, a worker process killed): nothing was concluded (the index file is
removed)."""


class Reporter(Listener):
    """One line per check; on a terminal, a progress bar updated in place while the check runs."""

    def __init__(self, out: TextIO, *, timings: bool = False) -> None:
        self.out = out
        self.tty = out.isatty()
        self.timings = timings
        self._cpu = 0.0
        self.name = ""
        self._last = 0.0
        self._started = 0.0

    def start(self, check: Check) -> None:
        self.name = check.title
        self._started = time.monotonic()
        self._cpu = _cpu_seconds()

    def progress(self, done: int, total: int) -> None:
        if not self.tty or total <= 0:
            return
        now = time.monotonic()
        if done < total and now - self._last < 0.1:
            return
        self._last = now
        width = 30
        filled = width * done // total
        elapsed = now - self._started
        rate = done / elapsed if elapsed > 0 else 0.0
        eta = f", {(total - done) / rate:.0f} s left" if rate > 0 and done < total else ""
        self.out.write(
            f"\r  {self.name:<28} [{'#' * filled}{'.' * (width - filled)}] {done}/{total} ({rate:.0f}/s{eta})\033[K"
        )
        self.out.flush()

    def finish(self, result: CheckResult) -> None:
        clear = "\r\033[K" if self.tty else ""
        spent = ""
        if self.timings:
            spent = f" [{time.monotonic() - self._started:.2f} s, CPU {_cpu_seconds() - self._cpu:.2f} s]"
        self.out.write(f"{clear}{result.outcome.value}  {self.name}: {result.message}{spent}\n")
        self.out.flush()


def _cpu_seconds() -> float:
    """CPU seconds of this process and of its finished children (the ballot checks' pool)."""
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.process_time() + children.ru_utime + children.ru_stime


def conclusion(verdict: Verdict) -> str:
    if not verdict.ok:
        return "the record does NOT verify"
    if verdict.not_given:
        names = [r.check.name for r in verdict.not_given]
        accept = " ".join(f"--skip {name}" for name in names)
        return (
            f"the record is NOT fully verified: SKIPPED {', '.join(names)} (see the table); give what it needs, or "
            f"accept verifying without it with {accept}"
        )
    if verdict.skipped:
        return f"the record verifies, except the skipped check(s): {', '.join(verdict.skipped)}"
    return "the record verifies"


def verify_record(
    root: Path,
    out: TextIO,
    *,
    jobs: int = 1,
    skip: tuple[str, ...] = (),
    allow_unclosed: tuple[str, ...] = (),
    merge: tuple[Path, ...] = (),
    timings: bool = False,
    commission_key: Ed25519PublicKey | None = None,
) -> bool:
    """Every check on the record at ``root``, a line each, then the table and the conclusion, to ``out``;
    with ``merge``, the ballots' checks are taken from those shard results; with ``commission_key``, the record's
    certificates are tied to the election package (check ``package``). True if no check failed (``Verdict.ok``: a
    check SKIPPED for want of the commission key does not make it False; the command line exits 3 then)."""
    return report_record(
        root, out, jobs=jobs, skip=skip, allow_unclosed=allow_unclosed, merge=merge, timings=timings,
        commission_key=commission_key,
    ).ok  # fmt: skip


def report_record(
    root: Path,
    out: TextIO,
    *,
    jobs: int = 1,
    skip: tuple[str, ...] = (),
    allow_unclosed: tuple[str, ...] = (),
    merge: tuple[Path, ...] = (),
    timings: bool = False,
    commission_key: Ed25519PublicKey | None = None,
) -> Verdict:
    """``verify_record``, returning the verdict."""
    verdict = run_checks(
        root, jobs=jobs, skip=skip, allow_unclosed=allow_unclosed, listener=Reporter(out, timings=timings), merge=merge,
        commission_key=commission_key,
    )  # fmt: skip
    out.write("\n" + table(verdict) + "\n" + conclusion(verdict) + "\n")
    return verdict


def verify_shard(
    root: Path,
    shard: Shard,
    result: Path,
    out: TextIO,
    *,
    jobs: int = 1,
    skip: tuple[str, ...] = (),
    timings: bool = False,
) -> bool:
    """The shard run: its checks, a line each, the table, and its shard result written to ``result`` (also when a
    check failed: the merge then names the failure). True if every check of the shard passed."""
    verdict = run_checks(root, jobs=jobs, skip=skip, listener=Reporter(out, timings=timings), shard=shard)
    checks = [(r.check.name, r.outcome.value, r.message) for r in verdict.results]
    data = json.dumps(shard_result(verdict.state, shard, checks), ensure_ascii=False, separators=(",", ":"))
    partial = result.with_name(result.name + ".partial")
    partial.write_text(data + "\n", encoding="utf-8")
    partial.replace(result)  # never a half-written result under the final name
    passed = all(r.outcome is Outcome.PASS for r in verdict.results)
    if passed:
        tail = (
            f"shard {shard}: its checks pass; result written to {result} (merge the {shard.count} results with --merge)"
        )
    else:
        tail = f"shard {shard}: its checks do NOT all pass; result written to {result} (the merge will fail)"
    out.write("\n" + table(verdict) + "\n" + tail + "\n")
    return passed


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
    parser.add_argument(
        "--shard", metavar="I/N",
        help="check only shard I of N of the ballots (and the record's files and parameters); needs --out",
    )  # fmt: skip
    parser.add_argument("--out", type=Path, metavar="FILE", help="where --shard writes its shard result (JSON)")
    parser.add_argument(
        "--merge", nargs="+", type=Path, default=[], metavar="FILE",
        help="run every check, taking the ballots' checks from these shard results (all N of them)",
    )  # fmt: skip
    parser.add_argument(
        "--timings", action="store_true", help="end each check's line with its wall and CPU seconds"
    )  # fmt: skip
    parser.add_argument(
        "--commission-key", type=Path, metavar="PEM",
        help="the election commission's Ed25519 public key (PEM), from the commission, not from the record: the "
        "package's index in the record must be signed with it, and the record's kiosk and office certificates chain "
        "to the package's CAs (check 'package'; without it that check is SKIPPED and the exit status is 3, unless "
        "--skip package accepts verifying without it)",
    )  # fmt: skip
    args = parser.parse_args(argv)
    if args.jobs < 1:
        parser.error("--jobs must be at least 1")
    if args.shard is not None and args.merge:
        parser.error("--shard and --merge do not go together: run the shards first, then merge their results")
    if (args.shard is None) != (args.out is None):
        parser.error("--shard I/N needs --out FILE (and --out is only for --shard)")
    if not args.record.is_dir():
        print(f"{args.record} is not a directory", file=sys.stderr)
        return EXIT_USAGE
    if args.shard is not None:
        try:
            shard = Shard.parse(args.shard)
        except ShardError as exc:
            parser.error(str(exc))
        if args.allow_unclosed:
            parser.error("--allow-unclosed is for the merge (the closes check is not a shard's)")
        passed = verify_shard(
            args.record, shard, args.out, sys.stdout, jobs=args.jobs, skip=tuple(args.skip), timings=args.timings
        )
        return EXIT_VERIFIES if passed else EXIT_FAILS
    missing = [str(p) for p in args.merge if not p.is_file()]
    if missing:
        print(f"no such shard result: {', '.join(missing)}", file=sys.stderr)
        return EXIT_USAGE
    commission_key = None
    if args.commission_key is not None:
        try:
            commission_key = read_commission_key(args.commission_key)
        except ValueError as exc:
            print(str(exc), file=sys.stderr)
            return EXIT_USAGE
    verdict = report_record(
        args.record, sys.stdout, jobs=args.jobs, skip=tuple(args.skip), allow_unclosed=tuple(args.allow_unclosed),
        merge=tuple(args.merge), timings=args.timings, commission_key=commission_key,
    )  # fmt: skip
    return EXIT_VERIFIES if verdict.complete else EXIT_INCOMPLETE if verdict.ok else EXIT_FAILS


__all__ = ["Outcome", "Stage", "main", "read_commission_key", "report_record", "verify_record"]


def _stopped(signum: int, _frame: object) -> None:
    raise KeyboardInterrupt(signal.Signals(signum).name)


def run_command_line() -> int:
    """``main`` as the command: SIGTERM stops it as Ctrl-C does, and either ends with a line saying that nothing was
    concluded and EXIT_INTERRUPTED, not a traceback (temporary files are removed on the way out)."""
    signal.signal(signal.SIGTERM, _stopped)
    try:
        return main()
    except KeyboardInterrupt:
        print("\nverification interrupted: no verdict (run it again to verify the record)", file=sys.stderr)
        return EXIT_INTERRUPTED
    except RunStopped as exc:
        print(f"\nverification stopped: {exc}", file=sys.stderr)
        return EXIT_INTERRUPTED


if __name__ == "__main__":
    raise SystemExit(run_command_line())
