"""The sync worker's edges: what it needs from the kiosk's ballot box (``KioskQueue``), how it is tuned
(``WorkerConfig``) and what it reports to the kiosk's screens (``SyncStatus``). The worker itself is
``sync.worker.SyncWorker``."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

from sync.protocol import Backlog


class AuditRow(Protocol):
    """One stored entry of the kiosk's audit log, its payload as JSON text."""

    @property
    def seq(self) -> int: ...
    @property
    def kind(self) -> str: ...
    @property
    def payload(self) -> str: ...
    @property
    def prev_hash(self) -> str: ...
    @property
    def entry_hash(self) -> str: ...
    @property
    def signature(self) -> str: ...


class OutboxItem(Protocol):
    """One queued submission (``kind``: batch, provisional or chain_close), its body the exact bytes to send."""

    @property
    def seq(self) -> int: ...
    @property
    def kind(self) -> str: ...
    @property
    def idempotency_key(self) -> str: ...
    @property
    def body(self) -> bytes: ...


class QueueCounts(Protocol):
    @property
    def unbatched(self) -> int: ...
    @property
    def unsent_outbox(self) -> int: ...
    @property
    def pending_voted_marks(self) -> int: ...
    @property
    def pending_releases(self) -> int: ...


class PollsStateValue(Protocol):
    """The kiosk's polls state, an enum whose values are those of ``sync.protocol.KioskPollsState``."""

    @property
    def value(self) -> str: ...


class StaffMember(Protocol):
    """A staff member authenticated by the kiosk's card layer (kiosk.polls.StaffCard)."""

    def to_dict(self) -> dict[str, str]: ...


class KioskQueue(Protocol):
    """What the worker needs from the ballot box (kiosk.ballot_box.BallotBox implements it)."""

    @property
    def kiosk_id(self) -> str: ...
    @property
    def centre_id(self) -> str: ...
    @property
    def polls_state(self) -> PollsStateValue: ...
    def seal_batches(self, *, force: bool = False) -> list[str]: ...
    def counts(self) -> QueueCounts: ...
    def pending_checkin_updates(self, limit: int = 100) -> Sequence[tuple[str, str, str | None]]: ...
    def mark_checkin_synced(self, token: str) -> None: ...
    def unsent_outbox(self, limit: int = 10) -> Sequence[OutboxItem]: ...
    def mark_outbox_sent(self, seq: int, *, refused: int = 0) -> None: ...
    def record_outbox_failure(self, seq: int, error: str) -> None: ...
    def unacknowledged_refusals(self) -> Sequence[tuple[str, int]]: ...
    def acknowledge_sync_faults(self, staff: StaffMember) -> None: ...
    def audit_synced_through(self) -> int: ...
    def set_audit_synced_through(self, seq: int) -> None: ...
    def audit_entries_after(self, seq: int, limit: int) -> Sequence[AuditRow]: ...
    def audit_head(self) -> tuple[int, str, str]: ...
    def audit_releasable_through(self) -> int: ...
    def signed_audit_head_at(self, seq: int) -> tuple[int, str, str]: ...
    @property
    def min_batch(self) -> int: ...


@dataclass(frozen=True)
class SyncStatus:
    """What the kiosk UI shows: reachable or not, what is still queued, when the last full sync ended."""

    online: bool = False
    backlog: Backlog = field(
        default_factory=lambda: Backlog(unbatched_ballots=0, outbox_items=0, pending_voted_marks=0, pending_releases=0)
    )
    last_sync_at: dt.datetime | None = None
    last_error: str | None = None
    fault: str | None = None
    """Set while something the office refused needs staff attention: a queued item answered 4xx (retried at the
    slowest pace; the fault ends when that item is delivered or staff acknowledge it), or ballots the office
    refused in a delivered batch (never resent; the fault ends only when staff acknowledge it, also across a
    kiosk restart: the refusal is in the kiosk's audit log)."""


@dataclass(frozen=True)
class WorkerConfig:
    software_version: str
    package_hash: str
    interval: float = 2.0
    """Seconds between rounds while online."""
    batch_window: float | None = None
    """Seconds after which a pool of fewer than ``min_batch`` ballots is sealed anyway. ``None`` (the production
    default): never; a smaller pool waits for more ballots or for the polls' close. A batch places each of its
    voters only among its own ballots, so a batch sealed by a timer at a quiet kiosk (ten voters take longer
    than ten minutes at most kiosks) would place them among two or three. Set it only where quick delivery
    matters more than mixing: tests and demos."""
    mark_window: float = 600.0
    """The longest that voted marks are held back (see ``mark_group``); a shorter ``batch_window`` shortens it too."""
    mark_group: int = 10
    """Voted marks are held until this many are pending (or ``mark_window`` has passed since the first of them
    was seen, or the polls are closed), then sent together in random order. A mark sent right after each cast
    would reach the office in cast order, and the office's database would keep that order (PostgreSQL stamps
    every updated voter row with its transaction id), which the confirmation-code chain could then match to
    the ballots; grouped and shuffled, the marks place a voter only within a group, as batches do for ballots.
    Releases are never held (a voter who left must be free to vote elsewhere at once)."""
