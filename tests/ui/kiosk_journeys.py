"""Voter journeys through the real Kivy app, offscreen, by touching what is on the screen.

Run by tests/ui/test_kiosk_ui.py in its own process (Kivy's global state must not leak into other
tests): ``python -m tests.ui.kiosk_journeys RESULTS.json [scenario ...]``. Each scenario records what
the voter saw and what the kiosk recorded; the pytest side asserts on that record.
"""

from __future__ import annotations

import json
import sys
import time
import traceback
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from devtools.kiosk_worlds import demo_world, virtual_world  # noqa: E402
from run_kiosk import configure_kivy  # noqa: E402

configure_kivy(offscreen=True)

from devtools.touch import find_text, press, run_script, scroll_into_view, tap, visible_texts  # noqa: E402
from election.manifest import Language  # noqa: E402
from kiosk.session import SessionConfig  # noqa: E402
from kiosk.session.model import Phase  # noqa: E402
from kiosk.session.voter_state import SessionState  # noqa: E402
from kiosk.ui.app import KioskApp  # noqa: E402
from kiosk.ui_text import Catalogue, plain  # noqa: E402


def _shown(app: Any, text: str) -> bool:
    try:
        find_text(app, text)
    except LookupError:
        return False
    return True


class Journey:
    """Helpers a scenario uses: touch texts, wait for the kiosk, read the screen."""

    def __init__(self, app: KioskApp, world: Any) -> None:
        self.app = app
        self.world = world
        self.cat: Catalogue = world.services.catalogue
        self.shell: Any = None

    def send_continue(self) -> None:
        from kiosk.session import events as ev

        self.app.send(ev.Continue())

    @property
    def state(self) -> SessionState:
        assert self.app.driver is not None
        return self.app.driver.state

    @property
    def phase(self) -> Phase:
        return self.state.phase

    @property
    def lang(self) -> Language:
        assert self.app.driver is not None
        return self.app.driver.state.settings.language

    def t(self, key: str, **values: object) -> str:
        text: str = self.cat.text(key, self.lang, **values)
        return text

    def until(self, predicate: Callable[[], bool], what: str, timeout: float = 10.0) -> Iterator[None]:
        deadline = time.monotonic() + timeout
        while not predicate():
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"timed out waiting for {what}; phase {self.phase}; {visible_texts(self.app)[:12]}"
                )
            yield

    def at(self, phase: Phase) -> Iterator[None]:
        yield from self.until(lambda: self.phase is phase, f"phase {phase.value}")
        yield  # one more frame so the screen is drawn

    def touch(self, text: str) -> Iterator[None]:
        """Touch the widget showing ``text`` once it is on screen (a screen just entered may need a few frames
        to be laid out on a loaded machine, as a person would wait to see it). A button that the touch did not
        reach is touched again, as a person would: while the screen manager's transition still runs (slow on
        a loaded machine) it drops touches, and a ScrollView replays a tap only after ~0.25 s."""
        for _attempt in range(3):
            yield from self.scroll_to(text)
            yield from self.until(lambda: _shown(self.app, text), f"{text!r} on screen")
            if (yield from tap(find_text(self.app, text), wait_s=1.0)):
                return
        raise AssertionError(f"three touches on {text!r} did not reach it; phase {self.phase}")

    def scroll_to(self, text: str) -> Iterator[None]:
        """A voter scrolls a page to what they look for when it is below (or above) what is shown."""
        from devtools.touch import current_screen, walk

        if _shown(self.app, text):
            return
        for widget in walk(current_screen(self.app)):
            if getattr(widget, "text", None) != text:
                continue
            if scroll_into_view(widget):
                yield
                yield
            return

    def type_pin(self, digits: str) -> Iterator[None]:
        for d in digits:
            yield from self.touch(d)
        yield from self.touch(self.t("kiosk.pin.ok"))

    def sees(self, text: str) -> bool:
        """``text`` is on screen as a whole label (bidi isolates aside: a voter does not see them)."""
        return plain(text) in [plain(t) for t in visible_texts(self.app)]

    def candidate_names(self) -> list[str]:
        contest = self.contest()
        return [c.name.in_language(self.lang) for c in contest.active_candidates]

    def contest(self) -> Any:
        assert self.app.driver is not None
        ticket = self.app.driver.state.ticket
        assert ticket is not None
        return self.world.services.manifest.contests_of_style(ticket.style)[0]

    def to_ballot(self, pin: str = "1234") -> Iterator[None]:
        """A voter of the two-seat contest (the demo roll interleaves wilayats) gets to the ballot."""
        deck, roll = self.world.deck, self.world.poll_book.roll
        two_seats = next(c for c in self.world.services.manifest.contests if c.seats == 2).wilayat
        while roll[deck.voters[deck.position % len(deck.voters)].civil_number] != two_seats:
            deck.position += 1
        deck.insert_next_voter()
        yield from self.at(Phase.PIN_ENTRY)
        yield from self.type_pin(pin)
        yield from self.at(Phase.ACCESSIBILITY)
        yield from self.touch(self.t("nav.next"))
        yield from self.at(Phase.BALLOT)

    def remove_card(self) -> Iterator[None]:
        self.world.deck.remove()
        yield from self.until(lambda: self.phase in (Phase.ATTRACT, Phase.CLOSED), "the idle screen")
        yield


