"""The kiosk's background sync worker: store-and-forward from the ballot box to the central office.

One round (``run_once``): seal due batches; send pending voted marks and releases (in random order: their
order carries no meaning and must not mirror the order voters came in); send the outbox strictly in
sequence (batches and provisional submissions: an item is marked sent only after the office acknowledged
it, so a crash or timeout leads to a byte-identical resend that the office de-duplicates); send new audit
entries; send a heartbeat. Any ``Unreachable`` ends the round: the kiosk is offline, the queue keeps
growing, and the next round starts after an exponential, jittered backoff. Clock, randomness and waiting
are injected. What the worker needs from the ballot box, its config and its status are in ``sync.worker_ports``.
"""

from __future__ import annotations

import datetime as dt
import logging
import secrets
import threading
from collections.abc import Callable
from dataclasses import replace

from sync.client import Backoff, Rejected, SyncClient, Unreachable
from sync.protocol import (
    AuditEntryWire,
    AuditHead,
    AuditSegment,
    Backlog,
    CheckinRelease,
    Heartbeat,
    KioskPollsState,
    ReleaseReason,
    VotedMark,
)
from sync.worker_ports import KioskQueue, StaffMember, SyncStatus, WorkerConfig

log = logging.getLogger(__name__)
_rng = secrets.SystemRandom()

AUDIT_SEGMENT_SIZE = 500

__all__ = ["AUDIT_SEGMENT_SIZE", "KioskQueue", "SyncStatus", "SyncWorker", "WorkerConfig"]


