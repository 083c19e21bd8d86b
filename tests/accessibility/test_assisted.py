# mypy: disable-error-code="comparison-overlap,unreachable"
"""Assisted voting (Art. 5): a staff card arms it, the next voter hears the ballot in the headphones with
the screen blanked, and the audit log says that assistance was given and by which staff card, never what
was chosen."""

from __future__ import annotations

from kiosk.session import events as ev
from kiosk.session.model import Phase
from tests.accessibility.harness import CONTEST, MANIFEST, AccessibleKiosk


def _pin(k: AccessibleKiosk) -> None:
    for d in "1234":
        k.send(ev.PinDigit(d))
    k.send(ev.PinSubmit())


def _arm_assisted(k: AccessibleKiosk, staff_id: str) -> None:
    k.insert_staff(staff_id)
    _pin(k)
    assert k.phase is Phase.STAFF_MENU
    k.send(ev.StaffChoose(ev.StaffAction.START_ASSISTED))
    assert k.phase is Phase.STAFF_REPORT
    k.remove_card()


def test_assisted_voting_is_logged_with_the_staff_card_and_never_the_choices(tmp_path):
    k = AccessibleKiosk(tmp_path)
    _arm_assisted(k, "S-042")
    k.insert_voter()
    _pin(k)
    assert k.phase is Phase.ACCESSIBILITY
    # Audio is on for the assisted voter and the screen is blanked for privacy.
    assert k.state.settings.audio and k.shell.privacy
    assert k.listen()[:1] == ["str:access.title"]
    k.send(ev.Continue())
    chosen = CONTEST.active_candidates[1]
    k.send(ev.ToggleCandidate(chosen.id))
    k.send(ev.GoToReview())
    heard = k.listen()
    assert f"cand:{chosen.id}" in heard  # the final choice is read back before casting
    k.send(ev.SealBallot())
    k.send(ev.Cast())
    assert k.ballots.cast_count == 1
    k.remove_card()

    kinds = [kind for kind, _ in k.audit.entries]
    assert ("assistance_given", "staff card S-042") in k.audit.entries
    assert ("assistance_ended", "staff card S-042") in k.audit.entries
    assert kinds.index("assistance_given") < kinds.index("ballot_cast") < kinds.index("assistance_ended")
    everything_logged = " ".join(f"{kind} {detail}" for kind, detail in k.audit.entries)
    for contest in MANIFEST.contests:
        for candidate in contest.candidates:
            assert candidate.id not in everything_logged
            assert candidate.name.en not in everything_logged and candidate.name.ar not in everything_logged

    # The next voter is not assisted: no audio, no blank screen, nothing logged about assistance.
    before = len(k.audit.entries)
    k.insert_voter(1)
    _pin(k)
    assert k.phase is Phase.ACCESSIBILITY
    assert not k.state.settings.audio and not k.shell.privacy
    assert all(kind != "assistance_given" for kind, _ in k.audit.entries[before:])


def test_a_voter_listening_can_blank_the_screen_and_show_it_again(tmp_path):
    k = AccessibleKiosk(tmp_path)
    k.insert_voter()
    _pin(k)
    k.shell.toggle_privacy()
    assert not k.shell.privacy  # never a blank screen for a voter who is not listening
    k.send(ev.ToggleAudio())
    k.listen()
    k.shell.toggle_privacy()
    assert k.shell.privacy and k.listen() == ["str:audio.privacy_on"]
    k.send(ev.ToggleAudio())  # audio off: the screen comes back by itself
    assert not k.shell.privacy
    k.send(ev.ToggleAudio())
    k.shell.toggle_privacy()
    k.remove_card()
    assert not k.shell.privacy  # reset with the session
