"""A sync worker tuned for tests (short intervals and backoff) and a wait for its queue to drain."""

from __future__ import annotations

import datetime as dt
import time

from kiosk.ballot_box import BallotBox
from sync.client import Backoff, SyncClient
from sync.worker import SyncWorker, WorkerConfig


def make_worker(box: BallotBox, client: SyncClient, window: float = 0.2, mark_group: int = 1) -> SyncWorker:
    """``mark_group=1``: voted marks leave at once (tests of delivery); the secrecy test groups them."""
    return SyncWorker(
        box,
        client,
        WorkerConfig("test", "0" * 64, interval=0.05, batch_window=window, mark_group=mark_group),
        monotonic=time.monotonic,
        wall_clock=lambda: dt.datetime.now(dt.UTC),
        backoff=Backoff(base=0.02, cap=0.2),
    )


def wait_until_drained(worker: SyncWorker, box: BallotBox, deadline_s: float = 60) -> None:
    deadline = time.monotonic() + deadline_s
    while time.monotonic() < deadline:
        s, c = worker.status(), box.counts()
        queued = c.unsent_ballots + c.pending_voted_marks + c.pending_releases
        if s.online and queued == 0 and box.audit_synced_through() == box.audit_head()[0]:
            return
        time.sleep(0.05)
    raise AssertionError(f"the queue did not drain: {worker.status()} {box.counts()}")