# ---- scenarios: each fills ``r`` (a dict) with observations ---------------------------------------------


def cast(j: Journey, r: dict[str, Any]) -> Iterator[None]:
    yield from j.to_ballot()
    names = j.candidate_names()
    r["ballot_shows_all_candidates"] = all(j.sees(n) for n in names[:2])
    yield from j.touch(names[0])
    yield from j.touch(names[1])
    r["count_text"] = j.sees(j.t("ballot.selected_count", count=2, seats=2))
    yield from j.touch(j.t("kiosk.ballot.review"))
    yield from j.at(Phase.REVIEW)
    r["review_lists_choices"] = all(any(n in text for text in visible_texts(j.app)) for n in names[:2])
    yield from j.touch(j.t("kiosk.review.seal"))
    yield from j.at(Phase.CAST_OR_CHALLENGE)
    yield from j.touch(j.t("cast.button"))
    yield from j.at(Phase.CONFIRMATION)
    receipt = j.state.receipt
    r["code_on_screen"] = receipt is not None and j.sees(receipt.code)
    r["qr_shown"] = j.app.root.ids.sm.current_screen.ids.qr.texture is not None
    r["remove_card_asked"] = j.sees(j.t("card.remove"))
    r["cast_count"] = j.world.ballots.cast_count
    yield from j.remove_card()
    r["thanks_after"] = j.sees(j.cat.text("goodbye.thanks", Language.ARABIC))
    r["secrets_after"] = [n for n in names if j.sees(n)]


def challenge(j: Journey, r: dict[str, Any]) -> Iterator[None]:
    yield from j.to_ballot()
    names = j.candidate_names()
    yield from j.touch(names[2])
    yield from j.touch(j.t("kiosk.ballot.review"))
    yield from j.at(Phase.REVIEW)
    yield from j.touch(j.t("kiosk.review.seal"))
    yield from j.at(Phase.CAST_OR_CHALLENGE)
    spoiled_before = j.world.ballots.spoiled_count
    yield from j.touch(j.t("challenge.button"))
    yield from j.at(Phase.CHALLENGE_RESULT)
    r["verified_shown"] = j.sees(j.t("kiosk.challenge.verified"))
    from devtools.touch import current_screen
    from kiosk.ui.screens.widgets import Panel

    panels = [w for w in current_screen(j.app).walk(restrict=True) if isinstance(w, Panel) and not w.collapsed]
    r["verdict_panel_kinds"] = [p.kind for p in panels]
    r["decrypted_choice_shown"] = any(names[2] in text for text in visible_texts(j.app))
    r["spoiled"] = j.world.ballots.spoiled_count - spoiled_before
    cast_before = j.world.ballots.cast_count
    yield from j.touch(j.t("challenge.vote_again"))
    yield from j.at(Phase.BALLOT)
    r["ballot_empty_again"] = j.state.selected(j.contest().id) == ()
    r["marks_shown_after"] = [card.chosen for card in _cards(j)]
    yield from j.touch(names[1])
    yield from j.touch(j.t("kiosk.ballot.review"))
    yield from j.at(Phase.REVIEW)
    yield from j.touch(j.t("kiosk.review.seal"))
    yield from j.at(Phase.CAST_OR_CHALLENGE)
    yield from j.touch(j.t("cast.button"))
    yield from j.at(Phase.CONFIRMATION)
    r["cast_after_challenge"] = j.world.ballots.cast_count - cast_before
    yield from j.remove_card()


