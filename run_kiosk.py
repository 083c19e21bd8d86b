"""The kiosk's composition root: pick the components, set up Kivy, run the app.

    python run_kiosk.py --demo              the demo election; F2 inserts the next demo voter's card,
                                            F3 removes it, F4 inserts a staff card (also on a demo panel)
    python run_kiosk.py --demo --offscreen  the same without a display (for checks; exits after --run-for)

Kivy reads its environment at import time, so nothing here imports Kivy before ``configure_kivy``.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from election.manifest import CandidateId, Manifest, WilayatCode
from kiosk.fakes import (
    DemoDeck,
    FakeBallots,
    FakeCard,
    FakeCardEvents,
    FakeCardSpec,
    FakePollBook,
    FakeStaff,
    MemoryAudit,
)
from kiosk.session import SessionConfig
from kiosk.session.model import CardKind, KioskMode
from kiosk.ui_text import Catalogue

if TYPE_CHECKING:
    from kiosk.app import KioskServices

WINDOW = (1280, 800)
DEMO_PIN = "1234"


def configure_kivy(*, offscreen: bool, size: tuple[int, int] = WINDOW, fullscreen: bool = False) -> None:
    """Set Kivy's environment and window before the first Kivy import (it reads both at import time)."""
    os.environ["KIVY_TEXT"] = "pil"  # Arabic: Pillow + raqm does shaping and bidi
    os.environ.setdefault("KIVY_NO_ARGS", "1")
    os.environ.setdefault("KIVY_NO_FILELOG", "1")
    os.environ.setdefault("KIVY_HOME", str(Path(tempfile.gettempdir()) / "sanduq-kivy-home"))
    if offscreen:
        os.environ["SDL_VIDEODRIVER"] = "offscreen"
        os.environ.setdefault("SDL_AUDIODRIVER", "dummy")
        os.environ.setdefault("KIVY_NO_CONSOLELOG", "1")
    from kivy.config import Config

    Config.set("graphics", "width", str(size[0]))
    Config.set("graphics", "height", str(size[1]))
    Config.set("graphics", "resizable", "0")
    Config.set("graphics", "fullscreen", "auto" if fullscreen else "0")
    Config.set("input", "mouse", "mouse,disable_multitouch")
    Config.set("kivy", "exit_on_escape", "0")


@dataclass
class DemoWorld:
    """The demo election with fake hardware, exposed so tests and tools can drive and inspect it."""

    services: KioskServices
    card: FakeCard
    card_events: FakeCardEvents
    poll_book: FakePollBook
    ballots: FakeBallots
    staff: FakeStaff
    audit: MemoryAudit
    deck: DemoDeck


def demo_voters(manifest: Manifest, per_wilayat: int = 20) -> dict[str, WilayatCode]:
    """Synthetic civil numbers on the demo roll, interleaved across wilayats."""
    roll: dict[str, WilayatCode] = {}
    for i in range(per_wilayat):
        for j, wilayat in enumerate(manifest.wilayats):
            roll[f"9{j:02d}{i:05d}"] = wilayat.code
    return roll


def demo_world(
    *, seed: int = 2023, polls_open: bool = True, config: SessionConfig | None = None, photos: bool = True
) -> DemoWorld:
    from kiosk.app import KioskServices
    from tools.demo_election.build import Scale, build_definition

    definition = build_definition(Scale.SMALL, seed)
    manifest = definition.manifest
    roll = demo_voters(manifest)
    card = FakeCard()
    events = FakeCardEvents(card)
    poll_book = FakePollBook(manifest, roll=dict(roll))
    ballots = FakeBallots(poll_book)
    staff = FakeStaff()
    audit = MemoryAudit()
    deck = DemoDeck(
        events,
        voters=[FakeCardSpec(number, pin=DEMO_PIN) for number in roll],
        staff_card=FakeCardSpec("STAFF-0001", pin=DEMO_PIN, kind=CardKind.STAFF),
    )
    cache: dict[CandidateId, bytes] = {}

    def photo(candidate: CandidateId) -> bytes | None:
        if not photos:
            return None
        if candidate not in cache:
            cache[candidate] = definition.photo_png(candidate)
        return cache[candidate]

    kiosk = manifest.kiosks[0]
    services = KioskServices(
        manifest=manifest,
        card=card,
        poll_book=poll_book,
        ballots=ballots,
        staff=staff,
        audit=audit,
        catalogue=Catalogue.load(),
        photos=photo,
        card_events=events,
        kiosk_mode=KioskMode(polls_open=polls_open),
        config=config or SessionConfig(manifest),
        demo=deck,
        where=kiosk.id,
    )
    return DemoWorld(services, card, events, poll_book, ballots, staff, audit, deck)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Sanduq voting kiosk")
    parser.add_argument("--demo", action="store_true", help="the demo election with demo voters' cards (F2/F3/F4)")
    parser.add_argument("--offscreen", action="store_true", help="no display (SDL offscreen)")
    parser.add_argument("--fullscreen", action="store_true")
    parser.add_argument("--polls-closed", action="store_true", help="start with polls closed (staff card opens them)")
    parser.add_argument("--run-for", type=float, default=0.0, help="stop after this many seconds (checks)")
    args = parser.parse_args(argv)
    if not args.demo:
        parser.error("only --demo is wired so far: the election package and real card layer are not yet composed")
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    configure_kivy(offscreen=args.offscreen, fullscreen=args.fullscreen)
    from kivy.clock import Clock

    from kiosk.app import KioskApp

    world = demo_world(polls_open=not args.polls_closed)
    app = KioskApp(world.services)
    if args.run_for > 0:
        Clock.schedule_once(lambda _dt: app.stop(), args.run_for)
    app.run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
