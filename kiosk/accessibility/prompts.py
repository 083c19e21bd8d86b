"""What the audio ballot says: the clips for each screen, each selection change and each prompt (pure).

The voter session emits ``Speak(screen.<phase>)`` whenever it (re-)enters a phase with audio on, and
``Speak(prompt.*)`` for passing prompts. ``narrate`` turns one step of the session (old state, new
state, the clip ids it asked for) into what to play and how to treat what is already playing:

- another screen (phase, contest, language): flush the queue and read the new screen;
- the same screen with a selection changed: interrupt, drop what was queued (it described the
  screen before the change) and confirm the change ("Number 3. Salim ... Selected. You have chosen 1
  of 2");
- a re-entry that changed nothing the voter hears (a touch restarting the inactivity timer): silence.

Clip ids follow ``election.audio_clips``; a catalogue string with placeholders is spoken as its literal
parts with the values' clips between them (numbers, spelled codes, contest and wilayat names).
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property

from election.audio_clips import (
    Literal,
    Placeholder,
    candidate_clip,
    contest_clip,
    has_placeholders,
    letter_clip,
    number_clip,
    string_clip,
    template_parts,
)
from election.manifest import Candidate, CandidateId, Contest, Language, Manifest, Text
from kiosk.session import ballot as ballot_rules
from kiosk.session import flow
from kiosk.session.events import Failure
from kiosk.session.model import ClipId, Phase, Selections
from kiosk.session.voter_state import SessionState

Clips = tuple[ClipId, ...]


@dataclass(frozen=True)
class Spelled:
    """A value spoken character by character (a confirmation code): letters and digits, dashes skipped."""

    text: str


Value = int | Spelled | Clips


class Interrupt(enum.Enum):
    FLUSH = "flush"  # stop what is playing, drop the queue, play these
    FRONT = "front"  # stop what is playing, play these, then the rest of the queue
    APPEND = "append"  # after everything queued


class InputMode(enum.Enum):
    TOUCH = "touch"
    CONTROLLER = "controller"
    SCANNING = "scanning"


@dataclass(frozen=True)
class Narration:
    clips: Clips
    interrupt: Interrupt
    screen: Clips | None = None
    """When set, what "replay" reads from now on (the whole current screen)."""


@dataclass(frozen=True)
class PromptContext:
    manifest: Manifest
    strings: Mapping[str, Text]
    inactivity_end_s: float = 30.0
    input_mode: InputMode = InputMode.TOUCH

    @cached_property
    def candidates(self) -> dict[CandidateId, Candidate]:
        return {k.id: k for c in self.manifest.contests for k in c.candidates}

    # ---- catalogue strings ----------------------------------------------------------------------------

    def say(self, key: str, language: Language, **values: Value) -> Clips:
        """The clips of catalogue string ``key`` with ``values`` for its placeholders."""
        text = self.strings.get(key)
        if text is None:
            raise KeyError(f"string {key!r} is not in the audio catalogue")
        if not has_placeholders(text.ar) and not has_placeholders(text.en):
            return (ClipId(string_clip(key)),)
        out: list[ClipId] = []
        for part in template_parts(text.in_language(language)):
            if isinstance(part, Literal):
                out.append(ClipId(string_clip(key, part.index)))
            elif isinstance(part, Placeholder) and part.name in values:
                out.extend(value_clips(values[part.name]))
        return tuple(out)

    # ---- ballot pieces --------------------------------------------------------------------------------

    def contests(self, state: SessionState) -> tuple[Contest, ...]:
        if state.ticket is None:
            return ()
        return self.manifest.contests_of_style(state.ticket.style)

    def candidate(self, candidate: CandidateId, selected: bool) -> Clips:
        state_key = "ballot.selected" if selected else "audio.not_selected"
        return (ClipId(candidate_clip(candidate)), ClipId(string_clip(state_key)))

    def chosen_count(self, contest: Contest, selections: Selections, language: Language) -> Clips:
        count = len(selections.get(contest.id, ()))
        return self.say("ballot.selected_count", language, count=count, seats=contest.seats)


def value_clips(value: Value) -> Clips:
    if isinstance(value, bool):
        raise TypeError("a boolean is not a spoken value")
    if isinstance(value, int):
        return (ClipId(number_clip(value)),)
    if isinstance(value, Spelled):
        return spell(value.text)
    return value


def spell(text: str) -> Clips:
    """A code character by character: ``K7Q2`` -> chr:K, num:7, chr:Q, num:2."""
    out: list[ClipId] = []
    for ch in text.upper():
        if ch.isdigit():
            out.append(ClipId(number_clip(int(ch))))
        elif "A" <= ch <= "Z":
            out.append(ClipId(letter_clip(ch)))
    return tuple(out)


# ---- whole screens ------------------------------------------------------------------------------------


def screen(state: SessionState, ctx: PromptContext) -> Clips:
    """Everything the current screen says, in reading order."""
    lang = state.settings.language
    s = ctx.say
    match state.phase:
        case Phase.CLOSED:
            if state.kiosk.manual_fallback:
                return s("kiosk.closed.manual", lang)
            if state.kiosk.polls_closed:
                return s("polls.closed", lang)
            opens = ctx.manifest.polls_open
            at = (ClipId(number_clip(opens.hour)),) + ((ClipId(number_clip(opens.minute)),) if opens.minute else ())
            return s("polls.not_open", lang, time=at)
        case Phase.ATTRACT:
            return s("attract.title", lang) + s("attract.insert_card", lang) + s("attract.audio_hint", lang)
        case phase if phase in flow.BUSY_MESSAGE:
            return s(flow.BUSY_MESSAGE[phase], lang)
        case Phase.PIN_ENTRY:
            out = s("pin.enter", lang) + s("pin.hint", lang)
            if state.pin_wrong and state.pin_tries_left is not None:
                out = s("pin.wrong", lang, tries=state.pin_tries_left) + out
                if state.pin_tries_left == 1:
                    out += s("pin.last_try", lang)
            return out
        case Phase.REMOTE_VOTE:
            return (
                s("kiosk.remote_vote.title", lang)
                + s("kiosk.remote_vote.explanation", lang)
                + s("kiosk.remote_vote.not_me", lang)
            )
        case Phase.PROVISIONAL:
            return s("provisional.title", lang) + s("provisional.explanation", lang)
        case Phase.ACCESSIBILITY:
            return s("access.title", lang) + s("access.reset_note", lang) + _help(ctx, lang, ballot=False)
        case Phase.BALLOT:
            return _ballot_screen(state, ctx)
        case Phase.REVIEW:
            return _review_screen(state, ctx)
        case Phase.CAST_OR_CHALLENGE:
            return s("kiosk.sealed.title", lang) + s("kiosk.sealed.choose", lang) + s("cast.confirm", lang)
        case Phase.CONFIRMATION:
            code = state.receipt.code if state.receipt else ""
            return (
                s("cast.done", lang)
                + s("confirmation.code", lang, code=Spelled(code))
                + s("confirmation.explanation", lang)
                + s("card.remove", lang)
            )
        case Phase.CHALLENGE_RESULT:
            return _challenge_screen(state, ctx)
        case Phase.NOTICE if state.failure is None and state.notice is not None:  # ended by the voter
            return s("kiosk.remote_vote.kept_title", lang) + s(state.notice, lang) + s("card.remove", lang)
        case Phase.NOTICE:
            failure = state.failure or Failure.INTERNAL
            return s("kiosk.error.title", lang) + s(flow.FAILURE_MESSAGE[failure], lang) + s("card.remove", lang)
        case _:  # staff screens: staff read them; a title is enough to know where the kiosk is
            return s("staff.title", lang)


def _help(ctx: PromptContext, lang: Language, *, ballot: bool) -> Clips:
    match ctx.input_mode:
        case InputMode.CONTROLLER:
            return ctx.say("audio.controller_help", lang)
        case InputMode.SCANNING:
            return ctx.say("audio.scan_help", lang)
    return ctx.say("audio.touch_help", lang) if ballot else ()


def help_clips(state: SessionState, ctx: PromptContext) -> Clips:
    """What the help key says: how to use the current input on this screen."""
    return _help(ctx, state.settings.language, ballot=True)


def _ballot_screen(state: SessionState, ctx: PromptContext) -> Clips:
    lang = state.settings.language
    contests = ctx.contests(state)
    contest = contests[state.contest_index]
    s = ctx.say
    instructions = (
        s("ballot.instructions_one", lang)
        if contest.seats == 1
        else s("ballot.instructions", lang, seats=contest.seats)
    )
    out = (
        s("ballot.title", lang, contest=(ClipId(contest_clip(contest.id)),))
        + s("kiosk.ballot.contest_of", lang, index=state.contest_index + 1, total=len(contests))
        + instructions
        + ctx.chosen_count(contest, state.selections, lang)
        + s("audio.candidates_count", lang, count=len(contest.active_candidates))
        + withdrawn_clips(ctx, contest, lang)
        + _help(ctx, lang, ballot=True)
    )
    if state.overvote_tried == contest.id:
        out = s("ballot.overvote", lang, seats=contest.seats) + out
    return out


def withdrawn_clips(ctx: PromptContext, contest: Contest, lang: Language) -> Clips:
    """Who withdrew, by number and name (the ballot's numbers have a gap where they stood)."""
    out: Clips = ()
    for k in sorted((k for k in contest.candidates if k.withdrawn), key=lambda k: k.ballot_number):
        out += ctx.say("kiosk.ballot.withdrawn", lang, number=k.ballot_number, name=(ClipId(candidate_clip(k.id)),))
    return out


def _choices(ctx: PromptContext, contests: tuple[Contest, ...], selections: Selections, lang: Language) -> Clips:
    out: list[ClipId] = []
    for contest in contests:
        out.append(ClipId(contest_clip(contest.id)))
        chosen = selections.get(contest.id, ())
        if chosen:
            out.extend(ctx.say("audio.you_chose", lang))
            out.extend(ClipId(candidate_clip(k)) for k in chosen)
        else:
            out.extend(ctx.say("review.blank", lang))
    return tuple(out)


def _review_screen(state: SessionState, ctx: PromptContext) -> Clips:
    lang = state.settings.language
    contests = ctx.contests(state)
    out = ctx.say("review.title", lang) + _choices(ctx, contests, state.selections, lang)
    if all(not state.selections.get(c.id) for c in contests) and not state.blank_confirmed:
        return out + ctx.say("ballot.blank_confirm", lang)
    # The screen's undervote warnings, said too: the contest, then "You have chosen 1 of up to 2 ...".
    for under in ballot_rules.undervotes(contests, state.selections):
        warning = ctx.say("ballot.undervote_warning", lang, count=under.marked, seats=under.allowed)
        out += (ClipId(contest_clip(under.contest)), *warning)
    return out + ctx.say("review.instructions", lang)


def _challenge_screen(state: SessionState, ctx: PromptContext) -> Clips:
    lang = state.settings.language
    report = state.challenge
    out = ctx.say("challenge.result", lang)
    if report is None:
        return out
    verdict = "kiosk.challenge.verified" if report.verified else "kiosk.challenge.mismatch"
    return (
        ctx.say(verdict, lang)
        + _choices(ctx, ctx.contests(state), report.decrypted, lang)
        + ctx.say("confirmation.code", lang, code=Spelled(report.code))
        + out
    )


# ---- one step of the session ------------------------------------------------------------------------


@dataclass(frozen=True)
class _ScreenKey:
    phase: Phase
    contest_index: int
    language: Language
    audio: bool
    failure: Failure | None
    extra: tuple[object, ...] = field(default=())


def _screen_key(state: SessionState) -> _ScreenKey:
    extra: tuple[object, ...] = ()
    if state.phase is Phase.REVIEW:
        extra = (state.blank_confirmed,)
    if state.phase is Phase.PIN_ENTRY:
        extra = (state.pin_wrong, state.pin_tries_left)
    return _ScreenKey(
        state.phase, state.contest_index, state.settings.language, state.settings.audio, state.failure, extra
    )


def narrate(old: SessionState | None, new: SessionState, spoken: Clips, ctx: PromptContext) -> Narration | None:
    """What to play after one session step that asked for ``spoken`` (the ids of its Speak effects)."""
    if not new.settings.audio or not spoken:
        return None
    lang = new.settings.language
    screen_ids = {ClipId(f"screen.{p.value}") for p in Phase}
    prompts: list[ClipId] = []
    for clip in spoken:
        if clip == "prompt.still_there":
            prompts.extend(ctx.say("session.inactivity_warning", lang, seconds=round(ctx.inactivity_end_s)))
        elif clip == "prompt.overvote" and new.phase is Phase.BALLOT:
            contest = ctx.contests(new)[new.contest_index]
            prompts.extend(ctx.say("ballot.overvote", lang, seats=contest.seats))
    asked_for_screen = any(c in screen_ids for c in spoken)
    if old is new and asked_for_screen:  # the voter asked to replay the screen
        whole = screen(new, ctx)
        return Narration(whole, Interrupt.FLUSH, screen=whole)
    if asked_for_screen and (old is None or _screen_key(old) != _screen_key(new)):
        whole = screen(new, ctx)
        return Narration(whole, Interrupt.FLUSH, screen=whole)
    change = _same_screen_change(old, new, ctx) if old is not None else ()
    clips = tuple(prompts) + change
    # What was still queued described the screen before the change ("not selected"): drop it.
    return Narration(clips, Interrupt.FLUSH) if clips else None


def _same_screen_change(old: SessionState, new: SessionState, ctx: PromptContext) -> Clips:
    lang = new.settings.language
    if new.phase is Phase.BALLOT:
        contest = ctx.contests(new)[new.contest_index]
        before, after = old.selected(contest.id), new.selected(contest.id)
        if before == after:
            return ()
        added = [k for k in after if k not in before]
        removed = [k for k in before if k not in after]
        out: list[ClipId] = []
        for k in added:
            out.extend(ctx.candidate(k, selected=True))
        for k in removed:
            out.append(ClipId(candidate_clip(k)))
            out.extend(ctx.say("audio.choice_removed", lang))
        return tuple(out) + ctx.chosen_count(contest, new.selections, lang)
    if new.phase is Phase.PIN_ENTRY and len(new.pin) != len(old.pin):
        return ctx.say("audio.pin_count", lang, count=len(new.pin))
    if new.phase is Phase.ACCESSIBILITY and new.settings != old.settings:
        return _setting_change(old, new, ctx)
    return ()


def _setting_change(old: SessionState, new: SessionState, ctx: PromptContext) -> Clips:
    lang = new.settings.language
    a, b = old.settings, new.settings
    if a.text_size != b.text_size:
        return ctx.say("access.text_size", lang) + ctx.say(f"kiosk.text_size.{b.text_size.value}", lang)
    if a.theme != b.theme:
        return ctx.say("access.contrast", lang) + ctx.say(f"kiosk.theme.{b.theme.value}", lang)
    return ()


def review_choices(state: SessionState, ctx: PromptContext) -> Clips:
    """The voter's choices as the review screen reads them (the final check before casting)."""
    return _choices(ctx, ctx.contests(state), state.selections, state.settings.language)


__all__ = [
    "Clips",
    "InputMode",
    "Interrupt",
    "Narration",
    "PromptContext",
    "Spelled",
    "help_clips",
    "narrate",
    "review_choices",
    "screen",
    "spell",
    "value_clips",
]
