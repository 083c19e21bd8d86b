"""A voter whose check-in answer says a ballot cast over the internet is recorded under their identity is told, after
the card check-in and before the ballot, that the vote they cast here replaces it; they go on or cancel. A cancel
casts nothing and releases the check-in (the office voids the internet vote only at the voted mark, so it still
counts); the pure session machine, then the kiosk's poll-book adapter carrying the office's flag."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from election.manifest import BallotStyleId
from kiosk.adapters.pollbook import CentralPollBook
from kiosk.ballot_box import BallotBox
from kiosk.polls import PollsAction, StaffCard, StaffRole
from kiosk.session import SessionConfig, VoterSession, initial_state
from kiosk.session import events as ev
from kiosk.session.effects import CancelCheckIn, CastSealed, CheckIn, Effect, Speak
from kiosk.session.model import CardKind, CheckInTicket, ClipId, KioskMode, Phase, VoterIdentity
from kiosk.session.voter_state import SessionState
from sync.client import SyncClient
from sync.protocol import CheckinRelease, CheckinRequest, CheckinResponse, CheckinStatus
from sync.signing import Signer
from tests.kiosk.harness import MANIFEST

STYLE = MANIFEST.ballot_styles[0].id
MACHINE = VoterSession(SessionConfig(MANIFEST))
VOTER = VoterIdentity("10000001")


def run(state: SessionState, events: Iterable[ev.Event]) -> tuple[SessionState, list[Effect]]:
    effects: list[Effect] = []
    for event in events:
        state, out = MACHINE.step(state, event)
        effects.extend(out)
    return state, effects


def checked_in(ticket: CheckInTicket, *, audio: bool = False) -> tuple[SessionState, list[Effect]]:
    """A voter card read, PIN accepted, authenticated, and the office's check-in answer ``ticket``."""
    state = initial_state(KioskMode(polls_open=True))
    before = [ev.ToggleAudio()] if audio else []
    state, _ = run(state, [*before, ev.CardInserted(), ev.CardRead(CardKind.VOTER, 3)])
    state, _ = run(state, [*(ev.PinDigit(d) for d in "1234"), ev.PinSubmit(), ev.PinAccepted()])
    state, effects = run(state, [ev.VoterAuthenticated(VOTER)])
    assert state.phase is Phase.CHECKING_IN and CheckIn(VOTER) in effects
    return run(state, [ev.CheckedIn(ticket)])


REPLACED = CheckInTicket(STYLE, provisional=False, token="t-1", remote_vote_replaced=True)


def test_a_remote_voter_is_told_before_the_ballot_and_may_go_on_to_vote_here() -> None:
    state, _ = checked_in(REPLACED)
    assert state.phase is Phase.REMOTE_VOTE
    assert state.ticket == REPLACED and state.voter is None  # the identity is dropped as for every voter
    state, _ = run(state, [ev.GoToReview(), ev.Cast(), ev.ToggleCandidate(MANIFEST.contests[0].candidates[0].id)])
    assert state.phase is Phase.REMOTE_VOTE and state.selections == {}  # no ballot before the voter answers
    state, effects = run(state, [ev.Continue()])
    assert state.phase is Phase.ACCESSIBILITY and not any(isinstance(e, CancelCheckIn) for e in effects)
    state, effects = run(state, [ev.Continue(), ev.GoToReview()])
    assert state.phase is Phase.REVIEW  # the ordinary journey from here, under the same check-in
    assert state.ticket == REPLACED


def test_cancel_casts_nothing_releases_the_check_in_and_says_the_internet_vote_still_counts() -> None:
    state, _ = checked_in(REPLACED)
    state, effects = run(state, [ev.CancelVoting()])
    assert state.phase is Phase.NOTICE
    assert CancelCheckIn(REPLACED) in effects and not any(isinstance(e, CastSealed) for e in effects)
    assert state.failure is None and state.notice == "kiosk.remote_vote.kept"
    assert state.ticket is None  # nothing left to cast with
    state, effects = run(state, [ev.Continue(), ev.Cast()])
    assert state.phase is Phase.NOTICE  # the card must come out; nothing the voter presses casts
    state, effects = run(state, [ev.CardRemoved()])
    assert state.phase is Phase.ATTRACT and state.notice is None
    assert not any(isinstance(e, CancelCheckIn) for e in effects)  # released once, not twice


