"""The kiosk's composition root: pick the components, set up Kivy, run the app.

    python run_kiosk.py --demo              the demo election; F2 inserts the next demo voter's card,
                                            F3 removes it, F4 inserts a staff card (also on a demo panel)
    python run_kiosk.py --demo --offscreen  the same without a display (for checks; exits after --run-for)
    python run_kiosk.py --package P --commission-key K --kiosk-id ID --central https://... --kiosk-cert C
        --kiosk-key KEY --central-ca CA --db BOX   a polling-station kiosk (docs/kiosk.md); a package or
                                            configuration the kiosk refuses: a message to staff, exit code 2

Kivy reads its environment at import time, so nothing here imports Kivy before ``configure_kivy``.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from election.manifest import CandidateId, Manifest, WilayatCode
from election.package import ElectionPackage
from kiosk.fakes import (
    DemoDeck,
    FakeBallots,
    FakeCard,
    FakeCardEvents,
    FakeCardSpec,
    FakePollBook,
    MemoryAudit,
)
from kiosk.polls import PollsAction, PollsState, Refused, StaffCard, StaffRole, decide
from kiosk.session import SessionConfig
from kiosk.session import events as ev
from kiosk.session.model import CardKind, KioskMode, StaffIdentity, StaffStatus
from kiosk.ui_text import Catalogue

if TYPE_CHECKING:
    from kiosk.ballot_box import BallotBox
    from kiosk.ui.app import KioskServices

log = logging.getLogger("kiosk")

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


ADMIN_ID = "ADMIN-0001"
"""The demo's administrator card (F5): the only demo card that may reopen the polls after a close."""


@dataclass
class AdminDeck(DemoDeck):
    """The demo deck with an administrator's card as well (F5)."""

    admin_card: FakeCardSpec = field(default_factory=lambda: FakeCardSpec(ADMIN_ID, pin=DEMO_PIN, kind=CardKind.STAFF))

    def insert_admin(self) -> str:
        self.events.insert(self.admin_card)
        return f"administrator card (PIN {self.admin_card.pin})"


@dataclass
class DemoStaff:
    """The demo kiosk's staff functions under a station kiosk's polls rules (``kiosk.polls.decide``): the demo
    staff card (F4) is a committee member's, which opens and closes the polls; only the administrator's card
    (F5) reopens them after a close. Refusals come back as refused, as from the ballot box."""

    roles: dict[str, StaffRole]
    ballots_stored: Callable[[], int]
    status_lines: Callable[[], tuple[str, ...]]
    polls: PollsState = PollsState.OPEN
    log: list[tuple[ev.StaffAction, str]] = field(default_factory=list)

    def run(self, action: ev.StaffAction, staff: StaffIdentity) -> ev.StaffDone:
        self.log.append((action, staff.staff_id))
        role = self.roles.get(staff.staff_id)
        polls = {
            ev.StaffAction.OPEN_POLLS: PollsAction.OPEN,
            ev.StaffAction.CLOSE_POLLS: PollsAction.CLOSE,
            ev.StaffAction.REOPEN_POLLS: PollsAction.REOPEN,
            ev.StaffAction.MANUAL_FALLBACK: PollsAction.PAUSE,
        }
        if action in polls:
            if role is None:
                return ev.StaffDone(action, ("refused: unknown staff card",), ok=False)
            card = StaffCard(staff.staff_id, role, "0" * 64)
            outcome = decide(self.polls, polls[action], card, ballots_stored=self.ballots_stored())
            if isinstance(outcome, Refused):
                return ev.StaffDone(action, (f"refused: {outcome.reason.value} ({role.value})",), ok=False)
            self.polls = outcome.after
            line = f"polls {outcome.before.value} -> {outcome.after.value}: staff card {staff.staff_id} ({role.value})"
            return ev.StaffDone(action, (line,))
        if action is ev.StaffAction.STATUS:
            return ev.StaffDone(action, self.status_lines())
        return ev.StaffDone(action, ("assisted voting armed for the next voter (audio on)",))


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
    from devtools.demo_election.build import Scale, build_definition
    from kiosk.ui.app import KioskServices

    definition = build_definition(Scale.SMALL, seed)
    manifest = definition.manifest
    roll = demo_voters(manifest)
    card = FakeCard()
    events = FakeCardEvents(card)
    poll_book = FakePollBook(manifest, roll=dict(roll))
    ballots = FakeBallots(poll_book)
    staff = DemoStaff(
        {"STAFF-0001": StaffRole.COMMITTEE_MEMBER, ADMIN_ID: StaffRole.ADMINISTRATOR},
        lambda: ballots.cast_count,
        lambda: _status_lines(manifest, "demo reader (fake card layer)"),
        polls=PollsState.OPEN if polls_open else PollsState.SETUP,
    )
    audit = MemoryAudit()
    deck = AdminDeck(
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
        status=lambda: StaffStatus(
            at=_now(),
            kiosk_id=kiosk.id,
            ballots_cast=ballots.cast_count,
            check_ins=sum(1 for kind, _ in audit.entries if kind == "checked_in"),
        ),
    )
    return DemoWorld(services, card, events, poll_book, ballots, staff, audit, deck)