def wrong_pin(j: Journey, r: dict[str, Any]) -> Iterator[None]:
    j.world.deck.insert_next_voter()
    yield from j.at(Phase.PIN_ENTRY)
    r["tries_shown"] = j.sees(j.t("kiosk.pin.tries_left", tries=3))
    yield from j.type_pin("9999")
    yield from j.at(Phase.PIN_ENTRY)
    r["wrong_shown"] = j.sees(j.t("pin.wrong", tries=2))
    yield from j.type_pin("9999")
    yield from j.at(Phase.PIN_ENTRY)
    r["last_try_warned"] = any(j.t("pin.last_try") in text for text in visible_texts(j.app))
    yield from j.type_pin("9999")
    yield from j.at(Phase.NOTICE)
    r["blocked_shown"] = j.sees(j.t("pin.blocked"))
    yield from j.remove_card()


def already_voted(j: Journey, r: dict[str, Any]) -> Iterator[None]:
    yield from j.to_ballot()
    yield from j.touch(j.candidate_names()[0])
    yield from j.touch(j.t("kiosk.ballot.review"))
    yield from j.at(Phase.REVIEW)
    yield from j.touch(j.t("kiosk.review.seal"))
    yield from j.at(Phase.CAST_OR_CHALLENGE)
    yield from j.touch(j.t("cast.button"))
    yield from j.at(Phase.CONFIRMATION)
    yield from j.remove_card()
    j.world.deck.position -= 1  # the same voter comes back
    j.world.deck.insert_next_voter()
    yield from j.at(Phase.PIN_ENTRY)
    yield from j.type_pin("1234")
    yield from j.at(Phase.NOTICE)
    r["message_shown"] = j.sees(j.t("kiosk.error.already_voted"))
    r["english_too"] = "staff" in j.cat.text("kiosk.error.already_voted", Language.ENGLISH)
    yield from j.touch(j.app.root.ids.language.text)  # switch language on the notice
    yield
    r["message_in_english"] = j.sees(j.cat.text("kiosk.error.already_voted", Language.ENGLISH))
    r["voted_once"] = len(j.world.poll_book.voted) == j.world.ballots.cast_count
    yield from j.remove_card()


def card_pulled(j: Journey, r: dict[str, Any]) -> Iterator[None]:
    """Pull the card on every screen of the journey; nothing may be recorded."""
    pulled = []
    cast_before = j.world.ballots.cast_count

    def at_pin() -> Iterator[None]:
        j.world.deck.insert_next_voter()
        yield from j.at(Phase.PIN_ENTRY)
        yield from j.touch("1")

    def at_accessibility() -> Iterator[None]:
        j.world.deck.insert_next_voter()
        yield from j.at(Phase.PIN_ENTRY)
        yield from j.type_pin("1234")
        yield from j.at(Phase.ACCESSIBILITY)

    def at_ballot() -> Iterator[None]:
        yield from j.to_ballot()
        yield from j.touch(j.candidate_names()[0])

    def at_review() -> Iterator[None]:
        yield from at_ballot()
        yield from j.touch(j.t("kiosk.ballot.review"))
        yield from j.at(Phase.REVIEW)

    def at_cast_or_challenge() -> Iterator[None]:
        yield from at_review()
        yield from j.touch(j.t("kiosk.review.seal"))
        yield from j.at(Phase.CAST_OR_CHALLENGE)

    def at_challenge_result() -> Iterator[None]:
        yield from at_cast_or_challenge()
        yield from j.touch(j.t("challenge.button"))
        yield from j.at(Phase.CHALLENGE_RESULT)

    steps = [
        ("pin", at_pin),
        ("accessibility", at_accessibility),
        ("ballot", at_ballot),
        ("review", at_review),
        ("cast_or_challenge", at_cast_or_challenge),
        ("challenge_result", at_challenge_result),
    ]
    for name, reach in steps:
        yield from reach()
        yield from j.remove_card()
        ok = j.sees(j.cat.text("kiosk.error.card_removed", Language.ARABIC))
        pulled.append({"step": name, "notice": ok, "phase": j.phase.value})
    r["pulled"] = pulled
    r["cast_during"] = j.world.ballots.cast_count - cast_before
    r["checked_in_left"] = len(j.world.poll_book.checked_in)


