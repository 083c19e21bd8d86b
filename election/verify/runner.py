"""Runs the verifier's checks over a record and collects a verdict: every check PASS, FAIL or SKIPPED (with why).

Used by ``python -m election.verify`` (the published record) and by the guardian CLI, which runs the checks marked
``before_decryption`` on the record the office hands it before it makes a decryption share.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from election.verify.checks import CHECKS, RECORD_PARTS, Invalid, State
from election.verify.merge import SHARD_CHECKS
from election.verify.parts import Check, Progress, Stage
from election.verify.shard import Shard


class Outcome(enum.Enum):
    PASS = "PASS"  # noqa: S105 - a check result, not a secret
    FAIL = "FAIL"
    SKIPPED = "SKIPPED"


@dataclass(frozen=True)
class CheckResult:
    check: Check
    outcome: Outcome
    message: str
    #: skipped because the observer asked for it (``--skip``), not because a check it needs failed
    requested: bool = False
    #: skipped for want of an input the observer did not give (``Check.not_run``: no ``--commission-key``), not
    #: named with ``--skip``: the record may still verify (``Verdict.ok``), but not completely (``Verdict.complete``)
    for_want: bool = False


@dataclass(frozen=True)
class Verdict:
    results: tuple[CheckResult, ...]
    state: State

    @property
    def ok(self) -> bool:
        """No check failed and every skipped one was skipped on request (or needs only such checks)."""
        return all(r.outcome is Outcome.PASS or (r.outcome is Outcome.SKIPPED and r.requested) for r in self.results)

    @property
    def complete(self) -> bool:
        """``ok``, and no check was left out for want of an input the observer could have given (the command line
        exits 3 otherwise, unless the observer accepts it by naming the check with ``--skip``)."""
        return self.ok and not self.not_given

    @property
    def not_given(self) -> list[CheckResult]:
        """The checks SKIPPED for want of an input, not named with ``--skip``."""
        return [r for r in self.results if r.outcome is Outcome.SKIPPED and r.for_want]

    @property
    def skipped(self) -> list[str]:
        return [r.check.name for r in self.results if r.outcome is Outcome.SKIPPED]

    @property
    def failures(self) -> list[CheckResult]:
        return [r for r in self.results if r.outcome is Outcome.FAIL]


class Listener:
    """What a caller sees while the checks run (the command line prints lines and a progress bar)."""

    def start(self, check: Check) -> None:
        return None

    def progress(self, done: int, total: int) -> None:
        return None

    def finish(self, result: CheckResult) -> None:
        return None


def checks_for(stage: Stage) -> list[Check]:
    return [c for c in CHECKS if stage is Stage.PUBLISHED or c.before_decryption]


def check_names() -> list[str]:
    return [c.name for c in CHECKS]


def _missing_parts(root: Path, check: Check) -> list[str]:
    return [p.pattern for p in RECORD_PARTS if p.check == check.name and p.required and not p.present(root)]


def run_checks(
    root: Path,
    *,
    stage: Stage = Stage.PUBLISHED,
    skip: Collection[str] = (),
    jobs: int = 1,
    allow_unclosed: Collection[str] = (),
    listener: Listener | None = None,
    shard: Shard | None = None,
    merge: Sequence[Path] = (),
    commission_key: Ed25519PublicKey | None = None,
) -> Verdict:
    """Every check of ``stage`` in order. A check whose needed checks did not pass is SKIPPED (with the reason);
    a required part that is missing is a FAIL of the check that reads it; ``skip`` names checks not to run.

    ``shard``: only the checks a shard runs (``SHARD_CHECKS``), on the ballots of that shard; ``merge``: the shard
    results the per-ballot checks are taken from (election.verify.merge) instead of checking the ballots here;
    ``commission_key``: the election commission's key the package's index must be signed with (check ``package``,
    not run without it)."""
    unknown = sorted(set(skip) - set(check_names()))
    if unknown:
        raise ValueError(f"unknown check(s) {', '.join(unknown)}; the checks are {', '.join(check_names())}")
    if shard is not None and merge:
        raise ValueError("a run is a shard or a merge of shards, not both")
    listen = listener or Listener()
    checks = checks_for(stage)
    names = {c.name for c in checks}
    state = State(
        root,
        jobs=jobs,
        stage=stage,
        known_parts=tuple(p for p in RECORD_PARTS if p.check in names),
        allow_unclosed=frozenset(allow_unclosed),
        shard=shard,
        merge=tuple(merge),
        commission_key=commission_key,
    )
    if shard is not None:  # the record's other parts are still known parts (record-files), just not checked here
        checks = [c for c in checks if c.name in SHARD_CHECKS]
    titles = {c.name: c.title for c in CHECKS}
    results: list[CheckResult] = []
    outcome: dict[str, CheckResult] = {}
    for check in checks:
        listen.start(check)
        result = _run_one(check, state, skip, outcome, titles, listen.progress)
        outcome[check.name] = result
        results.append(result)
        listen.finish(result)
    return Verdict(tuple(results), state)


def _run_one(
    check: Check,
    state: State,
    skip: Collection[str],
    outcome: dict[str, CheckResult],
    titles: dict[str, str],
    progress: Progress,
) -> CheckResult:
    if check.name in skip:
        return CheckResult(check, Outcome.SKIPPED, f"--skip {check.name}", requested=True)
    why_not = check.not_run(state) if check.not_run is not None else None
    if why_not is not None:
        return CheckResult(check, Outcome.SKIPPED, why_not, requested=True, for_want=True)
    for need in check.needs:
        before = outcome.get(need)
        if before is None or before.outcome is Outcome.PASS:
            continue
        why = "failed" if before.outcome is Outcome.FAIL else "was skipped"
        return CheckResult(
            check, Outcome.SKIPPED, f"needs '{titles[need]}', which {why}", requested=before.requested,
            for_want=before.for_want,
        )  # fmt: skip
    missing = _missing_parts(state.root, check)
    if missing:
        return CheckResult(
            check, Outcome.FAIL, f"missing {', '.join(missing)} (--skip {check.name} verifies the rest without it)"
        )
    run: Callable[[State, Progress], str] = check.run
    try:
        return CheckResult(check, Outcome.PASS, run(state, progress))
    except Invalid as exc:
        return CheckResult(check, Outcome.FAIL, str(exc))
    except (KeyError, TypeError, ValueError, AttributeError, IndexError) as exc:
        return CheckResult(check, Outcome.FAIL, f"malformed record ({type(exc).__name__}: {exc})")


def table(verdict: Verdict) -> str:
    """The summary table printed at the end: every check, its result and, unless it passed, why."""
    width = max([len(r.check.title) for r in verdict.results] + [5])
    lines = [f"{'check':<{width}}  {'result':<7}  reason", f"{'-' * width}  -------  ------"]
    for r in verdict.results:
        reason = "" if r.outcome is Outcome.PASS else r.message
        lines.append(f"{r.check.title:<{width}}  {r.outcome.value:<7}  {reason}".rstrip())
    return "\n".join(lines) + "\n"
