"""Fixtures for the central office: a real PostgreSQL (devtools/pg.py), the small demo election with a real key
ceremony, a test PKI (kiosk and staff certificates) and simulated kiosks speaking sync protocol v1."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator

import pytest
from nacl.public import PrivateKey

from central.api import create_app
from central.office import Office
from devtools.central_office import NOW, Clock, make_office
from devtools.demo_election.build import small_manifest
from devtools.kiosksim import Election, SimKiosk
from devtools.pg import pg_database, pg_server  # noqa: F401  (fixtures re-exported for this directory)
from devtools.test_pki import generate as generate_pki


@pytest.fixture(scope="session")
def election(tmp_path_factory: pytest.TempPathFactory) -> Election:
    from devtools.sample_election import run_key_ceremony

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
