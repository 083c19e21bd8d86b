"""The kiosk's demo and virtual worlds: the demo election on fake hardware (``demo_world``: ``run_kiosk.py --demo``,
the UI tests, the screenshots) and on real components with virtual ID cards on an isolated pcscd
(``virtual_world``: ``run_kiosk.py --demo --virtual-card``), with the demo's accessibility layer (the audio ballot
synthesised with espeak-ng). Development doubles: the polling-station kiosk is composed in ``kiosk.bootstrap``.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from devtools.fakes import (
    DemoDeck,
    FakeBallots,
    FakeCard,
    FakeCardEvents,
    FakeCardSpec,
    FakePollBook,
    MemoryAudit,
)
from election.manifest import CandidateId, Manifest, WilayatCode
from kiosk.bootstrap import box_status
from kiosk.polls import PollsAction, PollsState, Refused, StaffCard, StaffRole, decide
from kiosk.services import KioskServices
from kiosk.session import SessionConfig
from kiosk.session import events as ev
from kiosk.session.model import CardKind, KioskMode, StaffIdentity, StaffStatus
from kiosk.ui_text import Catalogue

log = logging.getLogger("kiosk")

DEMO_PIN = "1234"


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


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


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
    import secrets

    from cryptography.hazmat.primitives import hashes
    from nacl.public import PrivateKey
    from nacl.public import PublicKey as SealPublicKey

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
    office_key = SealPublicKey(bytes(PrivateKey.generate().public_key))  # the demo has no office to open envelopes
    real = RealBallots(manifest, context, box, poll_book, office_key)
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
