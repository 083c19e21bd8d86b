"""Every voter of the election day on the real Kivy kiosk app (``kiosk.ui.app.KioskApp``, offscreen: SDL with
EGL/Mesa), over the kiosk's real services (pcscd + virtual ID cards, the office's poll book over mutual TLS, the
ballot box, the sync worker, the accessibility shell speaking the package's clips).

The voter acts the way a person does:

- the ID card goes into the virtual reader (vpcd); the kiosk's own card monitor (``MonitorCardEvents``: PC/SC
  reader states polled through pcscd, as on the station kiosk) sees it and starts the session; removal likewise;
- touch voters press the widgets on the screen (the PIN keypad, the candidates' cards, "next", "seal", "cast",
  "challenge", the accessibility choices...) with a touch down/up at the widget's centre, scrolling it into view
  first when needed; widgets are found by the accessible controller's item keys they carry (``focus_key``);
- controller voters press keys on the window (``Window.dispatch("on_key_down", ...)``: arrows and enter of a USB
  accessible controller), which the accessibility layer attached to the app (``kivy_shell.attach``) turns into
  focus moves and selections; the first key turns audio on;
- an assisted voter is preceded by a poll worker's card, PIN and the staff menu's "assisted voting" button.

Kivy reads its environment at import time: ``run_app_voters`` configures it (through ``run_kiosk``) before
importing anything from Kivy; call it in a process that has not imported Kivy yet.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from devtools.election_day.plan import Voter
from election.manifest import CandidateId, ContestId
from kiosk.session import SessionConfig, flow
from kiosk.session.model import KioskMode, Phase

if TYPE_CHECKING:
    from devtools.election_day.kiosk_node import Kiosk

log = logging.getLogger("kiosk")

WINDOW = (1024, 600)
"""Small enough to draw quickly in software GL on 2 cores, large enough for every screen (they scroll)."""
FRAMES = 0
"""Extra frames drawn after each step before the script looks at the screen again (each ``yield`` is a frame)."""
STEP_TIMEOUT_S = 60.0
TAP_WAIT_S = 0.6
MAX_FPS = 100


class AppError(RuntimeError):
    """The kiosk app did not do what the voter expected (the demo fails loudly)."""


def run_app_voters(
    kiosk: Kiosk,
    voters: list[Voter],
    record: Callable[[dict[str, Any]], None],
    *,
    shots: Path | None = None,
    photographed: frozenset[str] = frozenset(),
    before_cast: Callable[[Voter], Callable[[], None] | None] = lambda _v: None,
    pcscd_fault_at: str | None = None,
) -> None:
    """Run ``voters`` through the real app, one after the other; ``record`` gets each voter's outcome."""
    import run_kiosk

    os.environ.setdefault("LP_NUM_THREADS", "1")  # one rasteriser thread per kiosk: three kiosks share two cores
    run_kiosk.configure_kivy(offscreen=True, size=WINDOW)
    from kivy.config import Config

    # Frames paced (a process waiting for a reply sleeps instead of spinning: three kiosks share two cores).
    Config.set("graphics", "maxfps", str(MAX_FPS))
    Config.set("graphics", "multisamples", "0")  # no MSAA: Mesa's software rasteriser would draw every pixel 2-4 x
    from devtools.touch import ManualWorker, run_script
    from kiosk.services import KioskServices
    from kiosk.ui.app import KioskApp
    from kiosk.ui.kivy_shell import attach
    from kiosk.ui_text import Catalogue

    photos = {k.id: k.photo for c in kiosk.manifest.contests for k in c.candidates}

    def photo(candidate: CandidateId) -> bytes | None:
        path = photos.get(candidate)
        return kiosk.package.files.get(path) if path else None

    worker = ManualWorker(auto=True)
    services = KioskServices(
        manifest=kiosk.manifest,
        card=kiosk.card,
        poll_book=kiosk.poll_book,
        ballots=kiosk.ballots,
        staff=kiosk.staff,
        audit=kiosk.audit,
        catalogue=Catalogue.load(),
        photos=photo,
        card_events=kiosk.card_events,  # the station's card monitor on the harness's reader (kiosk.bootstrap)
        speaker=kiosk.shell,
        kiosk_mode=KioskMode(polls_open=True),
        config=SessionConfig(kiosk.manifest),
        where=kiosk.kiosk_id,
        run_blocking=worker,
    )
    app = KioskApp(services, show_demo_panel=False)
    attach(app, kiosk.shell)  # the accessibility layer: speaker, keys from the window, focus outline
    voting = AppVoting(kiosk, app, worker, shots, photographed)

    def script() -> Iterator[None]:
        yield
        for voter in voters:
            if voter.id == pcscd_fault_at:
                seen: dict[str, Any] = {}
                yield from voting.pcscd_gone(voter, seen)
                record(seen)
            result: dict[str, Any] = {}
            yield from voting.vote(voter, result, before_cast(voter))
            record(result)
            log.info("%s: %s %s", voter.id, result["outcome"], result.get("failure", ""))

    errors = run_script(app, script(), worker, frames=FRAMES)
    if errors:
        raise errors[0]


