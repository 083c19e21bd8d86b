"""The per-contest encrypted running tally: what a batch adds (a worker's per-chunk sum where every ballot it covers
is counted, the other ballots one by one) and the addition itself under the contests' row locks. Also used by the
committee's decisions (``central.adjudication``) and provisional envelopes (``central.provisional``)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import replace

from sqlalchemy import select
from sqlalchemy.orm import Session

from central.checker import BallotChecker, CheckedBallot, ContestSum
from central.ingest.judging import BallotItem
from central.models import TallyState


def addends(tallied: list[BallotItem], sums: list[ContestSum]) -> tuple[list[ContestSum], list[CheckedBallot]]:
    """What to add to the running tally for the ``tallied`` items: a worker's per-chunk sum for a contest is used
    only when EVERY ballot in it is tallied (none was then refused by the chain, the style or centre rules, or
    stored meanwhile by another batch); the tallied ballots no usable sum covers are added one by one. Exact:
    each tallied ballot's ciphertexts are added once per contest, nothing else is added."""
    counted = {i.index for i in tallied}
    used = [part for part in sums if counted.issuperset(part.indices)]
    covered: dict[int, set[str]] = defaultdict(set)
    for part in used:
        for n in part.indices:
            covered[n].add(part.contest_id)
    singles = []
    for i in tallied:
        if i.checked is None:  # pragma: no cover  (a tallied item always verified)
            continue
        rest = [c for c in i.checked.contest_ids if c not in covered.get(i.index, ())]
        if len(rest) == len(i.checked.contest_ids):
            singles.append(i.checked)
        elif rest:
            singles.append(replace(i.checked, contest_ids=tuple(rest)))
    return used, singles


def add_to_tally(
    s: Session, checker: BallotChecker, ballots: list[CheckedBallot], sums: Sequence[ContestSum] = ()
) -> None:
    """Add ``ballots`` (each to its ``contest_ids``) and the workers' ``sums`` to the per-contest running tally."""
    by_contest: dict[str, list[CheckedBallot]] = defaultdict(list)
    for b in ballots:
        for contest_id in b.contest_ids:
            by_contest[contest_id].append(b)
    parts: dict[str, list[ContestSum]] = defaultdict(list)
    for part in sums:
        parts[part.contest_id].append(part)
    for contest_id in sorted(by_contest.keys() | parts.keys()):  # a fixed lock order: no deadlock between batches
        row = s.execute(
            select(TallyState).where(TallyState.contest_id == contest_id).with_for_update()
        ).scalar_one_or_none()
        if row is None:
            row = TallyState(contest_id=contest_id, state=checker.empty_tally(contest_id), ballots=0)
            s.add(row)
        added = len(by_contest[contest_id]) + sum(p.ballots for p in parts[contest_id])
        row.state = checker.add_to_tally(contest_id, row.state, by_contest[contest_id], parts[contest_id])
        row.ballots += added
