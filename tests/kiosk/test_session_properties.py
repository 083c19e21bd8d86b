# mypy: disable-error-code="comparison-overlap,unreachable,union-attr"
# (the tests re-read the same state after events, which mypy cannot know changes it)
"""Property test: any sequence of voter and hardware events keeps the session's invariants."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from devtools.fakes import FakeCardSpec
from kiosk.session import events as ev
from kiosk.session.model import Phase
from tests.kiosk.harness import MANIFEST, TWO_SEATS, Kiosk

CANDIDATES = [c.id for contest in MANIFEST.contests for c in contest.candidates]

EVENTS = st.one_of(
    st.sampled_from(
        [
            ev.CardInserted(),
            ev.CardRemoved(),
            ev.PinSubmit(),
            ev.PinBackspace(),
            ev.Continue(),
            ev.NextContest(),
            ev.PreviousContest(),
            ev.GoToReview(),
            ev.BackToBallot(),
            ev.ConfirmBlank(),
            ev.SealBallot(),
            ev.Cast(),
            ev.Challenge(),
            ev.DismissNotice(),
            ev.Activity(),
            ev.ReaderLost(),
            ev.ReaderBack(),
            ev.ToggleAudio(),
        ]
    ),
    st.builds(ev.PinDigit, st.sampled_from("0123456789")),
    st.builds(ev.ToggleCandidate, st.sampled_from(CANDIDATES)),
    st.builds(ev.TimerExpired, st.integers(0, 40)),
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(EVENTS, max_size=60), st.sampled_from(["1234", "9999"]))
def test_invariants_hold_for_any_event_sequence(events: list[ev.Event], pin: str) -> None:
    k = Kiosk()
    spec = FakeCardSpec(k.voter_number(TWO_SEATS), pin=pin)
    for event in events:
        before = k.phase
        if isinstance(event, ev.CardInserted):
            k.card.insert(FakeCardSpec(spec.civil_number, pin=spec.pin))
        elif isinstance(event, ev.CardRemoved):
            k.card.remove()
        k.send(event)
        s = k.state
        for contest in MANIFEST.contests:
            chosen = s.selected(contest.id)
            assert len(chosen) <= contest.seats
            assert all(c in contest.selection_ids for c in chosen)
        if s.phase in {Phase.BALLOT, Phase.REVIEW, Phase.CAST_OR_CHALLENGE, Phase.CASTING}:
            assert s.ticket is not None
        if s.phase in {Phase.ATTRACT, Phase.CLOSED}:
            assert s.selections == {} and s.ticket is None and s.voter is None and len(s.pin) == 0
            if before not in {Phase.ATTRACT, Phase.CLOSED}:
                assert not s.settings.audio  # a session's audio never reaches the next voter
        # one voter, one vote
        assert k.ballots.cast_count <= 1
    assert k.ballots.cast_count == len(k.poll_book.voted)
