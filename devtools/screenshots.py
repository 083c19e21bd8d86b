"""Regenerate the kiosk screenshots: every screen, in Arabic and in English.

    python -m devtools.screenshots [--out docs/screenshots/kiosk]

Runs the real app offscreen over the demo election and the fake card, walks a voter through every
screen (and a staff member through theirs), and writes ``<lang>_<nn>_<screen>.png``. Each language runs
in its own process so Kivy's global state starts clean.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import traceback
from collections.abc import Iterator
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
DEFAULT_OUT = REPO / "docs" / "screenshots" / "kiosk"


def _script(app: Any, world: Any, worker: Any, out: Path, lang: str) -> Iterator[None]:
    from devtools.fakes import FakeCardSpec
    from devtools.touch import snapshot_png
    from election.manifest import Language
    from kiosk.session import events as ev
    from kiosk.session.model import TextSize, Theme

    language = Language(lang)
    counter = iter(range(1, 100))

    def shot(name: str) -> None:
        snapshot_png(str(out / f"{lang}_{next(counter):02d}_{name}.png"))

    def send(*events: ev.Event) -> None:
        for e in events:
            app.send(e)

    def voter(spec: FakeCardSpec | None = None) -> None:
        """A new voter walks up: the kiosk is back to its defaults, so they pick the language first."""
        send(ev.ChooseLanguage(language))
        if spec is None:
            world.deck.insert_next_voter()
        else:
            world.card_events.insert(spec)

    def pin(digits: str) -> None:
        send(*(ev.PinDigit(d) for d in digits))

    send(ev.ChooseLanguage(language))
    yield
    shot("attract")
    send(ev.PollsChanged(polls_open=False))
    yield
    shot("attract_polls_closed")
    send(ev.PollsChanged(polls_open=True))
    worker.auto = False
    voter()
    yield
    shot("busy_reading_card")
    worker.auto = True
    yield
    pin("12")
    yield
    shot("pin")
    pin("99")
    send(ev.PinSubmit())
    yield
    shot("pin_wrong")
    pin("1234")
    worker.auto = False
    send(ev.PinSubmit())
    yield
    shot("busy_authenticating")
    worker.auto = True
    yield
    shot("accessibility")
    send(ev.Continue())
    yield
    shot("ballot")
    contest = world.services.manifest.contests[0]
    ids = [c.id for c in contest.active_candidates]
    send(ev.ToggleCandidate(ids[1]))
    yield
    send(ev.GoToReview())
    yield
    shot("review_undervote")
    send(ev.BackToBallot(), ev.ToggleCandidate(ids[3]), ev.ToggleCandidate(ids[4]))
    yield
    shot("ballot_overvote")
    send(ev.DismissNotice())
    yield
    shot("ballot_two_chosen")
    send(ev.GoToReview())
    yield
    shot("review")
    send(ev.SealBallot())
    yield
    shot("cast_or_challenge")
    send(ev.Challenge())
    yield
    shot("challenge_result")
    send(ev.Continue())  # "vote again": an empty ballot
    yield
    shot("ballot_after_challenge")
    send(ev.ToggleCandidate(ids[1]), ev.ToggleCandidate(ids[3]), ev.GoToReview(), ev.SealBallot())
    yield
    send(ev.ChooseTextSize(TextSize.LARGEST))
    yield
    shot("cast_or_challenge_largest")
    send(ev.ChooseTextSize(TextSize.NORMAL), ev.Cast())
    yield
    shot("confirmation")
    send(ev.ChooseTextSize(TextSize.LARGEST))
    yield
    shot("confirmation_largest")
    world.deck.remove()
    yield
    send(ev.ChooseLanguage(language))
    yield
    shot("attract_thank_you")
    # the voter who just voted comes back
    voter(FakeCardSpec(world.deck.voters[0].civil_number, pin="1234"))
    yield
    pin("1234")
    send(ev.PinSubmit())
    yield
    shot("notice_already_voted")
    world.deck.remove()
    yield
    voter()
    yield
    pin("1234")
    send(ev.PinSubmit())
    yield
    send(ev.Continue())
    yield
    world.deck.remove()  # pulled in the middle of voting
    yield
    send(ev.ChooseLanguage(language))
    yield
    shot("attract_card_removed")
    # a voter of the wilayat whose contest has a withdrawn candidate: the ballot says who
    gone = next(c for c in world.services.manifest.contests if any(k.withdrawn for k in c.candidates))
    number = next(n for n, w in world.poll_book.roll.items() if w == gone.wilayat and n not in world.poll_book.voted)
    voter(FakeCardSpec(number, pin="1234"))
    yield
    pin("1234")
    send(ev.PinSubmit())
    yield
    send(ev.Continue())
    yield
    shot("ballot_withdrawn")
    send(ev.ChooseTextSize(TextSize.LARGEST))
    yield
    shot("ballot_withdrawn_largest")
    world.deck.remove()
    yield
    send(ev.ChooseLanguage(language))
    yield
    # a blank ballot, the inactivity warning and the timeout
    voter()
    yield
    pin("1234")
    send(ev.PinSubmit())
    yield
    send(ev.Continue(), ev.GoToReview())
    yield
    shot("review_blank")
    send(ev.ChooseTextSize(TextSize.LARGEST))
    yield
    shot("review_blank_largest")
    send(ev.ChooseTextSize(TextSize.NORMAL))
    yield
    send(ev.TimerExpired(app.driver.state.timer_token))
    yield
    shot("inactivity_warning")
    send(ev.TimerExpired(app.driver.state.timer_token))
    yield
    shot("notice_timed_out")
    world.deck.remove()
    yield
    # provisional: the central roll is unreachable
    world.poll_book.offline = True
    voter(FakeCardSpec("99999999", pin="1234", wilayat=contest.wilayat))
    yield
    pin("1234")
    send(ev.PinSubmit())
    yield
    shot("provisional")
    send(ev.Continue(), ev.ChooseTheme(Theme.HIGH_CONTRAST_DARK), ev.ChooseTextSize(TextSize.LARGEST))
    yield
    shot("accessibility_high_contrast_dark_largest")
    send(ev.Continue())
    yield
    shot("ballot_high_contrast_dark_largest")
    send(ev.ChooseTheme(Theme.HIGH_CONTRAST_LIGHT), ev.ChooseTextSize(TextSize.LARGE))
    yield
    shot("ballot_high_contrast_light_large")
    world.deck.remove()
    world.poll_book.offline = False
    yield
    send(ev.ChooseLanguage(language))
    world.deck.insert_staff()
    yield
    pin("1234")
    send(ev.PinSubmit())
    yield
    shot("staff")
    from devtools.touch import current_screen

    current_screen(app)._confirm(True)  # what "Close polls" shows first
    yield
    shot("staff_close_confirm")
    current_screen(app)._confirm(False)
    send(ev.StaffChoose(ev.StaffAction.STATUS))
    yield
    shot("staff_report_status")
    send(ev.Continue(), ev.StaffChoose(ev.StaffAction.CLOSE_POLLS))
    yield
    shot("staff_report_closed")
    send(ev.Continue())
    yield
    shot("staff_closed_reopen")
    send(ev.StaffChoose(ev.StaffAction.REOPEN_POLLS))
    yield
    shot("staff_reopen_refused")
    world.deck.remove()
    yield
    send(ev.ChooseLanguage(language))
    world.deck.insert_admin()
    yield
    pin("1234")
    send(ev.PinSubmit())
    yield
    send(ev.StaffChoose(ev.StaffAction.REOPEN_POLLS))
    yield
    send(ev.ChooseTextSize(TextSize.LARGEST))
    yield
    shot("staff_reopened_largest")
    world.deck.remove()
    yield


def render_language(lang: str, out: Path) -> None:
    sys.path.insert(0, str(REPO))
    from devtools.kiosk_worlds import demo_world
    from run_kiosk import configure_kivy

    configure_kivy(offscreen=True)
    from devtools.touch import ManualWorker, run_script
    from kiosk.ui.app import KioskApp

    out.mkdir(parents=True, exist_ok=True)
    worker = ManualWorker()
    world = demo_world()
    world.services.run_blocking = worker
    app = KioskApp(world.services, show_demo_panel=False)
    errors = run_script(app, _script(app, world, worker, out, lang), worker)
    if errors:
        raise errors[0]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--lang", choices=["ar", "en"], help="one language in this process (internal)")
    args = parser.parse_args(argv)
    if args.lang:
        try:
            render_language(args.lang, args.out)
        except Exception:
            # Kivy replaces sys.stderr with its (silenced) logger: report on the real stream.
            traceback.print_exc(file=sys.__stderr__)
            return 1
        return 0
    for old in args.out.glob("*.png"):
        old.unlink()
    for lang in ("ar", "en"):
        subprocess.run(
            [sys.executable, "-m", "devtools.screenshots", "--lang", lang, "--out", str(args.out)], check=True
        )
    print(f"screenshots written to {args.out}: {len(list(args.out.glob('*.png')))} files")
    return 0


if __name__ == "__main__":
    sys.exit(main())