def timeout(j: Journey, r: dict[str, Any]) -> Iterator[None]:
    yield from j.to_ballot()
    yield from j.until(lambda: j.state.warning, "the inactivity warning", timeout=25)
    yield
    first = _warning_seconds(j)
    r["warning_shown"] = first is not None and j.sees(j.t("session.inactivity_warning", seconds=first))
    # The seconds shown, read until the number has gone down (a frame can take seconds on a loaded machine).
    seen = [first]
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and j.state.warning and len(seen) < 2:
        now = _warning_seconds(j)
        if now is not None and now != seen[-1]:
            seen.append(now)
        yield
    r["counted_down"] = seen
    yield from j.touch(j.t("session.still_here"))
    yield from j.until(lambda: not j.state.warning, "the warning to close", timeout=5)
    r["warning_dismissed"] = j.phase is Phase.BALLOT
    yield from j.until(lambda: j.state.warning, "the second warning", timeout=25)
    yield from j.until(lambda: j.phase is Phase.NOTICE, "the timeout", timeout=60)
    yield
    r["timeout_shown"] = j.sees(j.t("kiosk.error.timed_out"))
    r["selections_wiped"] = j.state.selections == {}
    yield from j.remove_card()


def scroll_reset(j: Journey, r: dict[str, Any]) -> Iterator[None]:
    """A voter scrolls the ballot down and leaves; the next voter of the same ballot sees it from its top, with no
    mark of the last voter's."""
    from devtools.touch import current_screen

    yield from j.to_ballot()
    yield from j.touch(j.candidate_names()[-1])
    scroll = current_screen(j.app).ids.scroll
    scroll.scroll_y = 0
    yield
    yield
    r["scrolled_to"] = scroll.scroll_y
    yield from j.remove_card()
    yield from j.to_ballot()
    yield
    r["next_voter_scroll_y"] = current_screen(j.app).ids.scroll.scroll_y
    r["marks_left"] = [card.chosen for card in _cards(j)]
    yield from j.remove_card()


def _cards(j: Journey) -> list[Any]:
    from devtools.touch import current_screen

    return list(current_screen(j.app)._cards.values())


def _warning_seconds(j: Journey) -> int | None:
    """The seconds the inactivity warning says are left (read from the screen)."""
    import re

    text = plain(j.app.root.ids.warning_text.text)
    found = re.search(r"\d+", text)
    return int(found.group()) if found and j.state.warning else None


def _latin_outside_isolates(text: str) -> bool:
    """Latin letters in ``text`` other than inside an isolated token (an id, a code)."""
    import re

    return bool(re.search(r"[A-Za-z]", re.sub("[\u2066\u2067\u2068][^\u2069]*\u2069", "", text)))


