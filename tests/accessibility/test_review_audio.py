"""What an audio voter hears that a sighted voter reads: the review screen's undervote warning, and which
candidate withdrew (the ballot numbers have a gap where they stood). Real session, driver, shell and clip
library over the kiosk's fakes; the assertions are on the clips the voter hears."""

from __future__ import annotations

from pathlib import Path

from kiosk.session import events as ev
from kiosk.session.model import Phase
from tests.accessibility.harness import CONTEST, MANIFEST, AccessibleKiosk

WITHDREW = next(c for c in MANIFEST.contests if any(k.withdrawn for k in c.candidates))


def _to_ballot(k: AccessibleKiosk, contest_index: int = 0) -> None:
    k.insert_voter(contest_index)
    for d in "1234":
        k.send(ev.PinDigit(d))
    k.send(ev.PinSubmit())
    k.send(ev.ToggleAudio())
    k.send(ev.Continue())
    assert k.phase is Phase.BALLOT
    k.listen()


def test_an_audio_voter_hears_the_undervote_warning_at_review(tmp_path: Path) -> None:
    k = AccessibleKiosk(tmp_path)
    _to_ballot(k)
    k.send(ev.ToggleCandidate(CONTEST.active_candidates[0].id))  # 1 of 2
    k.listen()
    k.send(ev.GoToReview())
    heard = [str(c) for c in k.listen()]
    assert k.phase is Phase.REVIEW
    warning = heard.index("str:ballot.undervote_warning#0")
    assert heard[warning - 1] == f"contest:{CONTEST.id}"  # which contest
    assert heard[warning + 1 : warning + 4] == ["num:1", "str:ballot.undervote_warning#1", "num:2"]


def test_a_full_ballot_has_no_undervote_warning(tmp_path: Path) -> None:
    k = AccessibleKiosk(tmp_path)
    _to_ballot(k)
    for c in CONTEST.active_candidates[:2]:
        k.send(ev.ToggleCandidate(c.id))
    k.listen()
    k.send(ev.GoToReview())
    assert not any(c.startswith("str:ballot.undervote_warning") for c in k.listen())


def test_the_ballot_says_who_withdrew(tmp_path: Path) -> None:
    k = AccessibleKiosk(tmp_path)
    index = MANIFEST.contests.index(WITHDREW)
    k.insert_voter(index)
    for d in "1234":
        k.send(ev.PinDigit(d))
    k.send(ev.PinSubmit())
    k.send(ev.ToggleAudio())
    k.listen()
    k.send(ev.Continue())
    heard = [str(c) for c in k.listen()]
    gone = next(c for c in WITHDREW.candidates if c.withdrawn)
    at = heard.index("str:kiosk.ballot.withdrawn#0")
    assert heard[at + 1] == f"num:{gone.ballot_number}" and f"cand:{gone.id}" in heard[at + 2 : at + 4]
