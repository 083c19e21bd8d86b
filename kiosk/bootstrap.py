"""The polling-station kiosk's one composition root: a typed configuration in, the composed components out.

``build_station(config)`` verifies the signed election package, opens (or creates) the ballot box, and wires the
real components: the card layer over PC/SC (``PcscCard`` with the package's trust anchors, ``MonitorCardEvents``),
the central poll book and the sync worker over mutual TLS, the election core's encryption into the ballot box
(``RealBallots``), the staff functions over the ballot box and the signed audit log (``BoxAudit``). The CLI
(``run_kiosk.py``), the UI tests and the election day's kiosks (``devtools/election_day/kiosk_node.py``) all build
their kiosk here; what they legitimately replace (the clock, the randomness, the offline roll) are typed keyword
arguments of ``build_station``. What it checks before it starts, each a ``StartRefused`` for staff, is
``kiosk.start_checks``; the ballot box is opened last, so a refused kiosk has set nothing up.

No Kivy here: the app (``kiosk.ui.app.KioskApp``) takes ``Station.services``.
"""

from __future__ import annotations

import datetime as dt
import logging
import secrets
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from nacl.public import PublicKey as SealPublicKey
from sqlalchemy.exc import SQLAlchemyError

from election.confirmation import genesis_code
from election.context import ElectionContext
from election.manifest import CandidateId, KioskId
from election.package import ElectionPackage
from kiosk.adapters.ballots import RealBallots
from kiosk.adapters.card import PcscCard, trust_anchors_of
from kiosk.adapters.card_events import MonitorCardEvents
from kiosk.adapters.local import BoxStaff
from kiosk.adapters.pollbook import CentralPollBook
from kiosk.ballot_box import DEFAULT_MIN_BATCH, BallotBox
from kiosk.card.profile import CardProfile, ProfileError, load_all_profiles, load_named_profile
from kiosk.card.session import CardAuthenticator
from kiosk.polls import PollsState
from kiosk.services import KioskServices
from kiosk.session import SessionConfig
from kiosk.session.model import KioskMode, StaffStatus
from kiosk.start_checks import (
    REFUSED,
    STAFF_ADVICE,
    StartRefused,
    election_keys,
    first_reader,
    kiosk_identity,
    load_election_package,
    open_box,
    read_offline_roll,
)
from kiosk.ui_text import Catalogue
from sync.client import SyncClient, TlsIdentity
from sync.worker import SyncWorker, WorkerConfig

log = logging.getLogger("kiosk")

__all__ = [  # the refusals (kiosk.start_checks) are imported from here by the CLI and the election day's kiosks
    "REFUSED",
    "STAFF_ADVICE",
    "BoxAudit",
    "StartRefused",
    "Station",
    "StationConfig",
    "box_status",
    "build_station",
    "load_election_package",
    "read_offline_roll",
    "utc_now",
]


@dataclass(frozen=True)
class StationConfig:
    """A polling-station kiosk's configuration (``run_kiosk.py``'s station options, docs/kiosk.md)."""

    package: Path
    """The signed election package (.sanduq)."""
    commission_key: Path
    """The election commission's Ed25519 public key (PEM) that signed the package."""
    kiosk_id: str
    """This kiosk's id in the manifest."""
    central_url: str
    """The central office, ``https://host:port`` (mutual TLS)."""
    kiosk_cert: Path
    kiosk_key: Path
    """This kiosk's TLS client certificate and private key (PEM); the key also signs the ballots and the audit log."""
    central_ca: Path
    """The CA of the central office's TLS certificate (PEM)."""
    db: Path
    """The ballot box database (created on first start)."""
    reader: str | None = None
    """The PC/SC reader name; None: the first reader pcscd reports."""
    card_profile: str = "oman_ias"
    """The default ID card profile (the card's ATR selects among all profiles)."""
    offline_roll: Path | None = None
    """The centre's copy of the roll (CSV): provisional ballots while the office is unreachable."""
    batch_window: float | None = None
    """Seconds after which fewer than ``min_batch`` ballots are sent anyway (``WorkerConfig.batch_window``)."""
    min_batch: int = DEFAULT_MIN_BATCH
    """The fewest ballots in a batch while the polls are open."""
    sync_interval: float = 2.0
    """Seconds between the sync worker's rounds while online."""
    connect_timeout: float = 3.0
    read_timeout: float = 10.0
    """The sync client's timeouts towards the office (seconds)."""
    software_version: str = "sanduq-kiosk"
    """What the kiosk reports to the office in its heartbeat."""


