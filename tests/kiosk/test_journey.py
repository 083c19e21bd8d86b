# mypy: disable-error-code="comparison-overlap,unreachable,union-attr"
# (the tests re-read the same state after events, which mypy cannot know changes it)
"""The voter journey through the pure session machine (no Kivy), over in-memory fakes."""

from __future__ import annotations

from election.manifest import Language, Manifest
from kiosk.session import events as ev
from kiosk.session.effects import Speak
from kiosk.session.model import Phase, Settings, TextSize, Theme
from tests.kiosk.harness import MANIFEST, TWO_SEATS, WITH_WITHDRAWN, Kiosk


def _ids(contest):
    return [c.id for c in contest.active_candidates]


def test_a_voter_casts_and_the_next_voter_starts_from_defaults():
    k = Kiosk()
    assert k.phase is Phase.ATTRACT
    k.insert_voter()
    assert k.phase is Phase.PIN_ENTRY
    assert k.state.pin_tries_left == 3
    k.pin("1234")
    assert k.phase is Phase.ACCESSIBILITY
    k.send(ev.ChooseLanguage(Language.ENGLISH), ev.ChooseTextSize(TextSize.LARGEST))
    k.send(ev.ChooseTheme(Theme.HIGH_CONTRAST_DARK))
    k.send(ev.ToggleAudio(), ev.Continue())
    assert k.phase is Phase.BALLOT
    a, b = _ids(TWO_SEATS)[:2]
    k.choose(a, b).send(ev.GoToReview())
    assert k.phase is Phase.REVIEW
    k.send(ev.SealBallot())
    assert k.phase is Phase.CAST_OR_CHALLENGE
    code = k.state.sealed.code
    k.send(ev.Cast())
    assert k.phase is Phase.CONFIRMATION
    assert k.state.receipt.code == code
    assert k.ballots.cast_count == 1
    assert k.voter_number(TWO_SEATS) in k.poll_book.voted
    # the choices are gone as soon as the ballot is cast, before the card is even removed
    assert k.state.selections == {} and k.state.sealed is None and k.state.ticket is None
    k.remove()
    assert k.phase is Phase.ATTRACT
    assert k.state.settings == Settings()
    assert k.state.receipt is None and k.state.voter is None
    assert k.state.notice == "goodbye.thanks"


def test_the_ballot_lists_active_candidates_in_ballot_order_and_ignores_a_withdrawn_one():
    k = Kiosk().to_ballot(WITH_WITHDRAWN)
    withdrawn = next(c for c in WITH_WITHDRAWN.candidates if c.withdrawn)
    k.choose(withdrawn.id)
    assert k.state.selected(WITH_WITHDRAWN.id) == ()
    numbers = [c.ballot_number for c in WITH_WITHDRAWN.active_candidates]
    assert numbers == sorted(numbers) and withdrawn not in WITH_WITHDRAWN.active_candidates


def test_an_overvote_is_impossible_and_explained():
    k = Kiosk().to_ballot()
    a, b, c = _ids(TWO_SEATS)[:3]
    k.choose(a, b, c)
    assert k.state.selected(TWO_SEATS.id) == (a, b)
    assert k.state.overvote_tried == TWO_SEATS.id
    k.send(ev.DismissNotice())
    assert k.state.overvote_tried is None
    k.choose(a, c)  # deselect one, then another fits
    assert k.state.selected(TWO_SEATS.id) == (b, c)


def test_selections_are_kept_in_ballot_order_whatever_the_touch_order():
    k = Kiosk().to_ballot()
    ids = _ids(TWO_SEATS)
    k.choose(ids[4], ids[1])
    assert k.state.selected(TWO_SEATS.id) == (ids[1], ids[4])


def test_a_blank_ballot_needs_an_explicit_confirmation():
    k = Kiosk().to_ballot().send(ev.GoToReview(), ev.SealBallot())
    assert k.phase is Phase.REVIEW  # refused without confirmation
    k.send(ev.ConfirmBlank())  # the one confirmation: "Yes, cast a blank ballot" seals it at once
    assert k.phase is Phase.CAST_OR_CHALLENGE
    k.send(ev.Cast())
    assert k.phase is Phase.CONFIRMATION


def test_confirming_blank_on_a_ballot_that_is_not_blank_does_nothing():
    k = Kiosk().to_ballot().choose(_ids(TWO_SEATS)[0]).send(ev.GoToReview(), ev.ConfirmBlank())
    assert k.phase is Phase.REVIEW


def test_an_undervote_goes_to_review_without_confirmation():
    k = Kiosk().to_ballot().choose(_ids(TWO_SEATS)[0]).send(ev.GoToReview(), ev.SealBallot())
    assert k.phase is Phase.CAST_OR_CHALLENGE


def test_going_back_from_review_keeps_the_choices():
    a = _ids(TWO_SEATS)[0]
    k = Kiosk().to_ballot().choose(a).send(ev.GoToReview(), ev.BackToBallot())
    assert k.phase is Phase.BALLOT and k.state.selected(TWO_SEATS.id) == (a,)


