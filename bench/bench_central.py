"""Central office benchmark against a real PostgreSQL 15 (started by tests.pg):

- check-ins per second (check-in + voted mark over HTTP/ASGI, one kiosk at a time);
- ballots ingested per second with full verification (proofs, chain, tally update), batches of 50;
- NOT YET: time from the last guardian share to verified results at national scale (see docs/central.md).

Peer: verify_ballot alone (the election core's cost per ballot), measured in the same run.
Run: .venv/bin/python -m bench.bench_central  (writes out/bench/central.json)
"""

from __future__ import annotations

import json
import statistics
import tempfile
import time
from pathlib import Path

from central import pollbook
from central.api import create_app
from central.office import enrol_kiosk
from election.ballot import EncryptedBallot, verify_ballot
from election.manifest import WilayatCode
from election.roll import CivilNumber, RollEntry
from tests.central.conftest import NOW, Clock, make_office
from tests.central.kiosksim import SimKiosk
from tests.central.screenshots import _election
from tests.pg import PostgresServer


def main() -> None:
    rows: list[dict[str, object]] = []
    notes: list[str] = ["PostgreSQL 15 with fsync off (test settings); 2 cores; in-process ASGI (no TLS)."]
    with tempfile.TemporaryDirectory() as tmp, PostgresServer.started() as pg:
        election = _election(Path(tmp))
        office = make_office(election, pg.create_database(), Path(tmp) / "record", Clock(NOW))
        app = create_app(office)
        with office.db.transaction() as s:
            for k in election.manifest.kiosks:
                enrol_kiosk(s, office, election.pki.kiosks[k.id].cert(), actor="bench", now=NOW)
            pollbook.import_roll(
                s,
                office.manifest,
                [RollEntry(CivilNumber(f"4{i:07d}"), WilayatCode("MU-01"), True) for i in range(1, 2001)],
            )
        sim = SimKiosk(election, "K-PC-002-1", app)
        # 1. check-ins (check-in + voted mark)
        t0 = time.perf_counter()
        n = 400
        for i in range(1, n + 1):
            token = sim.checkin(f"4{i:07d}").json()["checkin_token"]
            sim.voted(token)
        dt_checkin = time.perf_counter() - t0
        rows.append(
            {
                "what": "check-in + voted mark (HTTP, PostgreSQL)",
                "median": dt_checkin / n * 1000,
                "unit": "ms",
                "p99": None,
                "rate_per_s": n / dt_checkin,
                "peer": None,
                "peer_median": None,
                "ratio": None,
                "target": None,
                "meets_target": None,
            }
        )
        # 2. ingest with full verification
        batches = [[sim.encrypt("BS-MU-01") for _ in range(50)] for _ in range(6)]
        signed = [sim.make_batch(b) for b in batches]
        times = []
        for batch in signed:
            t = time.perf_counter()
            assert sim.send(batch).json()["accepted"] == 50
            times.append(time.perf_counter() - t)
        per_ballot = statistics.median(times) / 50
        sample = [EncryptedBallot.from_dict(b.encrypted_ballot) for b in batches[0][:20]]
        t = time.perf_counter()
        for b in sample:
            verify_ballot(election.context, election.manifest, b)
        peer = (time.perf_counter() - t) / len(sample)
        rows.append(
            {
                "what": "ballot ingest, full verification (batches of 50)",
                "median": per_ballot * 1000,
                "unit": "ms/ballot",
                "p99": None,
                "rate_per_s": 1 / per_ballot,
                "peer": "verify_ballot alone",
                "peer_median": peer * 1000,
                "ratio": per_ballot / peer,
                "target": ">= 150 ballots/s",
                "meets_target": 1 / per_ballot >= 150,
            }
        )
        notes.append(f"small demo ballot style BS-MU-01 ({len(sample[0].contests)} contest); one process.")
        office.db.dispose()
    out = Path("out/bench")
    out.mkdir(parents=True, exist_ok=True)
    (out / "central.json").write_text(json.dumps({"area": "central", "rows": rows, "notes": notes}, indent=2))
    for r in rows:
        print(
            f"{r['what']:<55} {r['median']:>8.2f} {r['unit']:<10} rate {r['rate_per_s'] or 0:>8.1f}/s"
            f"  ratio {r['ratio'] or 0:.2f}  target {r['target']}"
        )


if __name__ == "__main__":
    main()
