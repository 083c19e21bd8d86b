"""The verification workers' per-chunk tally sums: ingest adds a chunk's sum only when every ballot in it is
counted, and the running tally is then exactly the sum of the counted ballots (same as adding them one by one)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from central.crypto import CheckedBallot, CheckRequest, ContestSum, ElectionChecker
from central.ingest.judging import BallotItem
from central.ingest.tally import addends
from central.models import BallotStatus
from devtools.kiosksim import Election, SimKiosk

KIOSK = "K-PC-001-1"  # unified centre: every style is counted


@pytest.fixture(scope="module")
def checker(election: Election) -> Iterator[ElectionChecker]:
    c = ElectionChecker(election.context, election.manifest, workers=2)
    yield c
    c.close()


def _tally(checker: ElectionChecker, contest: str, ballots: list[CheckedBallot], sums: list[ContestSum]) -> Any:
    return checker.add_to_tally(contest, checker.empty_tally(contest), ballots, sums)


def test_chunk_sums_equal_one_by_one_and_a_refused_ballot_is_never_in_them(
    election: Election, checker: ElectionChecker
) -> None:
    sim = SimKiosk(election, KIOSK, app=None)
    wires = [sim.encrypt(style) for style in ["BS-MA-04", "BS-MU-01"] * 6 + ["BS-MA-04"] * 6]
    requests = [CheckRequest(w.encrypted_ballot, KIOSK, sim.genesis.hex()) for w in wires]
    pending = checker.submit_many(requests)
    outcomes = pending.outcomes()
    sums = pending.sums()
    assert all(isinstance(o, CheckedBallot) for o in outcomes)
    assert sums and sum(p.ballots for p in sums) == len(wires)  # every verified cast ballot is in one chunk sum
    items = [BallotItem(w, n, o) for n, (w, o) in enumerate(zip(wires, outcomes, strict=True))]  # type: ignore[arg-type]
    contests = sorted({c for o in outcomes if isinstance(o, CheckedBallot) for c in o.contest_ids})
    refused = items[7]  # e.g. its code wrong: refused after the workers summed its chunk
    refused.status = BallotStatus.REJECTED
    tallied = [i for i in items if i is not refused]
    used, singles = addends(tallied, sums)
    assert all(refused.index not in p.indices for p in used)  # its chunk's sums are not used ...
    assert any(p.indices for p in used)  # ... the other chunks' are
    assert refused.checked not in singles
    for contest in contests:
        one_by_one = _tally(checker, contest, [i.checked for i in tallied if i.checked is not None], [])
        assert _tally(checker, contest, singles, used) == one_by_one
        everything = _tally(checker, contest, [i.checked for i in items if i.checked is not None], [])
        assert refused.checked is not None
        if contest in refused.checked.contest_ids:
            assert one_by_one != everything  # the refused ballot would have changed the sums
