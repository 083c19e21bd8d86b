"""What the audio ballot says: templates become literal parts and value clips in each language's own order,
every clip any screen may ask for is in the package's catalogue, and every catalogue string has a clip."""

from __future__ import annotations

from dataclasses import replace

import pytest

from election.audio_clips import check_clips, required_clip_ids, string_clips, template_parts
from election.manifest import Language, Text
from kiosk.accessibility.input import screen_items
from kiosk.accessibility.prompts import InputMode, PromptContext, screen, spell
from kiosk.session import events as ev
from kiosk.session.model import CastReceipt, ChallengeReport, CheckInTicket, Phase, Settings
from kiosk.session.voter_state import SessionState
from tests.accessibility.harness import CONTEST, INDEX, MANIFEST, package_files

AR, EN = Language.ARABIC, Language.ENGLISH


def test_a_template_is_spoken_in_each_languages_own_order():
    ctx = PromptContext(MANIFEST, INDEX.strings)
    # "{count} digits entered" / "عدد الأرقام المُدخلة {count}"
    assert ctx.say("audio.pin_count", EN, count=3) == ("num:3", "str:audio.pin_count#0")
    assert ctx.say("audio.pin_count", AR, count=3) == ("str:audio.pin_count#0", "num:3")
    assert INDEX.clips["str:audio.pin_count#0"].text == Text(ar="عدد الأرقام المُدخلة", en="digits entered")


def test_literal_parts_without_words_are_not_clips():
    parts = template_parts("Kiosk {kiosk} - {centre}")
    assert [type(p).__name__ for p in parts] == ["Literal", "Placeholder", "Placeholder"]
    assert set(string_clips("x", Text(ar="{a}: {b}", en="{a} - {b}"))) == set()


def test_codes_are_spelled_letter_by_letter_and_digit_by_digit():
    assert spell("K7Q2-M4XA") == ("chr:K", "num:7", "chr:Q", "num:2", "chr:M", "num:4", "chr:X", "chr:A")
    assert INDEX.clips["chr:P"].text.en == "P, Papa"  # B and P sound alike: the spelling alphabet tells them apart


def _states() -> list[SessionState]:
    ticket = CheckInTicket(style=MANIFEST.style_for_wilayat(CONTEST.wilayat).id, provisional=False)
    a, b = (k.id for k in CONTEST.active_candidates[:2])
    chosen = {CONTEST.id: (a, b)}
    base = SessionState(phase=Phase.ATTRACT, ticket=ticket)
    out = [replace(base, phase=p) for p in Phase if p not in (Phase.BALLOT, Phase.REVIEW)]
    out += [
        replace(base, phase=Phase.PIN_ENTRY, pin_wrong=True, pin_tries_left=1),
        replace(base, phase=Phase.BALLOT, selections=chosen, overvote_tried=CONTEST.id),
        replace(base, phase=Phase.REVIEW),
        replace(base, phase=Phase.REVIEW, selections=chosen),
        replace(base, phase=Phase.CONFIRMATION, receipt=CastReceipt(code="K7Q2-M4XA-PB3D-9TZC", qr_payload="")),
        replace(base, phase=Phase.NOTICE, failure=ev.Failure.ALREADY_VOTED),
        replace(
            base,
            phase=Phase.CHALLENGE_RESULT,
            challenge=ChallengeReport(decrypted=chosen, verified=False, code="AB23-CD45-EF67-GH72"),
        ),
    ]
    return out


@pytest.mark.parametrize("language", [AR, EN])
@pytest.mark.parametrize("mode", list(InputMode))
def test_every_clip_any_screen_asks_for_is_in_the_package(language, mode):
    ctx = PromptContext(MANIFEST, INDEX.strings, input_mode=mode)
    known = set(INDEX.clips) | {f"cand:{k.id}" for c in MANIFEST.contests for k in c.candidates}
    for plain in _states():
        state = replace(plain, settings=Settings(language=language, audio=True))
        clips = list(screen(state, ctx))
        assert clips, state.phase
        for item in screen_items(state, ctx):
            clips += item.clips
        for clip in clips:
            assert clip in known, (state.phase, clip)
            if not clip.startswith("cand:"):
                assert INDEX.clips[clip].text.in_language(language), (state.phase, clip, language)


def test_the_package_rule_names_a_missing_string_clip():
    files = package_files(MANIFEST, INDEX)
    files["audio/clips.json"] = INDEX.to_json()
    assert check_clips(MANIFEST, files) is None
    del files["audio/en/strings/ballot.selected.ogg"]
    assert check_clips(MANIFEST, files) == (
        "audio/en/strings/ballot.selected.ogg",
        "missing: the en audio clip 'str:ballot.selected'",
    )


def test_the_package_rule_wants_every_manifest_string_number_and_letter():
    required = required_clip_ids(MANIFEST)
    assert {"num:0", "num:60", "chr:A", "chr:Z", f"contest:{CONTEST.id}"} <= required
    assert all(f"str:{key}" in required or f"str:{key}#0" in required for key in MANIFEST.strings)
    partial = replace(INDEX, clips={k: v for k, v in INDEX.clips.items() if k != "num:7"})
    files = {**package_files(MANIFEST, INDEX), "audio/clips.json": partial.to_json()}
    assert check_clips(MANIFEST, files) == ("audio/clips.json", "no clip 'num:7' (needed by the manifest)")


@pytest.mark.parametrize("language", [AR, EN])
def test_a_closed_kiosk_says_whether_voting_has_not_started_or_has_ended(language):
    ctx = PromptContext(MANIFEST, INDEX.strings)
    closed = SessionState(phase=Phase.CLOSED, settings=Settings(language=language, audio=True))
    morning = screen(closed, ctx)
    opens = MANIFEST.polls_open
    assert f"num:{opens.hour}" in morning and any(c.startswith("str:polls.not_open") for c in morning)
    evening = screen(replace(closed, kiosk=replace(closed.kiosk, polls_closed=True)), ctx)
    assert evening == ("str:polls.closed",)
    paper = screen(replace(closed, kiosk=replace(closed.kiosk, polls_closed=True, manual_fallback=True)), ctx)
    assert paper == ("str:kiosk.closed.manual",)
    for clip in morning + evening + paper:
        assert INDEX.clips[clip].text.in_language(language)
