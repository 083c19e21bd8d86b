"""Crash safety: the cast path SIGKILLed at random moments, 200 times, with real processes and real HTTPS.

After every kill the database must be consistent (each ballot fully recorded: ballot row, voted check-in,
audit entry, queued in the pool or a batch; or not at all), and after a final re-sync the office must hold
each ballot exactly once and each voted mark once, however many deliveries the kills caused.
"""

from __future__ import annotations

import datetime as dt
import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from kiosk.audit import verify_database
from kiosk.ballot_box import BallotBox
from sync.client import SyncClient, TlsIdentity
from sync.signing import Signer, load_cert_public_key
from sync.worker import SyncWorker, WorkerConfig
from tests.ballot_box.kit import KIOSK_ID, open_box
from tests.sync.fake_office import FakeOfficeState, create_fake_office
from tests.sync.tls_server import TlsServer
from tools.test_pki.model import TestPki

ROOT = Path(__file__).resolve().parents[2]
TRIALS = 200


class AnyVoter(dict[str, str]):
    """Every civil number is on the roll (the crash test draws them at random)."""

    def get(self, key: str, default: str | None = None) -> str | None:  # type: ignore[override]
        return "style-w1"


def consistency_problems(db: Path, key: object) -> list[str]:
    result = verify_database(db, key)  # type: ignore[arg-type]
    problems = [str(p) for p in result.problems]
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    orphans = con.execute(
        "SELECT count(*) FROM ballots WHERE batch_id IS NOT NULL"
        " AND batch_id NOT IN (SELECT idempotency_key FROM outbox)"
    ).fetchone()[0]
    con.close()
    if orphans:
        problems.append(f"{orphans} ballots point to a batch that is not in the outbox")
    return problems


@pytest.mark.integration
@pytest.mark.slow
def test_sigkill_anywhere_in_the_cast_path_loses_or_duplicates_nothing(tmp_path: Path, pki: TestPki) -> None:
    pair = pki.kiosks[KIOSK_ID]
    key = load_cert_public_key(pair.cert_path)
    state = FakeOfficeState(kiosk_keys={KIOSK_ID: key}, roll=AnyVoter())
    server = TlsServer(
        create_fake_office(state),
        cert=pki.central_server.cert_path,
        key=pki.central_server.key_path,
        client_ca=pki.kiosk_ca.cert_path,
    )
    server.start()
    db = tmp_path / "kiosk.db"
    signer = Signer.from_pem_file(pair.key_path)
    open_box(db, signer, min_batch=3).close()
    tls = TlsIdentity(pair.cert_path, pair.key_path, pki.central_ca.cert_path)
    zygote = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tests.ballot_box.crash_child",
            str(db),
            server.url,
            str(tls.cert),
            str(tls.key),
            str(tls.ca),
        ],
        cwd=ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert zygote.stdin is not None and zygote.stdout is not None
    rng = random.Random(20261122)
    killed = 0
    try:
        for trial in range(TRIALS):
            zygote.stdin.write(f"go {trial}\n")
            zygote.stdin.flush()
            pid = int(zygote.stdout.readline().split()[1])
            time.sleep(rng.uniform(0.0, 0.3))
            os.kill(pid, signal.SIGKILL)
            status = int(zygote.stdout.readline().split()[1])
            assert os.WIFSIGNALED(status), f"trial {trial}: the voting process ended by itself (status {status})"
            killed += 1
            problems = consistency_problems(db, key)
            assert not problems, f"trial {trial}: {problems[:5]}"
    finally:
        zygote.stdin.close()
        zygote.wait(10)
        zygote.stdout.close()

    # Restart and re-sync: everything the kiosk holds reaches the office exactly once.
    box = BallotBox.open(db, signer, min_batch=3)
    box.seal_batches(force=True)
    client = SyncClient(server.url, tls)
    worker = SyncWorker(
        box, client, WorkerConfig("t", "0" * 64), monotonic=time.monotonic, wall_clock=lambda: dt.datetime.now(dt.UTC)
    )
    assert worker.run_once()
    client.close()
    server.stop()
    stored = {b.ballot_id for b in box.export_ballots()}
    counts = box.counts()
    assert killed == TRIALS
    assert counts.cast == len(stored) >= 20, "too few ballots cast to mean anything"
    assert set(state.ballots) == stored  # every ballot, and nothing else
    assert len(state.voted) == counts.cast  # one voted mark per cast ballot, none lost, none doubled
    assert sum(len(b) for b in state.batch_log) == len(state.ballot_deliveries)
    assert len(state.ballot_deliveries) >= len(stored)
    print(
        f"{TRIALS} kills, {counts.cast} ballots cast, {len(state.ballot_deliveries)} ballot deliveries, "
        f"{len(state.batches)} batches, {counts.unsent_outbox} unsent after re-sync"
    )