def test_a_voter_without_a_remote_vote_goes_straight_on() -> None:
    state, _ = checked_in(CheckInTicket(STYLE, provisional=False, token="t-2"))
    assert state.phase is Phase.ACCESSIBILITY


def test_a_provisional_ticket_with_the_flag_is_told_first_then_offered_the_provisional_ballot() -> None:
    state, _ = checked_in(CheckInTicket(STYLE, provisional=True, token="p-1", remote_vote_replaced=True))
    assert state.phase is Phase.REMOTE_VOTE
    state, _ = run(state, [ev.Continue()])
    assert state.phase is Phase.PROVISIONAL


@pytest.mark.parametrize("leave", [ev.CardRemoved(), ev.ReaderLost()])
def test_leaving_at_the_notice_releases_the_check_in(leave: ev.Event) -> None:
    state, _ = checked_in(REPLACED)
    state, effects = run(state, [leave])
    assert state.phase is Phase.ATTRACT and CancelCheckIn(REPLACED) in effects


def test_the_notice_times_out_like_every_screen_that_waits_for_the_voter() -> None:
    state, _ = checked_in(REPLACED)
    state, _ = run(state, [ev.TimerExpired(state.timer_token)])
    assert state.warning and state.phase is Phase.REMOTE_VOTE
    state, effects = run(state, [ev.TimerExpired(state.timer_token)])
    assert state.phase is Phase.NOTICE and state.failure is ev.Failure.TIMED_OUT
    assert CancelCheckIn(REPLACED) in effects


def test_the_audio_ballot_reads_the_notice_and_the_end_of_the_session() -> None:
    state, effects = checked_in(REPLACED, audio=True)
    assert Speak((ClipId("screen.remote_vote"),)) in effects
    _, effects = run(state, [ev.CancelVoting()])
    assert Speak((ClipId("screen.notice"),)) in effects


# ---- the kiosk's poll-book adapter ------------------------------------------------------------------------------


@dataclass
class OfficeAnswers:
    """Stands in for the sync client: answers check-ins as the office's wire JSON would, records releases."""

    remote_vote_replaced: bool
    released: list[str] = field(default_factory=list)

    def checkin(self, request: CheckinRequest) -> CheckinResponse:
        return CheckinResponse.model_validate_json(
            CheckinResponse(
                status=CheckinStatus.ELIGIBLE,
                ballot_style_id=STYLE,
                checkin_token="a" * 32,
                lock_expires_at=dt.datetime(2027, 10, 27, 12, tzinfo=dt.UTC),
                remote_vote_replaced=self.remote_vote_replaced,
            ).model_dump_json()
        )

    def release(self, token: str, body: CheckinRelease) -> Any:
        self.released.append(token)


@pytest.mark.parametrize("replaced", [True, False])
def test_the_pollbook_adapter_carries_the_office_flag_into_the_ticket(tmp_path: Path, replaced: bool) -> None:
    box = BallotBox.create(
        tmp_path / "box.sqlite3", Signer(Ed25519PrivateKey.generate()), kiosk_id="K-1", centre_id="PC-1",
        chain_genesis="00" * 32,
    )  # fmt: skip
    box.apply(PollsAction.OPEN, StaffCard("staff-cm-1", StaffRole.COMMITTEE_MEMBER, "b" * 64))
    office = OfficeAnswers(replaced)
    book = CentralPollBook(cast(SyncClient, office), box, "K-1", "PC-1", offline_roll={})
    answer = book.check_in(VOTER)
    assert isinstance(answer, ev.CheckedIn)
    assert answer.ticket.remote_vote_replaced is replaced and answer.ticket.style == BallotStyleId(STYLE)
    book.cancel(answer.ticket)  # the voter cancels: the office is told to release the check-in
    assert office.released == ["a" * 32]
    box.close()
