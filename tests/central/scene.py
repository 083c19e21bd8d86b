"""A populated central office for the dashboard tests and the screenshot command: votes at every centre over
the day, kiosk heartbeats, a manual sheet, closed polls and verified results; served by a real uvicorn."""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import socket
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import uvicorn

from central import ceremony, closing, manual, pollbook, results
from central.office import Office
from devtools.kiosksim import Election, SimKiosk, close_chains
from devtools.sample_election import decrypt_with
from election.manifest import WilayatCode
from election.roll import CivilNumber, RollEntry

CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def populate(
    office: Office,
    election: Election,
    kiosks: dict[str, SimKiosk],
    clock: Any,
    *,
    publish: bool,
    before_close: Callable[[], None] | None = None,
) -> str:
    """Returns a confirmation code (hex) of a cast ballot, for the lookup. ``before_close`` runs after the votes,
    before the polls close (e.g. a flagged ballot for the committee)."""
    wilayats = ["MA-04", "MU-01", "MU-02"]
    with office.db.transaction() as s:
        pollbook.import_roll(
            s,
            office.manifest,
            [
                RollEntry(CivilNumber(f"3{w}{i:06d}"), WilayatCode(code), True)
                for w, code in enumerate(wilayats)
                for i in range(1, 31)
            ],
        )
    start = clock.now
    plan = [("K-PC-001-1", 0, 8), ("K-PC-002-1", 1, 12), ("K-PC-003-1", 2, 7), ("K-PC-001-1", 2, 5)]
    code = ""
    n = 0
    for kiosk_id, w, count in plan:
        k = kiosks[kiosk_id]
        for _ in range(count):
            n += 1
            clock.now = start + dt.timedelta(minutes=17 * n)
            civil = f"3{w}{(n % 30) + 1:06d}"
            answer = k.checkin(civil).json()
            if answer["status"] != "eligible":
                continue
            b = k.cast(answer["ballot_style_id"])
            code = b.confirmation_code
            k.voted(answer["checkin_token"])
        k.send(k.make_batch())
        k.post(
            "/v1/heartbeat",
            {
                "kiosk_id": kiosk_id,
                "centre_id": k.centre_id,
                "polls_state": "open",
                "kiosk_clock": clock.now.isoformat(),
                "software_version": "0.1",
                "package_hash": "0" * 64,
                "audit_count": 10,
                "backlog": {"unbatched_ballots": 2, "outbox_items": 1, "pending_voted_marks": 0, "pending_releases": 0},
            },
        )
    if before_close is not None:
        before_close()
    if publish:
        contest = office.manifest.contests_by_id["shura-MU-01"]  # type: ignore[index]
        ids = [c.id for c in contest.active_candidates]
        sid = manual.enter(
            office,
            manual.SheetIn(manual.SourceKind.EMBASSY, "EMB-LONDON", contest.id, 6, 0, {ids[0]: 4, ids[1]: 2}),
            actor="cm-1",
        )
        manual.approve(office, sid, actor="cm-2")
        close_chains(kiosks)  # each kiosk's signed chain close, sent when its polls close (the verifier needs them)
        for centre in office.manifest.centres:
            closing.close_centre(office, centre.id, actor="admin")
        tally = closing.encrypted_tally(office)
        _, shares = decrypt_with(election.context, election.manifest, tally, election.secrets, [1, 2], os.urandom)
        for share in shares:
            ceremony.upload_share(office, share.to_dict(), actor="admin")
        results.compute_results(office, actor="admin")
    return code


@contextlib.contextmanager
def serve(app: Any) -> Iterator[str]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline:
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