def staff_screens(j: Journey, r: dict[str, Any]) -> Iterator[None]:
    """A committee member's staff card: the status in Arabic and Oman's time with the counts; closing the polls asks
    first; reopening needs the administrator's card, and is audited."""
    import datetime as dt
    import re
    from zoneinfo import ZoneInfo

    from devtools.touch import current_screen

    j.world.deck.insert_staff()
    yield from j.at(Phase.PIN_ENTRY)
    yield from j.type_pin("1234")
    yield from j.at(Phase.STAFF_MENU)
    texts = [t for t in visible_texts(j.app) if t]
    screen_texts = [w.text for w in _texts_of(current_screen(j.app))]
    r["latin_on_arabic_staff_screen"] = [t for t in screen_texts if _latin_outside_isolates(t)]
    r["ballots_line"] = j.sees(j.t("kiosk.staff.ballots_cast", count=j.world.ballots.cast_count))
    checkins = sum(1 for kind, _ in j.world.audit.entries if kind == "checked_in")
    r["checkins_line"] = j.sees(j.t("kiosk.staff.check_ins", count=checkins))
    clock = next((plain(t) for t in texts if plain(t).startswith(plain(j.t("kiosk.staff.clock", time="")))), "")
    found = re.search(r"(\d{4}-\d\d-\d\d \d\d:\d\d)", clock)
    muscat = ZoneInfo("Asia/Muscat")
    shown = dt.datetime.strptime(found.group(1), "%Y-%m-%d %H:%M").replace(tzinfo=muscat) if found else None
    now = dt.datetime.now(dt.UTC)
    r["clock_minutes_off"] = abs((now - shown).total_seconds()) / 60 if shown else None
    yield from j.touch(j.t("staff.close_polls"))
    r["asks_confirmation"] = j.sees(j.t("kiosk.staff.close_confirm")) and j.state.kiosk.polls_open
    yield from j.touch(j.t("nav.cancel"))
    r["cancel_keeps_open"] = j.state.kiosk.polls_open and not j.sees(j.t("kiosk.staff.close_confirm"))
    yield from j.touch(j.t("staff.close_polls"))
    yield from j.touch(j.t("kiosk.staff.close_yes"))
    yield from j.at(Phase.STAFF_REPORT)
    r["closed"] = j.state.kiosk.polls_closed and j.sees(j.t("kiosk.staff.close_report"))
    yield from j.touch(j.t("nav.back"))
    yield from j.at(Phase.STAFF_MENU)
    r["reopen_offered"] = j.sees(j.t("kiosk.staff.reopen")) and not j.sees(j.t("staff.open_polls"))
    yield from j.touch(j.t("kiosk.staff.reopen"))
    yield from j.at(Phase.STAFF_REPORT)
    r["member_refused"] = (not j.state.staff_ok) and j.state.kiosk.polls_closed and j.sees(j.t("kiosk.staff.refused"))
    yield from j.touch(j.t("nav.back"))
    yield from j.remove_card()
    r["closed_to_voters"] = j.phase is Phase.CLOSED
    j.world.deck.insert_admin()
    yield from j.at(Phase.PIN_ENTRY)
    yield from j.type_pin("1234")
    yield from j.at(Phase.STAFF_MENU)
    yield from j.touch(j.t("kiosk.staff.reopen"))
    yield from j.at(Phase.STAFF_REPORT)
    r["admin_reopened"] = j.state.staff_ok and j.state.kiosk.polls_open and j.sees(j.t("kiosk.staff.reopened"))
    r["audit"] = [detail for kind, detail in j.world.audit.entries if kind == "staff_action"]
    yield from j.touch(j.t("nav.back"))
    yield from j.remove_card()
    r["open_again"] = j.phase is Phase.ATTRACT


def _texts_of(root: Any) -> list[Any]:
    from devtools.touch import is_visible, walk

    return [w for w in walk(root) if isinstance(getattr(w, "text", None), str) and w.text and is_visible(w)]


def assisted_demo(j: Journey, r: dict[str, Any]) -> Iterator[None]:
    """``make kiosk``'s demo kiosk (the same attach as run_kiosk --demo): a poll worker starts assisted voting,
    and the next voter's ballot is hidden from whoever stands beside them; the voter goes on by the controller."""
    from kivy.core.window import Window

    from kiosk.accessibility.input import Key

    shell = j.shell
    j.world.deck.insert_staff()
    yield from j.at(Phase.PIN_ENTRY)
    yield from j.type_pin("1234")
    yield from j.at(Phase.STAFF_MENU)
    yield from j.touch(j.t("staff.assisted_voting"))
    yield from j.at(Phase.STAFF_REPORT)
    yield from j.touch(j.t("nav.back"))
    yield from j.at(Phase.STAFF_MENU)
    yield from j.remove_card()
    j.world.deck.insert_next_voter()
    yield from j.at(Phase.PIN_ENTRY)
    yield from j.type_pin("1234")
    yield from j.at(Phase.ACCESSIBILITY)
    r["audio_on"] = j.state.settings.audio
    r["privacy_on"] = shell.privacy
    r["private_note"] = j.sees(j.t("assist.private"))  # said only where the privacy layer makes it true
    shell.on_key(Key.SELECT)  # any key: the controller works on the blank screen
    j.send_continue()
    yield from j.at(Phase.BALLOT)
    top = Window.children[0]
    r["blank_on_top"] = top is not j.app.root and list(top.size) == list(Window.size) and top.opacity == 1
    name = j.candidate_names()[0]
    press(find_text(j.app, name))  # a helper's touch on the hidden ballot does nothing
    yield
    yield
    r["touch_through_blank_selected"] = bool(j.state.selected(j.contest().id))
    shell.on_key(Key.DOWN)
    yield
    r["controller_focus"] = shell.focused_key
    shell.on_key(Key.SELECT)
    yield
    r["controller_selected"] = len(j.state.selected(j.contest().id))
    yield from j.remove_card()
    r["privacy_after"] = shell.privacy
    r["audit"] = [kind for kind, _ in j.world.audit.entries]


