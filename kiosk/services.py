"""What a composition root hands to the kiosk app (``kiosk.ui.app.KioskApp``): the ports, the manifest, the
strings and the session's configuration. No Kivy here, so that ``kiosk.bootstrap`` and the demo worlds can build
a kiosk in a process that has not set Kivy's environment yet."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from election.manifest import CandidateId, Manifest
from kiosk.ports import (
    AuditPort,
    BallotPort,
    CardEventsPort,
    CardPort,
    DemoControlsPort,
    PollBookPort,
    SilentSpeaker,
    SpeakerPort,
    StaffPort,
)
from kiosk.session import SessionConfig
from kiosk.session.model import KioskMode, StaffStatus
from kiosk.ui_text import Catalogue


@dataclass
class KioskServices:
    """Everything the composition root hands to the app."""

    manifest: Manifest
    card: CardPort
    poll_book: PollBookPort
    ballots: BallotPort
    staff: StaffPort
    audit: AuditPort
    catalogue: Catalogue
    photos: Callable[[CandidateId], bytes | None]
    card_events: CardEventsPort | None = None
    speaker: SpeakerPort = field(default_factory=SilentSpeaker)
    kiosk_mode: KioskMode = field(default_factory=KioskMode)
    config: SessionConfig | None = None
    demo: DemoControlsPort | None = None
    where: str = ""
    run_blocking: Callable[[Callable[[], None]], None] | None = None
    """Where blocking port calls run; default one worker thread. Scripts pass a manual worker."""
    status: Callable[[], StaffStatus] | None = None
    """This kiosk's counts and outbox for the staff screens (read when a staff screen is shown)."""