@dataclass
class Station:
    """A composed polling-station kiosk: the verified package, the card layer, the central poll book, the
    encryption into the ballot box, the staff functions, the signed audit log and the sync worker."""

    config: StationConfig
    package: ElectionPackage
    services: KioskServices
    card: PcscCard
    card_events: MonitorCardEvents
    poll_book: CentralPollBook
    ballots: RealBallots
    staff: BoxStaff
    audit: BoxAudit
    box: BallotBox
    client: SyncClient
    worker: SyncWorker
    reader: str

    def shutdown(self) -> None:
        self.card_events.stop()
        self.worker.stop()
        self.box.close()


class BoxAudit:
    """AuditPort for the station kiosk: session and staff events go to the ballot box's signed, hash-chained
    audit log (synced to the central office with the rest of the log); they carry no votes, PINs or identities.

    A ballot box that cannot write (a full disk) loses the event, said in the kiosk's log for staff: the session
    goes on to tell the voter that no vote was recorded (the cast fails as a whole) instead of the app stopping
    on a voter's screen."""

    def __init__(self, box: BallotBox) -> None:
        self._box = box

    def record(self, kind: str, detail: str) -> None:
        audit_log = logging.getLogger("kiosk.audit")
        audit_log.info("%s: %s", kind, detail)
        try:
            self._box.record_session_event(kind, detail)
        except SQLAlchemyError as exc:
            audit_log.error(
                "the ballot box cannot write its audit log (%s): the session event %r is not in it. Staff: free "
                "space or move the ballot box database, then restart the kiosk.",
                type(exc).__name__,
                kind,
            )


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def build_station(
    config: StationConfig,
    *,
    now: Callable[[], dt.datetime] = utc_now,
    random_bytes: Callable[[int], bytes] = secrets.token_bytes,
    offline_roll: Mapping[str, str] | None = None,
    start_worker: bool = True,
) -> Station:
    """Compose the real components for ``config``; every configuration problem is a ``StartRefused``.

    Overrides: ``now`` the clock (card validity, the sync worker's wall clock, the status screen), ``random_bytes``
    the randomness (card challenges, ballot encryption), ``offline_roll`` the centre's roll as civil number ->
    ballot style instead of ``config.offline_roll``'s file, ``start_worker=False`` to run the sync rounds by hand.
    """
    package = load_election_package(config.package, config.commission_key)
    for warning in package.warnings:
        log.warning("election package: %s", warning)
    log.info("election package %s verified (hash %s...)", config.package.name, package.package_hash[:16])
    manifest = package.manifest
    kiosk = manifest.kiosks_by_id.get(KioskId(config.kiosk_id))
    if kiosk is None:
        raise StartRefused(f"kiosk {config.kiosk_id!r} is not in the election package's manifest")
    context, envelope_key = election_keys(config.package, package)
    if not config.central_url.startswith("https://"):
        raise StartRefused(f"the central office address must be https:// (mutual TLS), not {config.central_url!r}")
    signer = kiosk_identity(
        config.kiosk_cert,
        config.kiosk_key,
        config.central_ca,
        kiosk_id=kiosk.id,
        kiosk_ca=package.kiosk_ca,
        now=now(),
    )
    try:
        profile = load_named_profile(config.card_profile)
        profiles = load_all_profiles()
    except (ProfileError, OSError) as exc:
        raise StartRefused(f"the card profile {config.card_profile!r} cannot be loaded ({exc})") from None
    centre = str(kiosk.centre)
    if offline_roll is None:
        offline_roll = read_offline_roll(config.offline_roll, manifest, centre) if config.offline_roll else {}
    reader = config.reader or first_reader()
    # The ballot box last: a kiosk refused above has set nothing up; past here nothing refuses, and a failure
    # (a bug) still closes the box before it propagates.
    genesis = genesis_code(context.base_hash, kiosk.id).hex()
    box = open_box(config.db, signer, kiosk.id, centre, genesis, min_batch=config.min_batch)
    try:
        return _compose(
            config, package, box, reader=reader, kiosk_id=kiosk.id, centre=centre, context=context,
            envelope_key=envelope_key, profile=profile, profiles=profiles, offline_roll=dict(offline_roll), now=now,
            random_bytes=random_bytes, start_worker=start_worker,
        )  # fmt: skip
    except BaseException:
        box.close()
        raise