class AppVoting:
    """The steps a voter (or a poll worker) takes on the running app; each is a generator for ``run_script``."""

    def __init__(self, kiosk: Kiosk, app: Any, worker: Any, shots: Path | None, photographed: frozenset[str]) -> None:
        self.kiosk = kiosk
        self.app = app
        self.worker = worker
        self.shots = shots
        self.photographed = photographed
        self.tag = ""
        self.shot_no = 0
        self.missed = 0
        """Buttons no touch reached (not visible, or two touches missed it): pressed by their widget so that the day
        goes on, and counted; the election-day test asserts there are none (an untouchable button fails it)."""
        self.retried = 0
        """Touches that missed once and reached the button on the voter's second touch."""

    # ---- what the voter sees ------------------------------------------------------------------------------

    @property
    def state(self) -> Any:
        return self.app.driver.state

    def phase(self) -> Phase:
        phase: Phase = self.app.driver.state.phase
        return phase

    def busy(self) -> bool:
        return bool(self.worker._queue) or flow.SCREEN_OF_PHASE[self.phase()] == "busy"

    def settle(self, what: str = "the kiosk to answer") -> Iterator[None]:
        """Wait until the kiosk has answered (no port call pending, not on a "please wait" screen) and the
        answer is drawn; the voter listens to every prompt to the end."""
        deadline = time.monotonic() + STEP_TIMEOUT_S
        while True:
            self.kiosk.player.drain()
            yield
            if not self.busy():
                self.kiosk.player.drain()
                return
            if time.monotonic() > deadline:
                raise AppError(f"{self.kiosk.kiosk_id}: timed out waiting for {what} on {self.phase().value}")

    def expect(self, *phases: Phase) -> None:
        if self.phase() not in phases:
            failure = self.state.failure.value if self.state.failure else ""
            raise AppError(
                f"{self.kiosk.kiosk_id} {self.tag}: the app shows {self.phase().value} {failure}, expected "
                + " or ".join(p.value for p in phases)
            )

    def shot(self, name: str) -> Iterator[None]:
        """Photograph the screen (only for the few photographed voters: read-back in software GL is slow)."""
        if self.shots is None or self.tag not in self.photographed:
            return
        from devtools.touch import snapshot_png

        yield  # one more frame: the screen is fully laid out
        yield
        self.shot_no += 1
        self.shots.mkdir(parents=True, exist_ok=True)
        snapshot_png(str(self.shots / f"{self.kiosk.kiosk_id}-{self.tag}-{self.shot_no}-{name}.png"))

    # ---- touching ---------------------------------------------------------------------------------------------

    def widget(self, key: str) -> Any:
        """The widget the accessible controller knows as ``key`` (its ``focus_key``), current screen first."""
        from devtools.touch import widget_by_key

        try:
            return widget_by_key(self.app, key)
        except LookupError:
            raise AppError(
                f"{self.kiosk.kiosk_id} {self.tag}: nothing on the {self.phase().value} screen for {key!r}"
            ) from None

    def touch(self, key: str) -> Iterator[None]:
        """Touch the widget ``key`` with a finger (scrolled into view first if it is not visible)."""
        from devtools.touch import is_visible, scroll_into_view, steady

        w = self.widget(key)
        yield from steady(w)
        if not is_visible(w) and scroll_into_view(w):
            yield from steady(w)
            yield
        yield from self.press(w, repr(key), reachable=is_visible(w))

    def press(self, w: Any, what: str, *, reachable: bool = True) -> Iterator[None]:
        """A finger on ``w``. The touch must reach that widget: if it did not (a layout still moving, a ScrollView
        that took the touch for the start of a scroll), the voter touches again; after a second miss the button
        is pressed by its widget (``on_release``, exactly what the touch would do) and the miss is counted."""
        from devtools.touch import steady, tap

        for attempt in range(3) if reachable else (2,):
            if attempt == 2:
                self.missed += 1
                log.info("%s: a touch on %s did not reach it; pressing the button by its widget", self.tag, what)
            # A ScrollView holds a touch back to tell a tap from a scroll and replays it (release ~0.2 s later).
            reached = yield from tap(w, TAP_WAIT_S, by_widget=attempt == 2)
            if reached:
                if 0 < attempt < 2:
                    self.retried += 1
                yield from self.settle(f"the kiosk after touching {what}")
                return
            yield from steady(w)
        raise AppError(f"{self.kiosk.kiosk_id} {self.tag}: {what} on {self.phase().value} could not be pressed")

    def touch_text(self, text: str) -> Iterator[None]:
        from devtools.touch import find_text, steady

        w = find_text(self.app, text)
        yield from steady(w)
        yield from self.press(w, repr(text))

    def key(self, name: str) -> None:
        """One key of the accessible controller (a USB device that presents itself as a keyboard)."""
        from kivy.core.window import Window

        code = Window._system_keyboard.string_to_keycode(name)
        Window.dispatch("on_key_down", code, 0, None, [])
        Window.dispatch("on_key_up", code, 0)

    def select(self, key: str) -> Iterator[None]:
        """Controller: move the focus (down/up) to the item ``key`` and select it."""
        from kiosk.accessibility import input as access_input

        shell = self.kiosk.shell
        if not self.state.settings.audio:
            self.key("down")  # the first key press turns the audio ballot on (and does nothing else)
            yield from self.settle("the audio ballot")
        for _ in range(80):
            if shell.focused_key == key:
                self.key("enter")
                yield from self.settle(f"the kiosk after selecting {key!r}")
                return
            keys = [item.key for item in access_input.screen_items(self.state, shell.ctx)]
            if key not in keys:
                raise AppError(f"{self.kiosk.kiosk_id} {self.tag}: no item {key!r} on {self.phase().value}: {keys}")
            here = keys.index(shell.focused_key) if shell.focused_key in keys else -1
            self.key("down" if keys.index(key) > here else "up")
            self.kiosk.player.drain()
        raise AppError(f"{self.kiosk.kiosk_id} {self.tag}: the controller could not reach {key!r}")

    def do(self, voter: Voter, key: str) -> Iterator[None]:
        """The voter's way of choosing the item ``key``: the controller, or a touch."""
        if voter.controller or self.kiosk.shell.privacy:
            # The accessible controller; an assisted voter's screen is blanked (privacy), so they use it too.
            yield from self.select(key)
        else:
            yield from self.touch(key)

    # ---- the card ------------------------------------------------------------------------------------------

    def until(self, condition: Callable[[], bool], what: str) -> Iterator[None]:
        deadline = time.monotonic() + STEP_TIMEOUT_S
        while not condition():
            if time.monotonic() > deadline:
                raise AppError(
                    f"{self.kiosk.kiosk_id} {self.tag}: timed out waiting for {what} on {self.phase().value}"
                )
            yield

    def insert(self, card: Any) -> Iterator[None]:
        """The card goes into the reader (``insert`` returns once pcscd reports it); the kiosk's card monitor
        sees it and the session starts."""
        self.kiosk.harness.insert(card)
        yield from self.until(lambda: bool(self.state.card_present), "the kiosk to notice the card")
        yield from self.settle("the card to be read")

    def remove(self) -> Iterator[None]:
        self.kiosk.harness.remove()
        yield from self.until(lambda: not self.state.card_present, "the kiosk to notice the card removed")
        yield from self.settle("the kiosk to reset")

    def type_pin(self, voter: Voter | None, pin: str) -> Iterator[None]:
        for n, d in enumerate(pin):
            if voter is not None and voter.controller:
                yield from self.select(f"pin.{d}")
            elif n == 0:
                yield from self.touch(f"pin.{d}")
            else:  # the keypad stays where it is while the voter types
                yield from self.press(self.widget(f"pin.{d}"), f"pin.{d}")
        if voter is not None:
            yield from self.do(voter, "pin.ok")
        else:
            yield from self.touch("pin.ok")

    def assist(self) -> Iterator[None]:
        """A poll worker signs in with their card and PIN and starts assisted voting for the next voter."""
        kiosk = self.kiosk
        yield from self.insert(kiosk.card_of("staff-pw-1"))
        self.expect(Phase.PIN_ENTRY)
        yield from self.type_pin(None, "1234")
        self.expect(Phase.STAFF_MENU)
        lang = self.state.settings.language
        yield from self.touch_text(self.app.services.catalogue.text("staff.assisted_voting", lang))
        self.expect(Phase.STAFF_REPORT)
        from devtools.touch import current_screen, steady

        back = current_screen(self.app).ids.back
        yield from steady(back)
        yield from self.press(back, "back to the staff menu")
        yield from self.remove()

    # ---- a voter --------------------------------------------------------------------------------------------

    def mark(self, voter: Voter, choices: dict[str, list[str]]) -> Iterator[None]:
        """Mark ``choices`` on every contest of the ballot (unmarking what is there), then go to the review."""
        from kiosk.session import ballot as rules

        self.expect(Phase.BALLOT)
        contests = rules.contests_for(self.kiosk.manifest, self.state.ticket.style)
        for contest in contests:
            wanted = [CandidateId(c) for c in choices.get(contest.id, [])]
            for old in self.state.selected(ContestId(contest.id)):
                if old not in wanted:
                    yield from self.do(voter, f"candidate.{old}")
            for new in wanted:
                if new not in self.state.selected(ContestId(contest.id)):
                    yield from self.do(voter, f"candidate.{new}")
            yield from self.shot("ballot")
            yield from self.do(voter, "next")  # the last contest's "next" is "review my choices"
        self.expect(Phase.REVIEW)
        yield from self.shot("review")
        # A blank ballot's one confirmation ("Yes, cast a blank ballot") seals it, as "continue" does for the others.
        yield from self.do(voter, "blank.yes" if not any(choices.values()) else "seal")
        if self.phase() is Phase.CAST_OR_CHALLENGE:  # otherwise the kiosk said why not (e.g. a full disk)
            yield from self.shot("cast-or-challenge")

    def vote(self, voter: Voter, result: dict[str, Any], before_cast: Callable[[], None] | None) -> Iterator[None]:
        started = time.monotonic()
        kiosk = self.kiosk
        self.tag = voter.id
        self.shot_no = 0
        result.update(voter=voter.id, kiosk=kiosk.kiosk_id, ui="kivy")
        heard_before = len(kiosk.player.started)
        missed_before = self.missed
        retried_before = self.retried
        if voter.assisted:
            yield from self.assist()
        self.expect(Phase.ATTRACT)
        yield from self.insert(kiosk.card_for(voter))
        yield from self.shot("pin")
        tries: list[int] = []
        for pin in voter.pins:
            if self.phase() is not Phase.PIN_ENTRY:
                break
            yield from self.type_pin(voter, pin)
            if self.state.pin_wrong:
                tries.append(self.state.pin_tries_left or 0)
        result["pin_tries_left_after_wrong_pins"] = tries
        if self.phase() is Phase.PROVISIONAL:
            result["provisional_offered"] = True
            yield from self.shot("provisional")
            yield from self.do(voter, "continue")
        if self.phase() is Phase.REMOTE_VOTE:  # the office said this voter voted over the internet: voting here
            result["remote_vote_replaced"] = True  # replaces it (the voted mark voids the credential): go on
            yield from self.shot("remote-vote")
            yield from self.do(voter, "continue")
        if self.phase() is Phase.ACCESSIBILITY:
            if voter.language == "en":
                yield from self.do(voter, "language.en")
            if voter.audio and not self.state.settings.audio:
                yield from self.do(voter, "audio")
            yield from self.shot("accessibility")
            yield from self.do(voter, "continue")
        if self.phase() is Phase.BALLOT:
            result["audio"] = self.state.settings.audio
            if voter.challenge is not None:
                yield from self.mark(voter, voter.challenge)
                if self.phase() is Phase.CAST_OR_CHALLENGE:
                    yield from self.do(voter, "challenge")
                yield from self.shot("challenge-result")
                report = self.state.challenge
                result["challenge"] = {
                    "verified": bool(report and report.verified),
                    "decrypted_matches": bool(
                        report and all(tuple(report.decrypted.get(c, ())) == tuple(v)
                                       for c, v in voter.challenge.items())
                    ),
                    "code": report.code if report else None,
                }  # fmt: skip
                if self.phase() is Phase.CHALLENGE_RESULT:
                    yield from self.do(voter, "continue")
            if self.phase() is Phase.BALLOT:
                yield from self.mark(voter, voter.choices)
            if self.phase() is Phase.CAST_OR_CHALLENGE:
                if before_cast is not None:
                    before_cast()
                yield from self.do(voter, "cast")
        state = self.state
        if state.phase is Phase.CONFIRMATION and state.receipt is not None:
            result["outcome"] = "provisional" if result.get("provisional_offered") else "cast"
            result["code"] = state.receipt.code
            yield from self.shot("confirmation")
        else:
            result["outcome"] = "refused"
            result["failure"] = state.failure.value if state.failure else f"stopped on {state.phase.value}"
            yield from self.shot("notice")
        result["touches_missed"] = self.missed - missed_before
        result["touches_retried"] = self.retried - retried_before
        heard = kiosk.player.started[heard_before:]
        result["clips_heard"] = len(heard)
        result["clips_missing"] = sorted({str(p.path) for p in heard if not p.path.is_file()})
        yield from self.remove()
        if self.phase() is not Phase.ATTRACT:
            result["left_on"] = self.phase().value
        result["seconds"] = round(time.monotonic() - started, 3)

    def pcscd_gone(self, voter: Voter, seen: dict[str, Any]) -> Iterator[None]:
        """Fault: pcscd dies while the voter is at the PIN screen. The kiosk's card monitor loses the daemon, the
        session ends and the kiosk says the card reader has a problem (what does it tell the voter and staff?);
        the voter takes the card out, staff restart the service, the monitor finds the reader again."""
        kiosk = self.kiosk
        self.tag = voter.id
        self.expect(Phase.ATTRACT)
        yield from self.insert(kiosk.card_for(voter))
        self.expect(Phase.PIN_ENTRY)
        kiosk.harness.kill_pcscd()
        yield from self.until(lambda: not self.state.reader_ok, "the kiosk to notice the card reader is gone")
        yield from self.settle("the kiosk to end the session")
        state = self.state
        failure = state.failure.value if state.failure else ("reader_problem" if not state.reader_ok else None)
        seen.update(voter=voter.id, kiosk=kiosk.kiosk_id, outcome="refused", fault="pcscd_killed",
                    phase=state.phase.value, failure=failure)  # fmt: skip
        link = kiosk.harness.links.pop(0, None)
        if link is not None:
            link.remove()  # the voter takes the card out (nothing can see it: pcscd is down)
        kiosk.harness.start_pcscd()
        log.warning("card reader service restarted after it died (staff: check the reader if this repeats)")
        yield from self.until(lambda: bool(self.state.reader_ok), "the kiosk to find the card reader again")
        yield from self.settle("the kiosk to be ready")