def _now() -> Any:
    import datetime as dt

    return dt.datetime.now(dt.UTC)


def box_status(box: BallotBox, kiosk_id: str, online: Callable[[], bool | None] | None = None) -> Any:
    """The staff screens' status of a kiosk with a ballot box (``online``: the sync worker's view of the office;
    None: a standalone kiosk)."""
    counts = box.counts()
    return StaffStatus(
        at=_now(),
        kiosk_id=kiosk_id,
        ballots_cast=counts.cast + counts.provisional,
        check_ins=box.checkin_count(),
        outbox=None if online is None else counts.unsent_outbox + counts.pending_voted_marks + counts.pending_releases,
        office_reachable=None if online is None else online(),
    )


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
        from devtools.virtual_card.card import VirtualCard

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

    from devtools import test_pki
    from devtools.demo_election.build import Scale, build_definition
    from devtools.virtual_card.harness import PcscHarness
    from election.confirmation import genesis_code
    from kiosk.adapters.ballots import RealBallots
    from kiosk.adapters.card import PcscCard
    from kiosk.adapters.card_events import MonitorCardEvents
    from kiosk.adapters.local import BoxStaff, CountingBallots, LocalPollBook
    from kiosk.ballot_box import BallotBox
    from kiosk.card.pki import TrustAnchors
    from kiosk.card.profile import load_named_profile
    from kiosk.card.session import CardAuthenticator
    from kiosk.polls import PollsAction, StaffCard, StaffRole
    from kiosk.ui.app import KioskServices
    from sync.signing import Signer

    definition = build_definition(Scale.SMALL, 2023)
    manifest = definition.manifest
    kiosk = manifest.kiosks[0]
    now = dt.datetime.now(dt.UTC)
    people = test_pki.synthetic_voters(voters, now)
    pki = test_pki.generate(workdir / "test-pki", people, [kiosk.id], now=now)
    roll = {p.civil_number: manifest.wilayats[i % len(manifest.wilayats)].code for i, p in enumerate(people)}
    anchors = TrustAnchors(pki.trust_roots(), pki.intermediates(), pki.crls())
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
        status=lambda: box_status(box, kiosk.id),
    )
    return DemoWorld(services, card, events, poll_book, ballots, staff, audit, deck)


class StartRefused(Exception):
    """The kiosk must not start; the message tells staff what is wrong and what to do."""


REFUSED = "KIOSK REFUSES TO START"
STAFF_ADVICE = "No voting on this kiosk: load the package again from the commission's copy and call the central office."


