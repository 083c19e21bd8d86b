"""Child process for the crash test: a zygote that imports everything and reads the pool of real encrypted
ballots once, then forks one voting process per trial. Before forking, the zygote checks in the trial's voters
at the real central office (HTTPS, mutual TLS), so the time the test spends waiting to kill goes to the cast
path; the forked process opens the kiosk database and loops record check-in -> cast (the next pooled ballot not
yet stored, chained after the current head) -> (every second cast) seal + a full sync round to the office,
until the test SIGKILLs it at a random moment.

Protocol on stdin/stdout, one line each: the test writes ``go <first voter> <count>``; the zygote answers
``pid <pid>`` and the child ``open`` once its database is open (in either order), then the zygote ``exit <status>``
once the child is dead.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import secrets
import sqlite3
import sys
import time
from collections.abc import Iterator
from pathlib import Path

from devtools.real_office import CENTRE_ID, KIOSK_ID, chained, read_pool
from election.ballot import EncryptedBallot
from kiosk.ballot_box import BallotBox
from sync.client import SyncClient, TlsIdentity, Unreachable
from sync.protocol import CheckinRequest, CheckinStatus
from sync.signing import Signer
from sync.worker import SyncWorker, WorkerConfig


def say(line: str) -> None:
    """One protocol line in ONE write: the zygote and its child share this pipe, and ``print`` writes the text and
    its newline separately (two system calls when stdout is unbuffered, as with PYTHONUNBUFFERED=1), so the
    child's ``open`` could land between them (``pid 7313open``: seen in a CI run)."""
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def check_in_voters(client: SyncClient, first: int, count: int) -> list[tuple[str, str]]:
    granted = []
    for civil in range(first, first + count):
        answer = client.checkin(
            CheckinRequest(
                kiosk_id=KIOSK_ID, centre_id=CENTRE_ID, civil_number=str(civil), idempotency_key=secrets.token_hex(16)
            )
        )
        if answer.status is not CheckinStatus.ELIGIBLE:
            raise RuntimeError(f"voter {civil}: {answer.status.value}")
        assert answer.checkin_token is not None and answer.ballot_style_id is not None
        granted.append((answer.checkin_token, answer.ballot_style_id))
    return granted


def unused(db: Path, pool: list[EncryptedBallot]) -> Iterator[EncryptedBallot]:
    """Pooled ballots the kiosk has not stored (a ballot whose cast was killed before COMMIT never left)."""
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    stored = {b for (b,) in con.execute("SELECT ballot_id FROM ballots")}
    con.close()
    for ballot in pool:
        if ballot.ballot_id not in stored:
            yield ballot
    raise RuntimeError("the pool of encrypted ballots is used up")


def vote_until_killed(
    db: Path, url: str, tls: TlsIdentity, voters: list[tuple[str, str]], pool: list[EncryptedBallot]
) -> None:
    box = BallotBox.open(db, Signer.from_pem_file(tls.key), min_batch=2)
    client = SyncClient(url, tls, connect_timeout=1, read_timeout=5)
    worker = SyncWorker(
        box,
        client,
        WorkerConfig("crash-test", "0" * 64, batch_window=0.05),
        monotonic=time.monotonic,
        wall_clock=lambda: dt.datetime.now(dt.UTC),
    )
    ballots = unused(db, pool)
    say("open")  # the database is open: the kill may come anywhere in the cast path from here
    for n, (token, style) in enumerate(voters, start=1):
        box.record_checkin(token, style)
        box.cast(token, chained(box, next(ballots)))
        if n % 2 == 0:
            box.seal_batches()
            with contextlib.suppress(Unreachable):
                worker.run_once()
    while True:  # out of voters: keep syncing until killed
        worker.run_once()


def main() -> None:
    db, url, cert, key, ca, pool_file = sys.argv[1:7]
    tls = TlsIdentity(Path(cert), Path(key), Path(ca))
    pool = read_pool(Path(pool_file))
    office = SyncClient(url, tls)
    say("ready")
    for line in sys.stdin:
        command, *args = line.split()
        if command != "go":
            break
        voters = check_in_voters(office, int(args[0]), int(args[1]))
        pid = os.fork()
        if pid == 0:
            try:
                vote_until_killed(Path(db), url, tls, voters, pool)
            finally:
                os._exit(3)  # only reached on an error: the test expects SIGKILL
        say(f"pid {pid}")
        _, status = os.waitpid(pid, 0)
        say(f"exit {status}")


if __name__ == "__main__":
    main()
