"""One collector instance as its own process, for the multi-instance test: ``python -m tests.collector.instance
SPEC.json``. It builds the ``Collector`` from the test election (manifest, context, the test PKI's trust anchors,
the roll) instead of a signed package, then serves it with ``collector.server.serve``, the function ``python -m
collector serve`` calls: the same listeners, TLS, edge and service."""

from __future__ import annotations

import datetime as dt
import json
import os
import sys
from dataclasses import asdict
from pathlib import Path
from typing import Any

from collector.db import Database
from collector.election_data import ElectionData
from collector.limits import Limiter, RateLimits
from collector.server import Tls, serve
from collector.service import Collector
from devtools import test_pki
from election.context import ElectionContext
from election.manifest import KioskId, Manifest, WilayatCode
from election.roll import CivilNumber, RollEntry
from kiosk.card.trust import TrustAnchors


def write_spec(
    path: Path,
    *,
    manifest: Manifest,
    context: ElectionContext,
    pki_dir: Path,
    roll: dict[CivilNumber, RollEntry],
    abroad: list[str],
    collector_id: str,
    database_url: str,
    limits: RateLimits,
    trusted_proxies: list[str],
) -> None:
    spec = {
        "manifest": manifest.to_dict(), "context": context.to_dict(), "pki": str(pki_dir),
        "roll": [[e.civil_number, e.wilayat, e.eligible] for e in roll.values()], "abroad": abroad,
        "collector_id": collector_id, "database_url": database_url, "limits": asdict(limits),
        "trusted_proxies": trusted_proxies,
    }  # fmt: skip
    path.write_text(json.dumps(spec), encoding="utf-8")


def main(argv: list[str]) -> int:
    spec: dict[str, Any] = json.loads(Path(argv[0]).read_text(encoding="utf-8"))
    port, internal_port = int(argv[1]), int(argv[2])
    pki = test_pki.load(Path(spec["pki"]))
    roll = {
        CivilNumber(c): RollEntry(CivilNumber(c), WilayatCode(w), bool(eligible)) for c, w, eligible in spec["roll"]
    }
    data = ElectionData(
        Manifest.from_dict(spec["manifest"]),
        ElectionContext.from_dict(spec["context"]),
        TrustAnchors(pki.trust_roots(), pki.intermediates(), pki.crls()),
        roll,
        frozenset(CivilNumber(c) for c in spec["abroad"]),
        KioskId(spec["collector_id"]),
    )
    collector = Collector(
        Database(spec["database_url"]),
        data,
        lambda: dt.datetime.now(dt.UTC),
        os.urandom,
        Limiter(RateLimits(**spec["limits"])),
    )
    tls = Tls(pki.central_server.cert_path, pki.central_server.key_path, pki.kiosk_ca.cert_path)
    serve(collector, tls, "127.0.0.1", port, internal_port, tuple(spec["trusted_proxies"]))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
