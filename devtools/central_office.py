"""A real central office for tests, benchmarks and screenshots: the small demo election written to disk (a real
key ceremony, a test PKI, the office's envelope key) and an ``Office`` on a given database.

origin: ``NOW``, ``Clock`` and ``make_office`` were in tests/central/conftest.py, ``small_election`` (``_election``)
and ``write_election`` in tests/central/screenshots.py; moved here so bench/ does not import tests/.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from pathlib import Path

from nacl.public import PrivateKey

from central.config import CentralConfig
from central.db import migrate
from central.office import Office
from devtools.kiosksim import Election
from election.manifest import Manifest

NOW = dt.datetime.now(dt.UTC).replace(hour=3, minute=0, second=0, microsecond=0)  # 07:00 in Muscat today


class Clock:
    def __init__(self, now: dt.datetime) -> None:
        self.now = now

    def __call__(self) -> dt.datetime:
        return self.now


def make_office(
    election: Election,
    url: str,
    record_dir: Path,
    clock: Clock,
    *,
    workers: int = 2,
    staff_crl: Path | None = None,
) -> Office:
    """An office on ``url``; ballots are verified in a pool of ``workers`` processes (2: the real code path)."""
    config = CentralConfig(
        database_url=url,
        election_dir=election.root / "election",
        record_dir=record_dir,
        staff_ca=election.pki.staff_ca.cert_path,
        kiosk_ca=election.pki.kiosk_ca.cert_path,
        envelope_private_key=election.root / "envelope.key",
        staff_crl=staff_crl,
        ingest_workers=workers,
        office_signing_key=election.pki.central_server.key_path,
        office_certificate=election.pki.central_server.cert_path,
        embassies=("EMB-LONDON",),
    )
    migrate(url)
    office = Office.open(config, clock=clock)
    office.prepare()
    return office


def small_election(root: Path) -> Election:
    """The small demo election with every kiosk enrolled (see ``write_election``)."""
    from devtools.demo_election.build import small_manifest

    manifest = small_manifest()
    return write_election(root, manifest, [k.id for k in manifest.kiosks])


def write_election(root: Path, manifest: Manifest, kiosk_ids: list[str]) -> Election:
    """A real 3-guardian (quorum 2) key ceremony for ``manifest``, a test PKI with certificates for ``kiosk_ids``,
    the office's envelope key, and the election files the office reads, under ``root``."""
    from devtools.sample_election import run_key_ceremony
    from devtools.test_pki import generate

    context, guardians, secrets = run_key_ceremony(manifest.manifest_hash, 3, 2, os.urandom)
    pki = generate(root / "pki", [], kiosk_ids, now=NOW)
    envelope = PrivateKey.generate()
    (root / "election" / "guardians").mkdir(parents=True)
    (root / "election" / "manifest.json").write_text(json.dumps(manifest.to_dict()), encoding="utf-8")
    (root / "election" / "election-context.json").write_text(json.dumps(context.to_dict()), encoding="utf-8")
    for g in guardians:
        (root / "election" / "guardians" / f"guardian-{g.sequence}.json").write_text(json.dumps(g.to_dict()))
    (root / "envelope.key").write_text(bytes(envelope).hex())
    return Election(manifest, context, guardians, secrets, pki, envelope.public_key, root)