def _compose(
    config: StationConfig,
    package: ElectionPackage,
    box: BallotBox,
    *,
    reader: str,
    kiosk_id: KioskId,
    centre: str,
    context: ElectionContext,
    envelope_key: bytes,
    profile: CardProfile,
    profiles: Sequence[CardProfile],
    offline_roll: dict[str, str],
    now: Callable[[], dt.datetime],
    random_bytes: Callable[[int], bytes],
    start_worker: bool,
) -> Station:
    """The components over the checked configuration and the open ballot box (nothing here refuses)."""
    manifest = package.manifest

    client = SyncClient(
        config.central_url,
        TlsIdentity(config.kiosk_cert, config.kiosk_key, config.central_ca),
        connect_timeout=config.connect_timeout,
        read_timeout=config.read_timeout,
    )
    worker = SyncWorker(
        box,
        client,
        WorkerConfig(
            software_version=config.software_version,
            package_hash=package.package_hash,
            interval=config.sync_interval,
            batch_window=config.batch_window,
        ),
        monotonic=time.monotonic,
        wall_clock=now,
    )
    poll_book = CentralPollBook(client, box, kiosk_id, centre, offline_roll=offline_roll)
    ballots = RealBallots(
        manifest,
        context,
        box,
        poll_book,
        SealPublicKey(envelope_key),
        random_bytes=random_bytes,
        after_store=worker.wake,
    )
    authenticator = CardAuthenticator(
        profile,
        trust_anchors_of(package),
        kiosk_id,
        manifest.election_id,
        now,
        random_bytes,
        profiles=profiles,  # the card's ATR selects its profile; an unknown ATR: "not supported"
    )
    card = PcscCard(reader, authenticator)
    events = MonitorCardEvents(reader)

    def status_extra() -> tuple[str, ...]:
        sync = worker.status()
        last = sync.last_sync_at.isoformat(timespec="seconds") if sync.last_sync_at else "never"
        return (
            f"reader: {reader}",
            f"clock: {now().isoformat(timespec='seconds')}",
            f"central office: {config.central_url} ({'reachable' if sync.online else 'not reachable'})"
            + (f"; needs attention: {sync.fault}" if sync.fault else ""),
            f"last sync: {last}",
            f"election package hash: {package.package_hash[:16]}...",
        )

    staff = BoxStaff(box, lambda _staff_id: "", status_extra, card_of=card.staff_cards.get)
    audit = BoxAudit(box)
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
        audit=audit,
        catalogue=Catalogue.load(),
        photos=photo,
        card_events=events,
        kiosk_mode=KioskMode(
            polls_open=box.polls_state is PollsState.OPEN,
            polls_closed=box.polls_state is PollsState.CLOSED,
            manual_fallback=box.polls_state is PollsState.PAUSED,  # paused only by the switch to paper
        ),
        config=SessionConfig(manifest),
        where=kiosk_id,
        status=lambda: box_status(box, kiosk_id, lambda: worker.status().online, now=now),
    )
    if start_worker:
        worker.start()
    return Station(config, package, services, card, events, poll_book, ballots, staff, audit, box, client, worker,
                   reader)  # fmt: skip


def box_status(
    box: BallotBox,
    kiosk_id: str,
    online: Callable[[], bool | None] | None = None,
    *,
    now: Callable[[], dt.datetime] = utc_now,
) -> StaffStatus:
    """The staff screens' status of a kiosk with a ballot box (``online``: the sync worker's view of the office;
    None: a standalone kiosk)."""
    counts = box.counts()
    return StaffStatus(
        at=now(),
        kiosk_id=kiosk_id,
        ballots_cast=counts.cast + counts.provisional,
        check_ins=box.checkin_count(),
        outbox=None if online is None else counts.unsent_outbox + counts.pending_voted_marks + counts.pending_releases,
        office_reachable=None if online is None else online(),
    )