def language_and_layout(j: Journey, r: dict[str, Any]) -> Iterator[None]:
    yield from j.to_ballot()
    name_ar = j.candidate_names()[0]
    card = find_text(j.app, name_ar)
    r["arabic_right_aligned"] = card.halign == "right"
    photo_x_ar = _photo_x(card)
    yield from j.touch(j.app.root.ids.language.text)
    yield from j.at(Phase.BALLOT)
    name_en = j.candidate_names()[0]
    card = find_text(j.app, name_en)
    r["english_left_aligned"] = card.halign == "left"
    r["photo_moves_sides"] = _photo_x(card) < card.to_window(*card.pos)[0] < photo_x_ar
    r["still_on_ballot"] = j.phase is Phase.BALLOT
    yield from j.remove_card()
    r["language_reset"] = j.lang is Language.ARABIC


def _photo_x(label: Any) -> float:
    from kivy.uix.image import Image

    node = label
    while node is not None and not hasattr(node, "chosen"):
        node = node.parent
    photo = next(w for w in node.children if isinstance(w, Image))
    return float(photo.to_window(*photo.pos)[0])


def overvote(j: Journey, r: dict[str, Any]) -> Iterator[None]:
    yield from j.to_ballot()
    names = j.candidate_names()
    for n in names[:3]:
        yield from j.touch(n)
    r["explained"] = j.sees(j.t("ballot.overvote", seats=2))
    r["selected"] = len(j.state.selected(j.contest().id))
    yield from j.touch(j.t("kiosk.ballot.ok"))
    r["dismissed"] = not j.sees(j.t("ballot.overvote", seats=2))
    yield from j.remove_card()


SCENARIOS: dict[str, Callable[[Journey, dict[str, Any]], Iterator[None]]] = {
    f.__name__: f
    for f in (
        cast,
        challenge,
        wrong_pin,
        already_voted,
        card_pulled,
        timeout,
        language_and_layout,
        overvote,
        assisted_demo,
        staff_screens,
        scroll_reset,
    )
}


def main(argv: list[str]) -> int:
    virtual = "--virtual-card" in argv
    demo_layer = "--demo-layer" in argv
    argv = [a for a in argv if a not in ("--virtual-card", "--demo-layer")]
    out = Path(argv[0])
    names = argv[1:] or [n for n in SCENARIOS if n not in ("timeout", "assisted_demo", "staff_screens", "scroll_reset")]
    if "timeout" in names and names != ["timeout"]:
        raise SystemExit("the timeout scenario runs in a process of its own (it shortens the timers)")
    results: dict[str, Any] = {}
    if virtual:
        import tempfile

        workdir = Path(tempfile.mkdtemp(prefix="sanduq-ui-"))
        world = virtual_world(workdir)
    else:
        world = demo_world()
    if names == ["timeout"]:  # short timers, in a process of its own
        world.services.config = SessionConfig(world.services.manifest, inactivity_warning_s=8.0, inactivity_end_s=30.0)
    app = KioskApp(world.services, show_demo_panel=False)
    j = Journey(app, world)
    if demo_layer:  # the accessibility layer exactly as run_kiosk --demo attaches it (no speech: no sound needed)
        import tempfile

        from devtools.kiosk_worlds import attach_demo_accessibility

        j.shell = attach_demo_accessibility(app, world, Path(tempfile.mkdtemp(prefix="sanduq-ui-audio-")), speech=False)

    def script() -> Iterator[None]:
        yield from j.until(lambda: app.ready, "start-up")
        for name in names:
            record: dict[str, Any] = {"card_port": type(world.services.card).__name__}
            results[name] = record
            try:
                yield from SCENARIOS[name](j, record)
            except Exception as exc:
                record["error"] = "".join(traceback.format_exception(exc))
                world.deck.remove()
                yield from j.until(lambda: j.phase in (Phase.ATTRACT, Phase.CLOSED), "recovery")

    try:
        errors = run_script(app, script())
    finally:
        if virtual:
            world.card_events.stop()
            world.deck.harness.stop()
    if errors:
        results["_errors"] = ["".join(traceback.format_exception(e)) for e in errors]
    out.write_text(json.dumps(results, indent=2, default=str))
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1:]))
    except Exception:
        traceback.print_exc(file=sys.__stderr__)  # Kivy has replaced sys.stderr with its silenced logger
        sys.exit(1)