def test_a_challenge_shows_the_decrypted_choices_spoils_the_ballot_and_returns_to_the_ballot():
    a, b = _ids(TWO_SEATS)[:2]
    k = Kiosk().to_ballot().choose(a, b).send(ev.GoToReview(), ev.SealBallot())
    first_code = k.state.sealed.code
    k.send(ev.Challenge())
    assert k.phase is Phase.CHALLENGE_RESULT
    report = k.state.challenge
    assert report.verified and report.decrypted[TWO_SEATS.id] == (a, b) and report.code == first_code
    assert k.ballots.spoiled_count == 1 and k.ballots.cast_count == 0
    k.send(ev.Continue())
    # "vote again": an empty ballot (the challenged choices are not kept)
    assert k.phase is Phase.BALLOT and k.state.selected(TWO_SEATS.id) == () and k.state.challenge is None
    k.choose(a, b).send(ev.GoToReview(), ev.SealBallot())
    assert k.state.sealed.code != first_code  # a fresh encryption, never the spoiled one
    k.send(ev.Cast())
    assert k.phase is Phase.CONFIRMATION and k.ballots.cast_count == 1


def test_a_dishonest_encryption_is_shown_as_a_failed_check():
    k = Kiosk()
    k.ballots.tamper = True
    k.to_ballot().choose(_ids(TWO_SEATS)[0]).send(ev.GoToReview(), ev.SealBallot(), ev.Challenge())
    assert k.phase is Phase.CHALLENGE_RESULT and not k.state.challenge.verified


def test_the_language_can_be_switched_on_any_screen_without_losing_the_place():
    a = _ids(TWO_SEATS)[0]
    k = Kiosk().to_ballot().choose(a).send(ev.ChooseLanguage(Language.ENGLISH))
    assert k.phase is Phase.BALLOT and k.state.settings.language is Language.ENGLISH
    assert k.state.selected(TWO_SEATS.id) == (a,)
    k.send(ev.ChooseLanguage(Language.ARABIC))
    assert k.state.settings.language is Language.ARABIC


def test_a_provisional_voter_is_told_before_voting():
    k = Kiosk(offline=True)
    k.poll_book.roll.clear()
    k.insert_voter(wilayat=TWO_SEATS.wilayat).pin()
    assert k.phase is Phase.PROVISIONAL
    k.send(ev.Continue())
    assert k.phase is Phase.ACCESSIBILITY and k.state.ticket.provisional


def test_several_contests_are_walked_in_order():
    data = MANIFEST.to_dict()
    extra = dict(data["contests"][1])
    extra.update(id="municipal-MA-04", wilayat=TWO_SEATS.wilayat, kind="municipal")
    extra["candidates"] = [dict(c, id=c["id"] + "-M") for c in extra["candidates"]]
    data["contests"].append(extra)
    style = next(s for s in data["ballot_styles"] if s["wilayat"] == TWO_SEATS.wilayat)
    active = [c["id"] for c in sorted(extra["candidates"], key=lambda c: c["ballot_number"]) if not c["withdrawn"]]
    style["contests"].append({"contest": "municipal-MA-04", "candidates": active})
    manifest = Manifest.from_dict(data)
    k = Kiosk(manifest).to_ballot(manifest.contests_by_id[TWO_SEATS.id])
    assert k.state.contest_index == 0
    k.send(ev.NextContest())
    assert k.phase is Phase.BALLOT and k.state.contest_index == 1
    k.send(ev.ToggleCandidate(active[0]), ev.PreviousContest())
    assert k.state.contest_index == 0
    k.send(ev.NextContest(), ev.NextContest())
    assert k.phase is Phase.REVIEW
    assert k.state.selections == {"municipal-MA-04": (active[0],)}


def test_audio_on_makes_every_screen_speak():
    k = Kiosk().insert_voter().pin().send(ev.ToggleAudio(), ev.Continue())
    assert any(isinstance(e, Speak) and e.clips == ("screen.ballot",) for e in k.effects)
    k.choose(*_ids(TWO_SEATS)[:3])
    assert ("prompt.overvote",) in k.speaker.spoken
    assert k.send(ev.Replay()).speaker.spoken[-1] == ("screen.ballot",)


def test_audio_off_speaks_nothing():
    k = Kiosk().to_ballot().choose(*_ids(TWO_SEATS)[:3])
    assert k.speaker.spoken == []


def test_the_audit_log_never_holds_a_choice_a_pin_or_a_civil_number():
    ids = _ids(TWO_SEATS)
    k = Kiosk().insert_voter().pin("9999").pin("1234").send(ev.Continue())
    k.choose(ids[0], ids[1]).send(ev.GoToReview(), ev.SealBallot(), ev.Challenge(), ev.Continue())
    k.choose(ids[0], ids[1]).send(ev.GoToReview(), ev.SealBallot(), ev.Cast()).remove()
    logged = repr(k.audit.entries)
    assert "ballot_cast" in logged and "ballot_challenged" in logged
    for secret in (*ids, "1234", "9999", k.voter_number(TWO_SEATS)):
        assert secret not in logged