def load_election_package(path: Path, commission_key: Path) -> ElectionPackage:
    """Read and verify the signed election package; every problem is a ``StartRefused`` naming the file."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
    from cryptography.hazmat.primitives.serialization import load_pem_public_key

    from election.package import PackageError, load_package

    try:
        key = load_pem_public_key(commission_key.read_bytes())
    except (OSError, ValueError) as exc:
        raise StartRefused(f"the election commission's key {commission_key} cannot be read ({exc})") from None
    if not isinstance(key, Ed25519PublicKey):
        raise StartRefused(f"the election commission's key {commission_key} is not an Ed25519 public key")
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise StartRefused(f"the election package {path} cannot be read ({exc.strerror}). {STAFF_ADVICE}") from None
    try:
        return load_package(data, key, archive_name=path.name)
    except PackageError as exc:
        raise StartRefused(
            f"the election package {path} is refused: {exc.file}: {exc.problem}. {STAFF_ADVICE}"
        ) from None


@dataclass
class StationWorld:
    """A polling-station kiosk: the verified package, the real card layer, the central poll book (mutual
    TLS), the election core's encryption into the ballot box, and the sync worker."""

    services: KioskServices
    card: Any  # PcscCard
    card_events: Any  # MonitorCardEvents
    poll_book: Any  # CentralPollBook
    ballots: Any  # RealBallots
    staff: Any  # BoxStaff
    box: Any  # BallotBox
    worker: Any  # SyncWorker
    package: ElectionPackage

    def shutdown(self) -> None:
        self.card_events.stop()
        self.worker.stop()
        self.box.close()


