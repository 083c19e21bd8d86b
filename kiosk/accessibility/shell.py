"""The accessibility layer's imperative shell: it listens to the voter session, speaks through the audio
queue, turns controller keys and switch presses into session events, and keeps the assisted-voting and
privacy-screen state. The kiosk app wires it in three places (see docs/accessibility.md):

- as the session driver's ``SpeakerPort`` (``speak``) and one of its listeners (``on_state``);
- the window's key handler calls ``on_key_name`` (accessible controller, switches on keys);
- a clock calls ``tick(now)`` a few times a second (auto-scan).

Everything it decides comes from the pure modules (prompts, input, assisted); it only applies it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field

from kiosk.accessibility import assisted, input, prompts
from kiosk.accessibility.audio import VOLUME_STEPS, AudioQueue
from kiosk.accessibility.prompts import InputMode, Interrupt, PromptContext
from kiosk.accessibility.tempo import RATE_STEPS
from kiosk.session import events as ev
from kiosk.session import flow
from kiosk.session.model import ClipId, Phase
from kiosk.session.voter_state import SessionState

log = logging.getLogger(__name__)

SWITCH_KEYS = {"1": input.Switch.MOVE, "2": input.Switch.SELECT}
"""Two-switch interfaces (sip-and-puff) present themselves as a keyboard sending two keys."""
SCAN_SPEED_KEYS = {",": -1, ".": 1}
"""Auto-scan slower / faster, for the voter's helper or a staff member on the controller or a keyboard
(a switch user has only the two switches); they do not change the input mode."""


@dataclass
class AccessibilityShell:
    ctx: PromptContext
    queue: AudioQueue
    dispatch: Callable[[ev.Event], None]
    audit: Callable[[str, str], None]
    state: SessionState | None = None
    focus: input.Focus = field(default_factory=input.Focus)
    scan: input.Scan = field(default_factory=input.Scan)
    assistance: assisted.Assistance = field(default_factory=assisted.Assistance)
    on_change: Callable[[], None] | None = None
    """Called when the focus or the privacy screen changes (screens redraw their highlight)."""

    def __post_init__(self) -> None:
        self._spoken: list[ClipId] = []

    @property
    def input_mode(self) -> InputMode:
        return self.ctx.input_mode

    def set_input_mode(self, mode: InputMode) -> None:
        if mode is not self.ctx.input_mode:
            self.ctx = PromptContext(self.ctx.manifest, self.ctx.strings, self.ctx.inactivity_end_s, mode)

    @property
    def focused_key(self) -> str | None:
        """The key of the focused item (``input.Item.key``), for the screen to highlight."""
        if self.state is None or self.input_mode is InputMode.TOUCH:
            return None
        focus = self.scan.focus if self.input_mode is InputMode.SCANNING else self.focus
        return focus.key if focus.screen == input.screen_id(self.state) else None

    @property
    def privacy(self) -> bool:
        return self.assistance.privacy

    # ---- session side ------------------------------------------------------------------------------------

    def speak(self, clips: tuple[ClipId, ...], language: object = None) -> None:
        """SpeakerPort: the session asked for these clips in this step; ``on_state`` decides what to play."""
        self._spoken.extend(clips)

    def on_state(self, new: SessionState) -> None:
        old, self.state = self.state, new
        spoken, self._spoken = tuple(self._spoken), []
        if old is not None:
            self.assistance, audits = assisted.observe(self.assistance, old, new)
            for kind, detail in audits:
                self.audit(kind, detail)
        if old is not None and old.settings.audio and not new.settings.audio:
            self.queue.silence()
        if new.phase in flow.IDLE and (old is None or old.phase not in flow.IDLE):
            self._new_voter()
        narration = prompts.narrate(old, new, spoken, self.ctx)
        if narration is not None:
            self.queue.say(
                narration.clips, new.settings.language, narration.interrupt, screen=narration.screen is not None
            )
        if self.on_change is not None:
            self.on_change()

    def _new_voter(self) -> None:
        self.queue.reset()
        self.focus = input.Focus()
        self.scan = input.Scan(auto=self.scan.auto)
        self.set_input_mode(InputMode.TOUCH)

    # ---- voter input -------------------------------------------------------------------------------------

    def on_key_name(self, name: str, now: float) -> bool:
        """A key from the window (Kivy key name). Returns True if the accessibility layer used it."""
        if name in SWITCH_KEYS:
            self.on_switch(SWITCH_KEYS[name], now)
            return True
        if name in SCAN_SPEED_KEYS:
            self.change_scan_speed(SCAN_SPEED_KEYS[name])
            return True
        key = input.KEYBOARD.get(name)
        if key is None:
            return False
        self.on_key(key)
        return True

    def _audio_first(self) -> bool:
        """Navigating without touch implies listening: the first key or switch press of a voter who has
        not turned audio on turns it on (the screen is then read) and does nothing else. This works from
        the attract screen on, before the card (the setting carries into the session); a closed kiosk has
        nothing to say."""
        state = self.state
        if state is None or state.settings.audio or state.phase is Phase.CLOSED:
            return False
        self.dispatch(ev.ToggleAudio())
        return True

    def on_key(self, key: input.Key) -> None:
        if self.state is None:
            return
        self.set_input_mode(InputMode.CONTROLLER)
        if self._audio_first():
            return
        self.focus, commands = input.controller_step(self.focus, key, self.state, self.ctx)
        self._run(commands)

    def on_switch(self, switch: input.Switch, now: float) -> None:
        if self.state is None:
            return
        self.set_input_mode(InputMode.SCANNING)
        if self._audio_first():
            return
        self.scan, commands = input.scan_switch(self.scan, switch, now, self.state, self.ctx)
        self._run(commands)

    def tick(self, now: float) -> None:
        if self.state is None or self.input_mode is not InputMode.SCANNING:
            return
        self.scan, commands = input.scan_tick(self.scan, now, self.queue.busy, self.state, self.ctx)
        self._run(commands)

    def change_scan_speed(self, delta: int) -> int:
        """One step faster (+1) or slower (-1) auto-scan, within ``input.SCAN_INTERVALS_S``; the new speed is
        said ("Scan speed 4 of 7") when audio is on. Reset to the default for the next voter."""
        self.scan = self.scan.with_speed(self.scan.speed + delta)
        state = self.state
        if state is not None and state.settings.audio:
            lang = state.settings.language
            clips = self.ctx.say("audio.scan_speed", lang, step=self.scan.speed + 1, steps=len(input.SCAN_INTERVALS_S))
            self.queue.say(clips, lang, Interrupt.FLUSH)
        return self.scan.speed

    def levels(self) -> dict[str, tuple[int, int]]:
        """(step, steps) of speech rate, volume and scan speed, as the accessibility screen shows them."""
        return {
            "rate": (self.queue.rate_step + 1, len(RATE_STEPS)),
            "volume": (self.queue.volume_step, VOLUME_STEPS),
            "scan": (self.scan.speed + 1, len(input.SCAN_INTERVALS_S)),
        }

    def adjust(self, what: str, delta: int) -> None:
        """The accessibility screen's on-screen buttons: one step of speech rate, volume or scan speed (the
        same steps as the controller's keys and ``change_scan_speed``), said aloud when audio is on."""
        state = self.state
        if state is None:
            return
        if what == "scan":
            self.change_scan_speed(delta)
            return
        actions = {
            "rate": (input.AudioAction.RATE_DOWN, input.AudioAction.RATE_UP),
            "volume": (input.AudioAction.VOLUME_DOWN, input.AudioAction.VOLUME_UP),
        }
        self._audio(actions[what][delta > 0], state)

    def toggle_privacy(self) -> None:
        if self.state is None:
            return
        self.assistance = assisted.toggle_privacy(self.assistance, self.state)
        lang = self.state.settings.language
        key = "audio.privacy_on" if self.assistance.privacy else "audio.privacy_off"
        if self.state.settings.audio:
            self.queue.say(self.ctx.say(key, lang), lang, Interrupt.FRONT)
        if self.on_change is not None:
            self.on_change()

    def _run(self, commands: tuple[input.Command, ...]) -> None:
        state = self.state
        assert state is not None
        lang = state.settings.language
        for command in commands:
            match command:
                case input.Send(event=event):
                    self.dispatch(event)
                case input.Announce(clips=clips):
                    if state.settings.audio:
                        self.queue.say(clips, lang, Interrupt.FLUSH)
                case input.Audio(action=action):
                    self._audio(action, state)
        if self.on_change is not None:
            self.on_change()

    def _audio(self, action: input.AudioAction, state: SessionState) -> None:
        lang = state.settings.language
        q = self.queue
        match action:
            case input.AudioAction.HELP:
                q.say(prompts.help_clips(state, self.ctx), lang, Interrupt.FLUSH)
            case input.AudioAction.REPLAY:
                q.replay()
            case input.AudioAction.PAUSE:
                q.toggle_pause()
            case input.AudioAction.RATE_UP | input.AudioAction.RATE_DOWN:
                step = q.change_rate(1 if action is input.AudioAction.RATE_UP else -1)
                q.say(self.ctx.say("audio.rate", lang, step=step + 1, steps=len(RATE_STEPS)), lang, Interrupt.FLUSH)
            case input.AudioAction.VOLUME_UP | input.AudioAction.VOLUME_DOWN:
                step = q.change_volume(1 if action is input.AudioAction.VOLUME_UP else -1)
                q.say(self.ctx.say("audio.volume", lang, step=step, steps=VOLUME_STEPS), lang, Interrupt.FLUSH)
