"""Fixtures for the central office: a real PostgreSQL (tests/pg.py), the small demo election with a real key
ceremony, a test PKI (kiosk and staff certificates) and simulated kiosks speaking sync protocol v1."""

from __future__ import annotations

import datetime as dt
import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from nacl.public import PrivateKey

from central.api import create_app
from central.config import CentralConfig
from central.db import migrate
from central.office import Office
from tests.central.kiosksim import Election, SimKiosk
from tests.pg import pg_database, pg_server  # noqa: F401  (fixtures re-exported for this directory)
from tools.demo_election.build import small_manifest
from tools.test_pki import generate as generate_pki

NOW = dt.datetime.now(dt.UTC).replace(hour=3, minute=0, second=0, microsecond=0)  # 07:00 in Muscat today


class Clock:
    def __init__(self, now: dt.datetime) -> None:
        self.now = now

    def __call__(self) -> dt.datetime:
        return self.now


@pytest.fixture(scope="session")
def election(tmp_path_factory: pytest.TempPathFactory) -> Election:
    from election.sample import run_key_ceremony

    manifest = small_manifest()
    context, guardians, secrets = run_key_ceremony(manifest.manifest_hash, 3, 2, os.urandom)
    root = tmp_path_factory.mktemp("election")
    pki = generate_pki(root / "pki", [], [k.id for k in manifest.kiosks], now=NOW)
    envelope = PrivateKey.generate()
    (root / "election").mkdir()
    (root / "election" / "manifest.json").write_text(json.dumps(manifest.to_dict()), encoding="utf-8")
    (root / "election" / "election-context.json").write_text(json.dumps(context.to_dict()), encoding="utf-8")
    gdir = root / "election" / "guardians"
    gdir.mkdir()
    for g in guardians:
        (gdir / f"guardian-{g.sequence}.json").write_text(json.dumps(g.to_dict()), encoding="utf-8")
    (root / "envelope.key").write_text(bytes(envelope).hex(), encoding="ascii")
    return Election(manifest, context, guardians, secrets, pki, envelope.public_key, root)


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


@pytest.fixture(scope="module")
def clock() -> Clock:
    return Clock(NOW)


@pytest.fixture(scope="module")
def office(
    election: Election,
    pg_database: str,  # noqa: F811
    tmp_path_factory: pytest.TempPathFactory,
    clock: Clock,
) -> Iterator[Office]:
    office = make_office(election, pg_database, tmp_path_factory.mktemp("record") / "record", clock)
    yield office
    office.close()


@pytest.fixture(scope="module")
def app(office: Office):
    return create_app(office)


@pytest.fixture(scope="module")
def kiosks(election: Election, office: Office, app) -> dict[str, SimKiosk]:
    from central.office import enrol_kiosk

    with office.db.transaction() as s:
        for k in election.manifest.kiosks:
            enrol_kiosk(s, office, election.pki.kiosks[k.id].cert(), actor="test-setup", now=NOW)
    return {k.id: SimKiosk(election, k.id, app) for k in election.manifest.kiosks}