def station_world(package: ElectionPackage, args: argparse.Namespace) -> StationWorld:
    """Compose the real components for ``--package``; a configuration problem is a ``StartRefused``."""
    import datetime as dt
    import secrets
    import time

    from nacl.public import PublicKey as SealPublicKey

    from election.confirmation import genesis_code
    from election.context import ElectionContext
    from kiosk.adapters.ballots import RealBallots
    from kiosk.adapters.card import PcscCard, trust_anchors_of
    from kiosk.adapters.card_events import MonitorCardEvents
    from kiosk.adapters.local import BoxStaff
    from kiosk.adapters.pollbook import CentralPollBook
    from kiosk.ballot_box import BallotBox, BallotBoxError
    from kiosk.card.profile import ProfileError, load_all_profiles, load_named_profile
    from kiosk.card.session import CardAuthenticator
    from kiosk.card.transport import CardIoError, PcscContext
    from kiosk.polls import PollsState
    from kiosk.ui.app import KioskServices
    from sync.client import SyncClient, TlsIdentity
    from sync.signing import Signer
    from sync.worker import SyncWorker, WorkerConfig

    manifest = package.manifest
    kiosk = manifest.kiosks_by_id.get(args.kiosk_id)
    if kiosk is None:
        raise StartRefused(f"kiosk {args.kiosk_id!r} is not in the election package's manifest")
    if package.election_context is None or package.central_envelope_key is None:
        raise StartRefused(
            f"the election package {args.package} has no election key or no office envelope key (a package from "
            f"before the key ceremony). {STAFF_ADVICE}"
        )
    if not str(args.central).startswith("https://"):
        raise StartRefused(f"the central office address must be https:// (mutual TLS), not {args.central!r}")
    for what, path in (("kiosk certificate", args.kiosk_cert), ("kiosk key", args.kiosk_key),
                       ("central office CA", args.central_ca)):  # fmt: skip
        if path is None or not Path(path).is_file():
            raise StartRefused(f"the {what} file {path} is missing")
    try:
        profile = load_named_profile(args.card_profile)
    except (ProfileError, OSError) as exc:
        raise StartRefused(f"the card profile {args.card_profile!r} cannot be loaded ({exc})") from None
    context = ElectionContext.from_dict(dict(package.election_context))
    try:
        signer = Signer.from_pem_file(args.kiosk_key)
    except (OSError, ValueError) as exc:
        raise StartRefused(f"the kiosk key {args.kiosk_key} cannot be used ({exc})") from None
    centre = str(kiosk.centre)
    offline_roll = read_offline_roll(args.offline_roll, manifest, centre) if args.offline_roll else {}
    db: Path = args.db
    try:
        if db.exists():
            box = BallotBox.open(db, signer)
            if box.kiosk_id != kiosk.id:
                raise StartRefused(f"the ballot box {db} belongs to kiosk {box.kiosk_id}, not {kiosk.id}")
        else:
            genesis = genesis_code(context.base_hash, kiosk.id).hex()
            box = BallotBox.create(db, signer, kiosk_id=kiosk.id, centre_id=centre, chain_genesis=genesis)
    except BallotBoxError as exc:
        raise StartRefused(f"the ballot box {db} cannot be opened ({exc})") from None
    reader = args.reader
    if reader is None:
        try:
            ctx = PcscContext()
            readers = ctx.readers()
            ctx.close()
        except CardIoError as exc:
            raise StartRefused(f"the card reader service (pcscd) is not available ({exc})") from None
        if not readers:
            raise StartRefused("no card reader is connected (pass --reader or connect one)")
        reader = readers[0]

    def now() -> dt.datetime:
        return dt.datetime.now(dt.UTC)

    client = SyncClient(args.central, TlsIdentity(args.kiosk_cert, args.kiosk_key, args.central_ca))
    worker = SyncWorker(
        box,
        client,
        WorkerConfig(
            software_version="sanduq-kiosk", package_hash=package.package_hash, batch_window=args.batch_window
        ),
        monotonic=time.monotonic,
        wall_clock=now,
    )
    poll_book = CentralPollBook(client, box, kiosk.id, centre, offline_roll=offline_roll)
    ballots = RealBallots(
        manifest, context, box, poll_book, SealPublicKey(package.central_envelope_key), after_store=worker.wake
    )
    authenticator = CardAuthenticator(
        profile,
        trust_anchors_of(package),
        kiosk.id,
        manifest.election_id,
        now,
        secrets.token_bytes,
        profiles=load_all_profiles(),  # the card's ATR selects its profile; an unknown ATR: "not supported"
    )
    card = PcscCard(reader, authenticator)
    events = MonitorCardEvents(reader)

    def status_extra() -> tuple[str, ...]:
        sync = worker.status()
        last = sync.last_sync_at.isoformat(timespec="seconds") if sync.last_sync_at else "never"
        return (
            f"reader: {reader}",
            f"clock: {now().isoformat(timespec='seconds')}",
            f"central office: {args.central} ({'reachable' if sync.online else 'not reachable'})"
            + (f"; needs attention: {sync.fault}" if sync.fault else ""),
            f"last sync: {last}",
            f"election package hash: {package.package_hash[:16]}...",
        )

    staff = BoxStaff(box, lambda _staff_id: "", status_extra, card_of=card.staff_cards.get)

    photo_paths = {c.id: c.photo for contest in manifest.contests for c in contest.candidates if c.photo}

    def photo(candidate: CandidateId) -> bytes | None:
        path = photo_paths.get(candidate)
        return package.files.get(path) if path else None

    services = KioskServices(
        manifest=manifest,
        card=card,
        poll_book=poll_book,
        ballots=ballots,
        staff=staff,
        audit=BoxAudit(box),
        catalogue=Catalogue.load(),
        photos=photo,
        card_events=events,
        kiosk_mode=KioskMode(
            polls_open=box.polls_state is PollsState.OPEN,
            polls_closed=box.polls_state is PollsState.CLOSED,
            manual_fallback=box.polls_state is PollsState.PAUSED,  # paused only by the switch to paper
        ),
        config=SessionConfig(manifest),
        where=kiosk.id,
        status=lambda: box_status(box, kiosk.id, lambda: worker.status().online),
    )
    worker.start()
    return StationWorld(services, card, events, poll_book, ballots, staff, box, worker, package)


def read_offline_roll(path: Path, manifest: Manifest, centre: str) -> dict[str, str]:
    """The centre's copy of the roll (the roll's CSV, docs/roll-format.md, read by its one parser
    ``election.roll.load_roll``): civil number -> ballot style of the eligible voters of the wilayats the centre
    serves. Used only while the office is unreachable (provisional ballots)."""
    from election.manifest import CentreId
    from election.roll import RollError, load_roll

    try:
        styles = load_roll(path, manifest).styles_at_centre(manifest, CentreId(centre))
    except (OSError, RollError) as exc:
        raise StartRefused(f"the centre's offline roll {path} cannot be read ({type(exc).__name__}: {exc})") from None
    roll = {str(civil): str(style) for civil, style in styles.items()}
    log.info("offline roll: %d voters for centre %s", len(roll), centre)
    return roll


