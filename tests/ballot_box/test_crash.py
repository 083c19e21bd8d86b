"""Crash safety against the REAL central office: the cast path SIGKILLed at random moments, 200 times, with
real processes, real encrypted ballots and real HTTPS with mutual TLS to ``python -m central serve`` on
PostgreSQL.

After every kill the kiosk database must be consistent (each ballot fully recorded: ballot row, voted check-in,
chain head, signed audit entry, queued in the pool or a batch; or not at all). After a restart and a final
re-sync, the office's own database must hold each ballot the kiosk cast exactly once (the set of accepted
ballot ids equals the kiosk's, none refused), its encrypted tally must be the homomorphic sum of exactly those
ballots (each counted once, per contest), its chain head must be the kiosk's, and its poll book must show one
voted mark per cast ballot, however many deliveries the kills caused.

Speed: the ballots are encrypted once up front (a pool with distinct ballot ids); a ballot is chained to the
kiosk's head when it is cast, which costs one hash, so each trial needs no encryption.
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
from collections.abc import Iterator
from pathlib import Path
from typing import IO

import pytest

from devtools.real_office import (
    KIOSK_ID,
    CentralOffice,
    RealElection,
    accepted_ids,
    build_election,
    central_view,
    encrypt_pool,
    expected_tally,
    roll,
    tally_of,
    write_pool,
)
from kiosk.audit import verify_database
from kiosk.ballot_box import BallotBox
from kiosk.polls import PollsAction
from sync.client import SyncClient
from sync.signing import PublicKey, load_cert_public_key
from sync.worker import SyncWorker, WorkerConfig
from tests.ballot_box.kit import CHAIR

ROOT = Path(__file__).resolve().parents[2]
TRIALS = 200
VOTERS_PER_TRIAL = 3
FIRST_VOTER = 90_000_000


def consistency_problems(db: Path, key: PublicKey) -> list[str]:
    result = verify_database(db, key)
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


@pytest.fixture(scope="module")
def election(tmp_path_factory: pytest.TempPathFactory) -> RealElection:
    return build_election(tmp_path_factory.mktemp("crash-election"))


@pytest.fixture(scope="module")
def central(
    election: RealElection, pg_database: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[CentralOffice]:
    office = CentralOffice(election, pg_database, tmp_path_factory.mktemp("central"))
    office.initialise(roll(TRIALS * VOTERS_PER_TRIAL, FIRST_VOTER))
    office.start()
    yield office
    office.close()


@pytest.mark.integration
@pytest.mark.slow
def test_sigkill_anywhere_in_the_cast_path_loses_or_duplicates_nothing_at_the_real_office(
    tmp_path: Path, election: RealElection, central: CentralOffice
) -> None:
    pair = election.pki.kiosks[KIOSK_ID]
    key = load_cert_public_key(pair.cert_path)
    db = tmp_path / "kiosk.db"
    election.open_kiosk(db, min_batch=3).close()
    pool_file = tmp_path / "pool.jsonl"
    write_pool(pool_file, encrypt_pool(election, TRIALS * VOTERS_PER_TRIAL))
    tls = election.tls()
    tls_args = [str(tls.cert), str(tls.key), str(tls.ca)]
    zygote = subprocess.Popen(
        [sys.executable, "-m", "tests.ballot_box.crash_child", str(db), central.url, *tls_args, str(pool_file)],
        cwd=ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert zygote.stdin is not None and zygote.stdout is not None
    assert zygote.stdout.readline().strip() == "ready"
    rng = random.Random(20261122)
    killed = 0
    try:
        for trial in range(TRIALS):
            zygote.stdin.write(f"go {FIRST_VOTER + trial * VOTERS_PER_TRIAL} {VOTERS_PER_TRIAL}\n")
            zygote.stdin.flush()
            pid = opened_child(zygote.stdout)
            time.sleep(rng.uniform(0.0, 0.25))  # from the open database on (a loaded machine opens it slowly)
            os.kill(pid, signal.SIGKILL)
            status = int(zygote.stdout.readline().split()[1])
            assert os.WIFSIGNALED(status), f"trial {trial}: the voting process ended by itself (status {status})"
            killed += 1
            problems = consistency_problems(db, key)
            assert not problems, f"trial {trial}: {problems[:5]}"
    finally:
        trial_failed = sys.exc_info()[0] is not None
        zygote.stdin.close()
        try:
            zygote.wait(10)
        except subprocess.TimeoutExpired:
            zygote.kill()  # after a failed trial it may wait on a voting process: end it, keep the trial's failure
            zygote.wait()
            if not trial_failed:
                raise AssertionError("the zygote did not exit within 10 s of its input's end") from None
        finally:
            zygote.stdout.close()

    # Restart and re-sync in bulk: everything the kiosk holds reaches the office exactly once.
    box = BallotBox.open(db, election.signer(), min_batch=3)
    box.apply(PollsAction.CLOSE, CHAIR)  # seals the last batch; held voted marks leave with it
    client = SyncClient(central.url, tls, read_timeout=60)
    worker = SyncWorker(box, client, WorkerConfig("t", "0" * 64), monotonic=time.monotonic, wall_clock=_now)
    assert worker.run_once()
    client.close()
    kiosk_ballots = box.export_ballots()
    cast = {b.ballot_id for b in kiosk_ballots}
    counts = box.counts()
    view = central_view(central.db)
    assert killed == TRIALS
    assert counts.cast == len(cast) >= 100, "too few ballots cast to mean anything"
    assert accepted_ids(view) == cast  # every ballot the kiosk cast, and nothing else ...
    assert len(view.ballots) == len(cast)  # ... with no refused or extra ballot rows
    assert view.accepted_per_kiosk[KIOSK_ID] == len(cast)
    assert tally_of(view) == expected_tally(election, kiosk_ballots)  # each ballot in the tally exactly once
    assert view.chain_heads[KIOSK_ID] == box.chain_head
    assert view.voted == counts.cast  # one voted mark per cast ballot, none lost, none doubled
    box.close()
    print(f"{TRIALS} kills, {counts.cast} ballots cast and accepted once by the office, {counts.unsent_outbox} unsent")


def opened_child(lines: IO[str]) -> int:
    """The voting process's pid, once it says its database is open (the zygote's ``pid`` line and the child's
    ``open`` line come in either order)."""
    pid, opened = None, False
    while pid is None or not opened:
        word, *rest = lines.readline().split()
        assert word in ("pid", "open"), f"the voting process ended before its database was open ({word} {rest})"
        pid, opened = (int(rest[0]), opened) if word == "pid" else (pid, True)
    return pid


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)
