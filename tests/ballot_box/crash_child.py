"""Child process for the crash test: a zygote that imports everything once, then forks one voting process
per trial. Before forking, the zygote checks in a few voters at the office (real HTTPS), so the time the test
spends waiting to kill goes to the cast path; the forked process opens the kiosk database and loops record
check-in -> cast -> (every second cast) seal + sync over HTTPS, until the test SIGKILLs it at a random moment.

Protocol on stdin/stdout, one line each: the test writes ``go <seed>``; the zygote answers ``pid <pid>``,
then ``exit <status>`` once the child is dead.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import random
import secrets
import sys
import time
from pathlib import Path

from kiosk.ballot_box import BallotBox
from sync.client import SyncClient, TlsIdentity, Unreachable
from sync.protocol import CheckinRequest, CheckinStatus
from sync.signing import Signer
from sync.worker import SyncWorker, WorkerConfig
from tests.ballot_box.kit import CENTRE_ID, KIOSK_ID, chain_head, next_ballot


def check_in_voters(client: SyncClient, rng: random.Random, n: int) -> list[tuple[str, str]]:
    granted = []
    for _ in range(n):
        civil = str(rng.randrange(10_000_000, 99_999_999))
        answer = client.checkin(
            CheckinRequest(
                kiosk_id=KIOSK_ID, centre_id=CENTRE_ID, civil_number=civil, idempotency_key=secrets.token_hex(16)
            )
        )
        if answer.status is CheckinStatus.ELIGIBLE:
            assert answer.checkin_token is not None and answer.ballot_style_id is not None
            granted.append((answer.checkin_token, answer.ballot_style_id))
    return granted


def vote_until_killed(db: Path, url: str, tls: TlsIdentity, voters: list[tuple[str, str]]) -> None:
    box = BallotBox.open(db, Signer.from_pem_file(tls.key), min_batch=2)
    client = SyncClient(url, tls, connect_timeout=1, read_timeout=3)
    worker = SyncWorker(
        box,
        client,
        WorkerConfig("crash-test", "0" * 64, batch_window=0.05),
        monotonic=time.monotonic,
        wall_clock=lambda: dt.datetime.now(dt.UTC),
    )
    for n, (token, style) in enumerate(voters, start=1):
        box.record_checkin(token, style)
        box.cast(token, next_ballot(chain_head(box)))
        if n % 2 == 0:
            box.seal_batches()
            with contextlib.suppress(Unreachable):
                worker.run_once()
    while True:  # out of voters: keep syncing until killed
        worker.run_once()


def main() -> None:
    db, url, cert, key, ca = sys.argv[1:6]
    tls = TlsIdentity(Path(cert), Path(key), Path(ca))
    office = SyncClient(url, tls)
    for line in sys.stdin:
        command, _, arg = line.strip().partition(" ")
        if command != "go":
            break
        voters = check_in_voters(office, random.Random(int(arg)), 8)
        pid = os.fork()
        if pid == 0:
            try:
                vote_until_killed(Path(db), url, tls, voters)
            finally:
                os._exit(3)  # only reached on an error: the test expects SIGKILL
        print(f"pid {pid}", flush=True)
        _, status = os.waitpid(pid, 0)
        print(f"exit {status}", flush=True)


if __name__ == "__main__":
    main()