class BoxAudit:
    """AuditPort for the station kiosk: session and staff events go to the ballot box's signed, hash-chained
    audit log (synced to the central office with the rest of the log); they carry no votes, PINs or identities."""

    def __init__(self, box: BallotBox) -> None:
        self._box = box

    def record(self, kind: str, detail: str) -> None:
        logging.getLogger("kiosk.audit").info("%s: %s", kind, detail)
        self._box.record_session_event(kind, detail)


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
    parser.add_argument(
        "--no-speech", action="store_true", help="demo: the accessibility layer without synthesised speech (silent)"
    )
    station = parser.add_argument_group("polling station (without --demo)")
    station.add_argument("--package", type=Path, help="the signed election package (.sanduq)")
    station.add_argument("--commission-key", type=Path, help="the election commission's public key (PEM)")
    station.add_argument("--kiosk-id", help="this kiosk's id in the manifest")
    station.add_argument("--central", help="the central office, https://host:port (mutual TLS)")
    station.add_argument("--kiosk-cert", type=Path, help="this kiosk's TLS client certificate (PEM)")
    station.add_argument("--kiosk-key", type=Path, help="this kiosk's private key (PEM): TLS and ballot signing")
    station.add_argument("--central-ca", type=Path, help="the CA of the central office's TLS certificate (PEM)")
    station.add_argument("--db", type=Path, help="the ballot box database (created on first start)")
    station.add_argument("--reader", help="the PC/SC reader name (default: the first reader)")
    station.add_argument(
        "--offline-roll", type=Path, help="the centre's copy of the roll (CSV): provisional ballots while offline"
    )
    station.add_argument(
        "--batch-window",
        type=float,
        default=None,
        help="seconds after which fewer than min_batch ballots are sent anyway (default: never; tests and demos)",
    )
    station.add_argument("--card-profile", default="oman_ias", help="the ID card profile (default oman_ias)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if not args.demo:
        return _run_station(parser, args)
    configure_kivy(offscreen=args.offscreen, fullscreen=args.fullscreen)
    from kivy.clock import Clock

    from kiosk.ui.app import KioskApp

    if args.virtual_card:
        with tempfile.TemporaryDirectory(prefix="sanduq-kiosk-") as workdir:
            world = virtual_world(Path(workdir))
            try:
                app = KioskApp(world.services)
                attach_demo_accessibility(app, world, DEMO_AUDIO_CACHE, speech=not args.no_speech)
                _run(app, args.run_for, Clock)
            finally:
                world.card_events.stop()
                world.deck.harness.stop()
        return 0
    world = demo_world(polls_open=not args.polls_closed)
    app = KioskApp(world.services)
    attach_demo_accessibility(app, world, DEMO_AUDIO_CACHE, speech=not args.no_speech)
    _run(app, args.run_for, Clock)
    return 0


DEMO_AUDIO_CACHE = Path("out/audio-cache")
"""Where the demo kiosk's synthesised clips are kept (the same cache as ``make demo``'s package builds)."""


def demo_audio_files(manifest: Manifest, cache: Path) -> dict[str, bytes]:
    """Every clip of the demo election's audio ballot, as the package builder would put them in a package:
    the clip catalogue and the candidates' announcements, synthesised with espeak-ng (cached in ``cache``: only
    the first run takes about a minute)."""
    from election.audio_clips import CLIP_INDEX
    from election.manifest import Language
    from tools.audio_catalogue import clip_index
    from tools.build_package import candidate_announcement
    from tools.speech import SpeechJob, synthesise_many

    index = clip_index(manifest)
    work = cache / "demo-kiosk"
    jobs: list[tuple[str, SpeechJob]] = []
    for entry in index.clips.values():
        for language in Language:
            text = entry.text.in_language(language)
            if text:
                path = entry.path(language)
                jobs.append((path, SpeechJob(text, language.value, work / path.replace("/", "_"))))
    for contest in manifest.contests:
        for candidate in contest.candidates:
            for language in Language:
                path = candidate.audio.in_language(language)
                text = candidate_announcement(candidate, language)
                jobs.append((path, SpeechJob(text, language.value, work / path.replace("/", "_"))))
    work.mkdir(parents=True, exist_ok=True)
    log.info("demo kiosk: %d audio clips (synthesised once, then from %s)", len(jobs), cache)
    synthesise_many([job for _, job in jobs], cache_dir=cache)
    files = {path: job.out_path.read_bytes() for path, job in jobs}
    files[CLIP_INDEX] = index.to_json()
    return files


def attach_demo_accessibility(app: Any, world: DemoWorld, cache: Path, *, speech: bool = True) -> Any:
    """The whole accessibility layer on the demo kiosk, as on a polling-station kiosk: the audio ballot (sound
    through the audio device, when there is one), the accessible controller, the two switches, the privacy
    screen and assisted voting. ``speech=False`` (no espeak-ng, or a quick check): the same layer with the clip
    catalogue only, so nothing is heard. Returns the accessibility shell."""
    from election.audio_clips import CLIP_INDEX
    from kiosk.ui.kivy_shell import attach, shell_for_package
    from tools.audio_catalogue import clip_index

    manifest = world.services.manifest
    files: dict[str, bytes]
    if speech:
        from tools.speech import SpeechError

        try:
            files = demo_audio_files(manifest, cache)
        except SpeechError as exc:
            log.warning("demo kiosk: no speech synthesis (%s): the audio ballot is silent", exc)
            files = {CLIP_INDEX: clip_index(manifest).to_json()}
    else:
        files = {CLIP_INDEX: clip_index(manifest).to_json()}
    if os.environ.get("SDL_AUDIODRIVER") == "dummy":
        log.info("demo kiosk: no audio device (SDL_AUDIODRIVER=dummy): the audio ballot plays silently")
    shell = shell_for_package(manifest, files, cache / "demo-kiosk-play", world.services.audit)
    attach(app, shell)
    return shell


def _run_station(parser: argparse.ArgumentParser, args: argparse.Namespace) -> int:
    needed = ("package", "commission_key", "kiosk_id", "central", "kiosk_cert", "kiosk_key", "central_ca", "db")
    missing = [f"--{n.replace('_', '-')}" for n in needed if getattr(args, n) is None]
    if missing:
        parser.error(f"without --demo, these are required: {', '.join(missing)}")
    try:
        package = load_election_package(args.package, args.commission_key)
        for warning in package.warnings:
            log.warning("election package: %s", warning)
        log.info("election package %s verified (hash %s...)", args.package.name, package.package_hash[:16])
        configure_kivy(offscreen=args.offscreen, fullscreen=args.fullscreen)
        world = station_world(package, args)
    except StartRefused as exc:
        print(f"{REFUSED}: {exc}", file=sys.stderr, flush=True)
        return 2
    from kivy.clock import Clock

    from kiosk.ui.app import KioskApp

    polls = world.box.polls_state.value
    Clock.schedule_once(lambda _dt: log.info("kiosk %s ready (polls %s)", args.kiosk_id, polls), 0)
    app = KioskApp(world.services, show_demo_panel=False)
    _attach_audio_ballot(app, world, args.db.parent / "audio-cache")
    try:
        _run(app, args.run_for, Clock)
    finally:
        world.shutdown()
    return 0


def _attach_audio_ballot(app: Any, world: Any, cache_dir: Path) -> None:
    """The audio ballot, the accessible controller and two switches, speaking the package's own clips."""
    from election.audio_clips import CLIP_INDEX
    from kiosk.ui.kivy_shell import attach, shell_for_package

    package = world.package
    if CLIP_INDEX not in package.files:
        log.warning("the election package has no audio catalogue (%s): the audio ballot is unavailable", CLIP_INDEX)
        return
    cache_dir.mkdir(parents=True, exist_ok=True)
    attach(app, shell_for_package(package.manifest, package.files, cache_dir, world.services.audit))
    log.info("audio ballot ready: %s", CLIP_INDEX)


def _run(app: Any, run_for: float, clock: Any) -> None:
    if run_for > 0:
        clock.schedule_once(lambda _dt: app.stop(), run_for)
    app.run()


if __name__ == "__main__":
    sys.exit(main())
