"""The voter session's ballot: marking each contest (an overvote refused and announced), the review (a blank
ballot confirmed once), sealing, the cast-or-challenge choice, casting and the Benaloh challenge. One transition
function per phase, called by ``kiosk.session.machine.VoterSession.step``."""

from __future__ import annotations

from dataclasses import replace

from kiosk.session import ballot
from kiosk.session import events as ev
from kiosk.session.effects import ArmTimer, Audit, CastSealed, ChallengeSealed, Seal, Speak
from kiosk.session.model import ClipId, Phase
from kiosk.session.moves import CARD_REMOVED_NOTICE, Moves, Step
from kiosk.session.voter_state import SessionState


def on_ballot(moves: Moves, state: SessionState, event: ev.Event) -> Step:
    contests = moves.contests(state)
    contest = contests[state.contest_index]
    match event:
        case ev.ToggleCandidate(candidate=candidate):
            after = ballot.toggle(contest, state.selected(contest.id), candidate)
            if after is None:
                clips = (Speak((ClipId("prompt.overvote"),)),) if state.settings.audio else ()
                new, effects = moves.enter(replace(state, overvote_tried=contest.id), Phase.BALLOT)
                return new, effects + clips
            selections = {**state.selections, contest.id: after}
            return moves.enter(replace(state, selections=selections, overvote_tried=None), Phase.BALLOT)
        case ev.DismissNotice():
            return moves.enter(replace(state, overvote_tried=None), Phase.BALLOT)
        case ev.NextContest() if state.contest_index + 1 < len(contests):
            return moves.enter(replace(state, contest_index=state.contest_index + 1, overvote_tried=None), Phase.BALLOT)
        case ev.NextContest() | ev.GoToReview():
            return moves.enter(replace(state, overvote_tried=None, blank_confirmed=False), Phase.REVIEW)
        case ev.PreviousContest() if state.contest_index > 0:
            return moves.enter(replace(state, contest_index=state.contest_index - 1, overvote_tried=None), Phase.BALLOT)
    return state, ()


def on_review(moves: Moves, state: SessionState, event: ev.Event) -> Step:
    match event:
        case ev.BackToBallot():
            return moves.enter(replace(state, contest_index=0, blank_confirmed=False), Phase.BALLOT)
        case ev.ConfirmBlank() if ballot.is_blank(moves.contests(state), state.selections):
            # "Yes, cast a blank ballot" is the voter's one confirmation: the kiosk seals the ballot at once
            # (the cast-or-challenge step follows, as for every ballot).
            assert state.ticket is not None
            seal = Seal(state.ticket.style, state.selections)
            return moves.enter(replace(state, blank_confirmed=True), Phase.SEALING, seal)
        case ev.SealBallot():
            if ballot.is_blank(moves.contests(state), state.selections) and not state.blank_confirmed:
                return state, ()
            assert state.ticket is not None
            return moves.enter(state, Phase.SEALING, Seal(state.ticket.style, state.selections))
    return state, ()


def on_sealing(moves: Moves, state: SessionState, event: ev.Event) -> Step:
    match event:
        case ev.BallotSealed(sealed=sealed):
            return moves.enter(replace(state, sealed=sealed), Phase.CAST_OR_CHALLENGE)
        case ev.Failed(failure=failure):
            return moves.fail(state, failure)
    return state, ()


def on_cast_or_challenge(moves: Moves, state: SessionState, event: ev.Event) -> Step:
    assert state.sealed is not None and state.ticket is not None
    match event:
        case ev.Cast():
            return moves.enter(state, Phase.CASTING, CastSealed(state.sealed, state.ticket))
        case ev.Challenge():
            return moves.enter(state, Phase.CHALLENGING, ChallengeSealed(state.sealed))
    return state, ()


def on_casting(moves: Moves, state: SessionState, event: ev.Event) -> Step:
    match event:
        case ev.BallotCast(receipt=receipt):
            new, effects = moves.enter(
                replace(state, receipt=receipt, selections={}, sealed=None, ticket=None),
                Phase.CONFIRMATION,
                Audit("ballot_cast", "provisional" if state.ticket and state.ticket.provisional else ""),
            )
            if state.cast_after_removal:
                effects = (*effects, ArmTimer(new.timer_token, moves.config.notice_s))
            return new, effects
        case ev.Failed(failure=failure):
            if state.cast_after_removal:
                return moves.reset(state, CARD_REMOVED_NOTICE, Audit("session_failed", failure.value))
            return moves.fail(state, failure)
    return state, ()


def on_challenging(moves: Moves, state: SessionState, event: ev.Event) -> Step:
    match event:
        case ev.BallotChallenged(report=report):
            return moves.enter(
                replace(state, challenge=report, sealed=None, challenges_done=state.challenges_done + 1),
                Phase.CHALLENGE_RESULT,
                Audit("ballot_challenged"),
            )
        case ev.Failed(failure=failure):
            return moves.fail(state, failure)
    return state, ()


def on_challenge_result(moves: Moves, state: SessionState, event: ev.Event) -> Step:
    if isinstance(event, ev.Continue):
        # "Vote again" starts from an empty ballot: the challenged choices are not carried over.
        return moves.enter(replace(state, contest_index=0, challenge=None, selections={}), Phase.BALLOT)
    return state, ()