class SyncWorker:
    def __init__(
        self,
        queue: KioskQueue,
        client: SyncClient,
        config: WorkerConfig,
        *,
        monotonic: Callable[[], float],
        wall_clock: Callable[[], dt.datetime],
        backoff: Backoff | None = None,
    ) -> None:
        self._queue = queue
        self._client = client
        self._config = config
        self._monotonic = monotonic
        self._wall_clock = wall_clock
        self._backoff = backoff or Backoff()
        self._status = SyncStatus()
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._pool_since: float | None = None  # in memory only: no time is stored with ballots
        self._marks_since: float | None = None  # when the oldest held voted mark was first seen (in memory)
        self._marks_held = False
        self._faults: dict[str, str] | None = None  # what the office refused, by item; loaded on the first round
        self._last_round_rejected = False

    # ---- status --------------------------------------------------------------------------------------

    def status(self) -> SyncStatus:
        with self._lock:
            return self._status

    def _set_status(self, change: Callable[[SyncStatus], SyncStatus]) -> None:
        """``change`` (a type-checked ``replace``) applied to the current status under the lock."""
        with self._lock:
            self._status = change(self._status)

    def _backlog(self) -> Backlog:
        c = self._queue.counts()
        return Backlog(
            unbatched_ballots=c.unbatched,
            outbox_items=c.unsent_outbox,
            pending_voted_marks=c.pending_voted_marks,
            pending_releases=c.pending_releases,
        )

    # ---- faults --------------------------------------------------------------------------------------------

    def _fault_book(self) -> dict[str, str]:
        if self._faults is None:
            self._faults = {
                f"refused:{batch_id}": _refusal_text(refused)
                for batch_id, refused in self._queue.unacknowledged_refusals()
            }
        return self._faults

    def _fault_text(self) -> str | None:
        with self._lock:
            faults = self._fault_book()
            return "; ".join(faults[k] for k in sorted(faults)) or None

    def _raise_fault(self, key: str, text: str) -> None:
        with self._lock:
            self._fault_book()[key] = text

    def _clear_fault(self, key: str) -> None:
        with self._lock:
            self._fault_book().pop(key, None)

    def acknowledge_faults(self, staff: StaffMember) -> None:
        """Staff have seen the sync fault: it is logged (kiosk audit log) and cleared. A queued item the office
        still refuses raises it again at its next attempt."""
        self._queue.acknowledge_sync_faults(staff)
        with self._lock:
            self._faults = {}
        self._set_status(lambda s: replace(s, fault=None))

    # ---- one round --------------------------------------------------------------------------------------

    def run_once(self) -> bool:
        """One full sync round; True when everything queued was delivered."""
        self._last_round_rejected = False
        try:
            self._seal_due()
            self._send_checkin_updates()
            self._send_outbox()
            self._send_audit()
            self._send_heartbeat()
        except Unreachable as exc:
            error, backlog, fault = str(exc), self._backlog(), self._fault_text()
            self._set_status(lambda s: replace(s, online=False, last_error=error, backlog=backlog, fault=fault))
            return False
        except Rejected as exc:
            log.error("the central office rejected a queued item: %s", exc)
            self._last_round_rejected = True
            error, fault, backlog = str(exc), self._fault_text(), self._backlog()
            self._set_status(lambda s: replace(s, online=True, fault=fault, last_error=error, backlog=backlog))
            return False
        backlog = self._backlog()
        fault, now = self._fault_text(), self._wall_clock()
        self._set_status(
            lambda s: replace(s, online=True, last_error=None, fault=fault, backlog=backlog, last_sync_at=now)
        )
        marks_done = backlog.pending_voted_marks == 0 or self._marks_held
        return backlog.outbox_items == 0 and marks_done and backlog.pending_releases == 0

    def _seal_due(self) -> None:
        unbatched = self._queue.counts().unbatched
        if unbatched == 0:
            self._pool_since = None
            return
        now = self._monotonic()
        if self._pool_since is None:
            self._pool_since = now
        window = self._config.batch_window
        force = window is not None and now - self._pool_since >= window
        if self._queue.seal_batches(force=force):
            self._pool_since = None if force or self._queue.counts().unbatched == 0 else now

    def _marks_due(self) -> bool:
        pending = self._queue.counts().pending_voted_marks
        if pending == 0:
            self._marks_since = None
            return False
        now = self._monotonic()
        if self._marks_since is None:
            self._marks_since = now
        return (
            pending >= self._config.mark_group
            or now - self._marks_since >= min(self._config.mark_window, self._config.batch_window or float("inf"))
            or self._queue.polls_state.value == KioskPollsState.CLOSED.value
        )

    def _send_checkin_updates(self) -> None:
        kiosk_id = self._queue.kiosk_id
        send_marks = self._marks_due()
        self._marks_held = not send_marks
        while updates := [u for u in self._queue.pending_checkin_updates(limit=1000) if send_marks or u[1] != "voted"]:
            _rng.shuffle(updates)
            for token, status, reason in updates:
                key = f"checkin:{token}"
                try:
                    if status == "voted":
                        self._client.voted(token, VotedMark(kiosk_id=kiosk_id))
                    else:
                        self._client.release(token, CheckinRelease(kiosk_id=kiosk_id, reason=ReleaseReason(reason)))
                except Rejected as exc:
                    self._raise_fault(key, f"the office refused a queued {status} mark: {exc}")
                    raise
                self._queue.mark_checkin_synced(token)
                self._clear_fault(key)
        if send_marks:
            self._marks_since = None

    def _send_outbox(self) -> None:
        while items := self._queue.unsent_outbox():
            for item in items:
                key, refused = f"outbox:{item.seq}", 0
                try:
                    if item.kind == "batch":
                        receipt = self._client.send_batch(item.body)
                        refused = receipt.rejected
                    elif item.kind == "chain_close":  # the signed chain close, queued after the final batch
                        self._client.send_chain_close(item.body)
                    else:
                        self._client.send_provisional(item.body)
                except Unreachable as exc:
                    self._queue.record_outbox_failure(item.seq, str(exc))
                    raise
                except Rejected as exc:
                    self._queue.record_outbox_failure(item.seq, str(exc))
                    self._raise_fault(key, f"the office refused a queued {item.kind}: {exc}")
                    raise
                # Delivered: never resent. Refused ballots are logged in the same transaction (kiosk audit log),
                # so the fault survives a restart until staff acknowledge it.
                self._queue.mark_outbox_sent(item.seq, refused=refused)
                self._clear_fault(key)
                if refused:
                    log.error("the office refused %d ballot(s) of batch %s", refused, item.idempotency_key)
                    self._raise_fault(f"refused:{item.idempotency_key}", _refusal_text(refused))

    def _send_audit(self) -> None:
        """Audit entries leave only up to ``audit_releasable_through`` (the last entry covered by a delivered batch):
        a ``ballot_cast`` entry names its ballot (id, hash, code), so sent before its batch it would arrive right
        after that voter's check-in; and the segment's head is the signed head of exactly what is sent, never the
        current one (whose count grows with every voter's session events)."""
        kiosk_id = self._queue.kiosk_id
        releasable = self._queue.audit_releasable_through()
        while True:
            done = self._queue.audit_synced_through()
            if done >= releasable:
                return
            rows = self._queue.audit_entries_after(done, min(AUDIT_SEGMENT_SIZE, releasable - done))
            if not rows:
                return
            count, head_hash, head_sig = self._queue.signed_audit_head_at(rows[-1].seq)
            segment = AuditSegment(
                kiosk_id=kiosk_id,
                entries=[
                    AuditEntryWire.model_validate(
                        {
                            "seq": r.seq,
                            "kind": r.kind,
                            "payload": _json_object(r.payload),
                            "prev_hash": r.prev_hash,
                            "entry_hash": r.entry_hash,
                            "signature": r.signature,
                        }
                    )
                    for r in rows
                ],
                head=AuditHead(count=count, head_hash=head_hash, signature=head_sig),
            )
            try:
                ack = self._client.send_audit_segment(segment)
            except Rejected as exc:
                self._raise_fault("audit", f"the office refused the kiosk's audit log: {exc}")
                raise
            self._clear_fault("audit")
            if ack.stored_through <= done:
                return  # the office holds less than we thought: resume from its answer next round
            self._queue.set_audit_synced_through(min(ack.stored_through, rows[-1].seq))

    def _coarse_backlog(self) -> Backlog:
        """The backlog as the heartbeat reports it: no count that changes with each cast. Ballots not yet batched
        and voted marks not yet sent are rounded up to whole groups (``min_batch``, ``mark_group``), so in normal
        operation the office learns only whether the pool and the held marks are empty (zero stays exact: the
        office ends an expired lock only on ``pending_voted_marks == 0``)."""
        b = self._backlog()
        return Backlog(
            unbatched_ballots=_round_up(b.unbatched_ballots, self._queue.min_batch),
            outbox_items=b.outbox_items,
            pending_voted_marks=_round_up(b.pending_voted_marks, self._config.mark_group),
            pending_releases=b.pending_releases,
        )

    def _send_heartbeat(self) -> None:
        last_sync = self.status().last_sync_at
        beat = Heartbeat(
            kiosk_id=self._queue.kiosk_id,
            centre_id=self._queue.centre_id,
            polls_state=KioskPollsState(self._queue.polls_state.value),
            kiosk_clock=self._wall_clock(),
            software_version=self._config.software_version,
            package_hash=self._config.package_hash,
            backlog=self._coarse_backlog(),
            audit_count=self._queue.audit_synced_through(),  # what the office was sent, not the growing head
            last_sync_at=last_sync.replace(second=0, microsecond=0) if last_sync is not None else None,
        )
        try:
            self._client.heartbeat(beat)
        except Rejected as exc:
            self._raise_fault("heartbeat", f"the office refused the heartbeat: {exc}")
            raise
        self._clear_fault("heartbeat")

    # ---- the thread ------------------------------------------------------------------------------------------

    def start(self) -> None:
        if self._thread is not None:
            raise RuntimeError("the sync worker is already running")
        self._thread = threading.Thread(target=self._run, name="sync-worker", daemon=True)
        self._thread.start()

    def wake(self) -> None:
        """Something was stored (a cast) or the network may be back. While online this changes nothing: rounds run
        every ``interval`` seconds whatever the voters do, so no message leaves because a voter just cast (a round
        per cast would put a request on the wire seconds after each voter's check-in). While offline it ends the
        backoff wait, so a queue that waits for the network is retried at once."""
        if not self.status().online:
            self._wake.set()

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                ok = self.run_once()
            except Exception:  # a bug must not silently end store-and-forward
                log.exception("sync round failed")
                self._set_status(lambda s: replace(s, online=False, last_error="internal error in sync round"))
                ok = False
            if self.status().online and not self._last_round_rejected:
                self._backoff.reset()
                delay = self._config.interval if ok else 0.0
            else:
                delay = self._backoff.next_delay()
            self._wake.wait(delay)
            self._wake.clear()


def _round_up(value: int, group: int) -> int:
    return -(-value // group) * group if group > 1 else value


def _refusal_text(refused: int) -> str:
    return f"the office refused {refused} ballot(s) of a delivered batch (kept by the office with the reason)"


def _json_object(text: str) -> dict[str, object]:
    import json

    value = json.loads(text)
    if not isinstance(value, dict):
        raise ValueError("audit payload is not an object")
    return value
