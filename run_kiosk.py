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
from typing import TYPE_CHECKING, Any

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
    card: Any  # FakeCard or the PC/SC card port
    card_events: Any  # FakeCardEvents, or MonitorCardEvents on a real pcscd
    poll_book: Any  # FakePollBook or LocalPollBook
    ballots: Any  # FakeBallots or CountingBallots over the real encryption and ballot box
    staff: Any
    audit: MemoryAudit
    deck: Any  # DemoDeck or VirtualDeck


def _status_lines(manifest: Manifest, reader: str) -> tuple[str, ...]:
    """The staff status screen's lines that do not come from the ballot box."""
    import datetime as dt

    return (
        f"reader: {reader}",
        f"clock: {dt.datetime.now(dt.UTC).isoformat(timespec='seconds')}",
        "central office: not connected (standalone kiosk); sync backlog: see ballots not yet sent",
        "last sync: never (standalone kiosk)",
        f"election package (manifest) hash: {manifest.manifest_hash[:16]}...",
    )


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
    staff = FakeStaff(lambda: _status_lines(manifest, "demo reader (fake card layer)"))
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


@dataclass
class VirtualDeck:
    """Demo voters' virtual ID cards in a virtual reader on a real (isolated) pcscd: F2 inserts the next."""

    harness: Any
    pki: Any
    profile: Any
    voters: list[FakeCardSpec]
    staff_id: str = "staff-cm-1"
    position: int = 0

    def insert_next_voter(self) -> str:
        spec = self.voters[self.position % len(self.voters)]
        self.position += 1
        return self.insert(spec.civil_number)

    def insert(self, ref: str) -> str:
        from tools.virtual_card.card import VirtualCard

        self.harness.insert(VirtualCard.from_files(self.pki.card(ref), self.profile))
        return f"virtual card {ref} (PIN {DEMO_PIN})"

    def insert_staff(self) -> str:
        return self.insert(self.staff_id)

    def remove(self) -> str:
        self.harness.remove(0)
        return "card removed"


def demo_context(manifest: Manifest, random_bytes: Any) -> Any:
    """A one-guardian election key for the demo (the real election's comes from the key ceremony)."""
    from nacl.public import PrivateKey

    from election.context import parameter_base_hash
    from election.keyceremony import Polynomial, build_context, make_guardian_record

    base = parameter_base_hash(manifest.manifest_hash, 1, 1)
    box_key = bytes(PrivateKey.generate().public_key)
    record = make_guardian_record(
        1, "demo guardian", Polynomial.random(1, random_bytes), box_key, base_hash=base, seed=random_bytes(32)
    )
    return build_context(manifest.manifest_hash, 1, [record])


def virtual_world(workdir: Path, *, config: SessionConfig | None = None, voters: int = 30) -> DemoWorld:
    """The demo election on real components: virtual ID cards on an isolated pcscd, the card layer's PKI
    check, real encryption and the real ballot box (SQLite). Only the poll book is local."""
    import datetime as dt
    import secrets

    from cryptography.hazmat.primitives import hashes
    from nacl.public import PrivateKey

    from election.confirmation import genesis_code
    from kiosk.adapters.ballots import RealBallots
    from kiosk.adapters.card import PcscCard
    from kiosk.adapters.card_events import MonitorCardEvents
    from kiosk.adapters.local import BoxStaff, CountingBallots, LocalPollBook
    from kiosk.app import KioskServices
    from kiosk.ballot_box import BallotBox
    from kiosk.card.pki import TrustAnchors
    from kiosk.card.profile import load_named_profile
    from kiosk.card.session import CardAuthenticator
    from kiosk.states import PollsAction, StaffCard, StaffRole
    from sync.signing import Signer
    from tools import test_pki
    from tools.demo_election.build import Scale, build_definition
    from tools.virtual_card.harness import PcscHarness

    definition = build_definition(Scale.SMALL, 2023)
    manifest = definition.manifest
    kiosk = manifest.kiosks[0]
    now = dt.datetime.now(dt.UTC)
    people = test_pki.synthetic_voters(voters, now)
    pki = test_pki.generate(workdir / "test-pki", people, [kiosk.id], now=now)
    roll = {p.civil_number: manifest.wilayats[i % len(manifest.wilayats)].code for i, p in enumerate(people)}
    anchors = TrustAnchors(pki.trust_roots(), pki.intermediates(), pki.crls(), [pki.staff_ca.cert()])
    profile = load_named_profile("oman_ias")
    harness = PcscHarness().start()
    authenticator = CardAuthenticator(
        profile, anchors, kiosk.id, manifest.election_id, lambda: dt.datetime.now(dt.UTC), secrets.token_bytes
    )
    card = PcscCard(harness.reader_name(0), authenticator)
    events = MonitorCardEvents(harness.reader_name(0))
    context = demo_context(manifest, secrets.token_bytes)
    signer = Signer.from_pem_file(pki.kiosks[kiosk.id].key_path)
    box = BallotBox.create(
        workdir / "kiosk.db",
        signer,
        kiosk_id=kiosk.id,
        centre_id=kiosk.centre,
        chain_genesis=genesis_code(context.base_hash, kiosk.id).hex(),
    )
    fingerprints = {
        files.identity.civil_number: files.auth.cert().fingerprint(hashes.SHA256()).hex()
        for files in pki.staff.values()
    }
    fingerprints.update({sid: files.auth.cert().fingerprint(hashes.SHA256()).hex() for sid, files in pki.staff.items()})
    opener = StaffCard("staff-cm-1", StaffRole.COMMITTEE_MEMBER, fingerprints["staff-cm-1"])
    box.apply(PollsAction.OPEN, opener)
    poll_book = LocalPollBook(manifest, roll, box)
    real = RealBallots(manifest, context, box, poll_book, bytes(PrivateKey.generate().public_key))  # type: ignore[arg-type]
    ballots = CountingBallots(real, poll_book)
    staff = BoxStaff(
        box, lambda staff_id: fingerprints[staff_id], lambda: _status_lines(manifest, harness.reader_name(0))
    )
    deck = VirtualDeck(harness, pki, profile, [FakeCardSpec(p.civil_number, pin=DEMO_PIN) for p in people])
    audit = MemoryAudit()

    def photo(candidate: CandidateId) -> bytes | None:
        return definition.photo_png(candidate)

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
        kiosk_mode=KioskMode(polls_open=True),
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
    parser.add_argument(
        "--virtual-card",
        action="store_true",
        help="real components: virtual ID cards on an isolated pcscd, real encryption and ballot box",
    )
    parser.add_argument("--run-for", type=float, default=0.0, help="stop after this many seconds (checks)")
    args = parser.parse_args(argv)
    if not args.demo:
        parser.error("only --demo is wired so far: the election package and real card layer are not yet composed")
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    configure_kivy(offscreen=args.offscreen, fullscreen=args.fullscreen)
    from kivy.clock import Clock

    from kiosk.app import KioskApp

    if args.virtual_card:
        with tempfile.TemporaryDirectory(prefix="sanduq-kiosk-") as workdir:
            world = virtual_world(Path(workdir))
            try:
                _run(KioskApp(world.services), args.run_for, Clock)
            finally:
                world.card_events.stop()
                world.deck.harness.stop()
        return 0
    world = demo_world(polls_open=not args.polls_closed)
    _run(KioskApp(world.services), args.run_for, Clock)
    return 0


def _run(app: Any, run_for: float, clock: Any) -> None:
    if run_for > 0:
        clock.schedule_once(lambda _dt: app.stop(), run_for)
    app.run()


if __name__ == "__main__":
    sys.exit(main())
