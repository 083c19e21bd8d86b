"""The fault-injection suite's election: the small demo election, a test PKI, a key ceremony, the day's
package, and a real central office process (SQLite, HTTPS with mutual TLS) shared by every fault test; each
test brings its own voters and runs real kiosk processes (devtools/election_day/kiosk_node.py) against it."""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from typing import Any

import pytest
from sqlalchemy import func, select

from central.models import Ballot, BallotStatus, ProvisionalEnvelope, RejectedSubmission, Voter, VoterState
from devtools.election_day.plan import Phase
from devtools.election_day.plan import Voter as ScriptedVoter
from devtools.election_day.run import Day
from devtools.election_day.small_day import start_small_day, stop_small_day
from devtools.election_day.supervisor import Child, Supervisor
from election.manifest import Manifest
from election.roll import Roll


@dataclass
class FaultDay:
    day: Day
    roll: Roll
    _used: set[str] = field(default_factory=set)
    _ids: Iterator[int] = field(default_factory=lambda: itertools.count(1))

    @property
    def manifest(self) -> Manifest:
        return self.day.manifest

    @property
    def sup(self) -> Supervisor:
        assert self.day.sup is not None
        return self.day.sup

    def voters(self, n: int, kiosk: str, phase: Phase = Phase.MORNING, **kw: Any) -> list[ScriptedVoter]:
        """``n`` fresh roll voters whom ``kiosk`` serves, each choosing the contest's first candidate."""
        centre = self.manifest.kiosks_by_id[kiosk].centre  # type: ignore[index]
        serves = {str(w) for w in self.manifest.centres_by_id[centre].serves}
        out: list[ScriptedVoter] = []
        for entry in self.roll:
            civil, wilayat, ok = entry.civil_number, entry.wilayat, entry.eligible
            if len(out) == n:
                break
            if not ok or civil in self._used or wilayat not in serves:
                continue
            self._used.add(civil)
            contest = next(c for c in self.manifest.contests if c.wilayat == wilayat)
            style = next(s for s in self.manifest.ballot_styles if s.wilayat == wilayat)
            out.append(
                ScriptedVoter(
                    id=f"F{next(self._ids):03d}", civil_number=civil, wilayat=wilayat, style=str(style.id),
                    kiosk=kiosk, phase=phase.value, card="voter", pins=("1234",),
                    choices={str(contest.id): [str(contest.selection_ids[0])]}, expect="cast", **kw,
                )
            )  # fmt: skip
        assert len(out) == n, "the roll has no more voters for this kiosk"
        return out

    def script(self, voters: list[ScriptedVoter]) -> None:
        """Make these the voters the kiosks run next (the plan file every kiosk process reads)."""
        plan = replace(self.day.plan, voters=tuple(voters))
        plan.save(self.day.day / "plan.json")

    def kiosk(self, kiosk: str, *args: str) -> Child:
        return self.sup.start(f"kiosk-{kiosk}", self.day.kiosk_argv(kiosk, *args))

    def run(self, kiosk: str, *args: str, timeout: float = 120) -> tuple[int, list[str]]:
        child = self.kiosk(kiosk, *args)
        code = self.sup.wait(child, timeout)
        return code, child.lines

    def outcomes(self, kiosk: str) -> list[dict[str, Any]]:
        """Every line the kiosk wrote (one per voter session; a fault's session has ``"fault"``)."""
        path = self.day.day / "kiosks" / kiosk / "outcomes.jsonl"
        lines = path.read_text(encoding="utf-8").splitlines() if path.exists() else []
        return [json.loads(line) for line in lines if line]

    def last(self, kiosk: str, voters: list[ScriptedVoter]) -> dict[str, dict[str, Any]]:
        """The final (non-fault) outcome of each of ``voters`` at ``kiosk``."""
        ids = {v.id for v in voters}
        return {o["voter"]: o for o in self.outcomes(kiosk) if o["voter"] in ids and "fault" not in o}

    def office_view(self, civil_numbers: list[str]) -> dict[str, Any]:
        """What the office holds for these voters and overall (read with the office's own models)."""
        from central.config import load_config
        from central.office import Office

        office = Office.open(load_config(self.day.central_config))
        try:
            with office.db.transaction() as s:
                voted = s.scalar(
                    select(func.count()).select_from(Voter).where(
                        Voter.civil_number.in_(civil_numbers), Voter.state == VoterState.VOTED
                    )
                )  # fmt: skip
                accepted = s.scalar(
                    select(func.count()).select_from(Ballot).where(
                        Ballot.status == BallotStatus.ACCEPTED, Ballot.spoiled.is_(False), Ballot.provisional.is_(False)
                    )
                )  # fmt: skip
                ballot_ids = list(s.scalars(select(Ballot.ballot_id)))
                not_counted = [BallotStatus.REFUSED, BallotStatus.REJECTED]  # at ingest / by the committee
                rejected = list(s.scalars(select(Ballot.reason).where(Ballot.status.in_(not_counted))))
                refused = list(s.scalars(select(RejectedSubmission.reason)))
                envelopes = s.scalar(select(func.count()).select_from(ProvisionalEnvelope))
                all_voted = s.scalar(select(func.count()).select_from(Voter).where(Voter.state == VoterState.VOTED))
            return {
                "voted": voted, "accepted_cast": accepted, "ballot_ids": ballot_ids, "rejected": rejected,
                "refused": refused, "envelopes": envelopes, "all_voted": all_voted,
            }  # fmt: skip
        finally:
            office.db.dispose()


@pytest.fixture(scope="session")
def fault_day(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FaultDay]:
    day, roll = start_small_day(tmp_path_factory.mktemp("fault-day"))
    try:
        yield FaultDay(day, roll)
    finally:
        stop_small_day(day)
