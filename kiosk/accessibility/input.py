"""Navigation without touch: the accessible controller and two-switch scanning, as pure focus models.

Both work over the current screen's *items* (``screen_items``): what can be focused, what it says when
focused, and the session event that selecting it sends. Focus is remembered by item key, so a selection
that changes an item's words keeps the focus where it is; another screen starts with nothing focused
(the screen is read first).

- Controller (VVSG 2.0 7.2: up, down, left, right, select, back, help, replay, rate, volume, on keys):
  up/down move through the items, left/right go to the previous/next contest on the ballot, select
  sends the focused item's event, back steps back, help says how to use the keys on this screen.
- Two-switch scanning (sip-and-puff): "move" goes to the next item (wrapping), "select" selects it.
  With auto-scan on, the focus also moves by itself every ``SCAN_INTERVALS_S[speed]`` seconds, but only
  while the kiosk is silent, so the voter always hears an item before the scan moves on. The clock is
  passed in (``now``); nothing here reads it.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, replace

from election.manifest import Language
from kiosk.accessibility.prompts import Clips, PromptContext, value_clips
from kiosk.session import events as ev
from kiosk.session.model import ClipId, Phase, TextSize, Theme
from kiosk.session.voter_state import SessionState

# ---- items ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Item:
    key: str
    clips: Clips
    event: ev.Event | None


def _s(ctx: PromptContext, key: str, lang: Language) -> Clips:
    return ctx.say(key, lang)


def screen_id(state: SessionState) -> tuple[object, ...]:
    """What makes a screen "another screen" for focus: focus is reset when this changes."""
    return (state.phase, state.contest_index, state.overvote_tried, state.blank_confirmed, state.failure)


def screen_items(state: SessionState, ctx: PromptContext) -> tuple[Item, ...]:
    """The focusable items of the current screen, in reading order."""
    lang = state.settings.language
    s = ctx.say
    match state.phase:
        case Phase.ATTRACT:
            return (
                Item("audio", s("access.audio", lang), ev.ToggleAudio()),
                Item("language.ar", s("language.arabic", lang), ev.ChooseLanguage(Language.ARABIC)),
                Item("language.en", s("language.english", lang), ev.ChooseLanguage(Language.ENGLISH)),
            )
        case Phase.PIN_ENTRY:
            digits = tuple(
                Item(f"pin.{d}", value_clips(d), ev.PinDigit(str(d))) for d in (1, 2, 3, 4, 5, 6, 7, 8, 9, 0)
            )
            return (
                *digits,
                Item("pin.delete", s("kiosk.pin.delete", lang), ev.PinBackspace()),
                Item("pin.ok", s("kiosk.pin.ok", lang), ev.PinSubmit()),
            )
        case Phase.REMOTE_VOTE:
            return (
                Item("continue", s("kiosk.remote_vote.continue", lang), ev.Continue()),
                Item("cancel", s("kiosk.remote_vote.cancel", lang), ev.CancelVoting()),
            )
        case Phase.PROVISIONAL:
            return (Item("continue", s("provisional.accept", lang), ev.Continue()),)
        case Phase.ACCESSIBILITY:
            on_off = "kiosk.on" if state.settings.audio else "kiosk.off"
            sizes = tuple(
                Item(
                    f"size.{t.value}",
                    s("access.text_size", lang) + s(f"kiosk.text_size.{t.value}", lang),
                    ev.ChooseTextSize(t),
                )
                for t in TextSize
            )
            themes = tuple(
                Item(
                    f"theme.{t.value}",
                    s("access.contrast", lang) + s(f"kiosk.theme.{t.value}", lang),
                    ev.ChooseTheme(t),
                )
                for t in Theme
            )
            return (
                Item("continue", s("nav.next", lang), ev.Continue()),
                Item("audio", s("access.audio", lang) + s(on_off, lang), ev.ToggleAudio()),
                Item("language.ar", s("language.arabic", lang), ev.ChooseLanguage(Language.ARABIC)),
                Item("language.en", s("language.english", lang), ev.ChooseLanguage(Language.ENGLISH)),
                *sizes,
                *themes,
            )
        case Phase.BALLOT:
            return _ballot_items(state, ctx)
        case Phase.REVIEW:
            contests = ctx.contests(state)
            if all(not state.selections.get(c.id) for c in contests) and not state.blank_confirmed:
                return (
                    Item("blank.no", s("ballot.blank_no", lang), ev.BackToBallot()),
                    Item("blank.yes", s("ballot.blank_yes", lang), ev.ConfirmBlank()),
                )
            return (
                Item("seal", s("kiosk.review.seal", lang), ev.SealBallot()),
                Item("change", s("review.change", lang), ev.BackToBallot()),
            )
        case Phase.CAST_OR_CHALLENGE:
            return (
                Item("cast", s("cast.button", lang), ev.Cast()),
                Item("challenge", s("challenge.button", lang) + s("challenge.explanation", lang), ev.Challenge()),
            )
        case Phase.CHALLENGE_RESULT:
            return (Item("continue", s("challenge.vote_again", lang), ev.Continue()),)
    return ()


def _ballot_items(state: SessionState, ctx: PromptContext) -> tuple[Item, ...]:
    lang = state.settings.language
    contests = ctx.contests(state)
    contest = contests[state.contest_index]
    chosen = state.selected(contest.id)
    items: list[Item] = []
    if state.overvote_tried == contest.id:
        items.append(Item("dismiss", ctx.say("kiosk.ballot.ok", lang), ev.DismissNotice()))
    items.extend(
        Item(f"candidate.{k.id}", ctx.candidate(k.id, k.id in chosen), ev.ToggleCandidate(k.id))
        for k in contest.active_candidates
    )
    last = state.contest_index + 1 == len(contests)
    items.append(Item("next", _s(ctx, "kiosk.ballot.review" if last else "nav.next", lang), ev.NextContest()))
    if state.contest_index > 0:
        items.append(Item("back", _s(ctx, "nav.back", lang), ev.PreviousContest()))
    return tuple(items)


def back_event(state: SessionState) -> ev.Event | None:
    match state.phase:
        case Phase.PIN_ENTRY:
            return ev.PinBackspace()
        case Phase.BALLOT if state.contest_index > 0:
            return ev.PreviousContest()
        case Phase.REVIEW:
            return ev.BackToBallot()
    return None


# ---- what a focus model asks the shell to do -----------------------------------------------------------


@dataclass(frozen=True)
class Send:
    """Send this event to the voter session."""

    event: ev.Event


@dataclass(frozen=True)
class Announce:
    """Say these clips now, interrupting what is playing (the voter moved)."""

    clips: Clips


class AudioAction(enum.Enum):
    HELP = "help"
    REPLAY = "replay"
    PAUSE = "pause"
    RATE_UP = "rate_up"
    RATE_DOWN = "rate_down"
    VOLUME_UP = "volume_up"
    VOLUME_DOWN = "volume_down"


@dataclass(frozen=True)
class Audio:
    action: AudioAction


Command = Send | Announce | Audio


@dataclass(frozen=True)
class Focus:
    screen: tuple[object, ...] | None = None
    key: str | None = None

    def on(self, state: SessionState) -> Focus:
        """This focus, or a fresh one if the session is on another screen."""
        sid = screen_id(state)
        return self if sid == self.screen else Focus(screen=sid)

    def index(self, items: tuple[Item, ...]) -> int | None:
        for i, item in enumerate(items):
            if item.key == self.key:
                return i
        return None


def _end_of_list(ctx: PromptContext, state: SessionState) -> Clips:
    return ctx.say("audio.end_of_list", state.settings.language)


def _move(focus: Focus, items: tuple[Item, ...], delta: int, *, wrap: bool) -> tuple[Focus, Item | None]:
    if not items:
        return focus, None
    current = focus.index(items)
    if current is None:
        target = 0 if delta > 0 else len(items) - 1
    elif wrap:
        target = (current + delta) % len(items)
    else:
        target = current + delta
        if not 0 <= target < len(items):
            return focus, None
    return replace(focus, key=items[target].key), items[target]


# ---- the accessible controller ----------------------------------------------------------------------------


class Key(enum.Enum):
    UP = "up"
    DOWN = "down"
    LEFT = "left"
    RIGHT = "right"
    SELECT = "select"
    BACK = "back"
    HELP = "help"
    REPLAY = "replay"
    PAUSE = "pause"
    RATE_UP = "rate_up"
    RATE_DOWN = "rate_down"
    VOLUME_UP = "volume_up"
    VOLUME_DOWN = "volume_down"


KEYBOARD: Mapping[str, Key] = {
    "up": Key.UP,
    "down": Key.DOWN,
    "left": Key.LEFT,
    "right": Key.RIGHT,
    "enter": Key.SELECT,
    "numpadenter": Key.SELECT,
    "spacebar": Key.SELECT,
    "backspace": Key.BACK,
    "escape": Key.BACK,
    "f1": Key.HELP,
    "h": Key.HELP,
    "r": Key.REPLAY,
    "p": Key.PAUSE,
    "]": Key.RATE_UP,
    "[": Key.RATE_DOWN,
    "=": Key.VOLUME_UP,
    "-": Key.VOLUME_DOWN,
    "pageup": Key.VOLUME_UP,
    "pagedown": Key.VOLUME_DOWN,
}
"""Kivy key names of a USB accessible controller that presents itself as a keyboard (arrows, enter, ...)."""

_AUDIO_KEYS = {
    Key.HELP: AudioAction.HELP,
    Key.REPLAY: AudioAction.REPLAY,
    Key.PAUSE: AudioAction.PAUSE,
    Key.RATE_UP: AudioAction.RATE_UP,
    Key.RATE_DOWN: AudioAction.RATE_DOWN,
    Key.VOLUME_UP: AudioAction.VOLUME_UP,
    Key.VOLUME_DOWN: AudioAction.VOLUME_DOWN,
}


def controller_step(
    focus: Focus, key: Key, state: SessionState, ctx: PromptContext
) -> tuple[Focus, tuple[Command, ...]]:
    """One key press on the accessible controller."""
    focus = focus.on(state)
    items = screen_items(state, ctx)
    if key in _AUDIO_KEYS:
        return focus, (Audio(_AUDIO_KEYS[key]),)
    if key in (Key.LEFT, Key.RIGHT) and state.phase is Phase.BALLOT:
        return focus, (Send(ev.NextContest() if key is Key.RIGHT else ev.PreviousContest()),)
    if key in (Key.UP, Key.DOWN, Key.LEFT, Key.RIGHT):
        delta = 1 if key in (Key.DOWN, Key.RIGHT) else -1
        moved, item = _move(focus, items, delta, wrap=False)
        if item is None:
            return focus, (Announce(_end_of_list(ctx, state)),) if items else ()
        return moved, (Announce(item.clips),)
    if key is Key.SELECT:
        index = focus.index(items)
        if index is None:  # nothing focused yet: focus the first item rather than act blindly
            moved, item = _move(focus, items, 1, wrap=False)
            return moved, (Announce(item.clips),) if item else ()
        event = items[index].event
        return focus, (Send(event),) if event is not None else ()
    if key is Key.BACK:
        back = back_event(state)
        return focus, (Send(back),) if back is not None else ()
    return focus, ()


# ---- two-switch scanning ----------------------------------------------------------------------------------


class Switch(enum.Enum):
    MOVE = "move"
    SELECT = "select"


SCAN_INTERVALS_S: tuple[float, ...] = (5.0, 4.0, 3.0, 2.0, 1.5, 1.0, 0.75)
"""Scan speeds, slowest first: the pause after an item has been read before the scan moves on."""
DEFAULT_SCAN_SPEED = 2


@dataclass(frozen=True)
class Scan:
    focus: Focus = Focus()
    auto: bool = True
    speed: int = DEFAULT_SCAN_SPEED
    next_at: float | None = None

    @property
    def interval_s(self) -> float:
        return SCAN_INTERVALS_S[self.speed]

    def with_speed(self, speed: int) -> Scan:
        return replace(self, speed=max(0, min(len(SCAN_INTERVALS_S) - 1, speed)))


def _scan_focus(scan: Scan, state: SessionState, now: float) -> Scan:
    focus = scan.focus.on(state)
    if focus is scan.focus:
        return scan
    return replace(scan, focus=focus, next_at=now + scan.interval_s)


def scan_switch(
    scan: Scan, switch: Switch, now: float, state: SessionState, ctx: PromptContext
) -> tuple[Scan, tuple[Command, ...]]:
    """The voter pressed (sipped or puffed) a switch at time ``now``."""
    scan = _scan_focus(scan, state, now)
    items = screen_items(state, ctx)
    restarted = replace(scan, next_at=now + scan.interval_s)
    if switch is Switch.MOVE or scan.focus.index(items) is None:
        focus, item = _move(scan.focus, items, 1, wrap=True)
        return replace(restarted, focus=focus), (Announce(item.clips),) if item else ()
    event = items[scan.focus.index(items) or 0].event
    return restarted, (Send(event),) if event is not None else ()


def scan_tick(
    scan: Scan, now: float, audio_busy: bool, state: SessionState, ctx: PromptContext
) -> tuple[Scan, tuple[Command, ...]]:
    """Time passes: with auto-scan, move to the next item once the kiosk has been silent for the interval."""
    scan = _scan_focus(scan, state, now)
    if not scan.auto:
        return scan, ()
    if audio_busy or scan.next_at is None:
        return replace(scan, next_at=now + scan.interval_s), ()
    if now < scan.next_at:
        return scan, ()
    focus, item = _move(scan.focus, screen_items(state, ctx), 1, wrap=True)
    new = replace(scan, focus=focus, next_at=now + scan.interval_s)
    return new, (Announce(item.clips),) if item else ()


__all__ = [
    "KEYBOARD",
    "SCAN_INTERVALS_S",
    "Announce",
    "Audio",
    "AudioAction",
    "ClipId",
    "Command",
    "Focus",
    "Item",
    "Key",
    "Scan",
    "Send",
    "Switch",
    "back_event",
    "controller_step",
    "scan_switch",
    "scan_tick",
    "screen_id",
    "screen_items",
]
