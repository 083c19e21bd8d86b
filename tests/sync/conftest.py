"""Fixtures of the sync tests.

- ``real_election`` (+ ``devtools.real_office.CentralOffice`` in each integration module): the REAL central
  office, used by every test of delivery, exactly-once, outages, faults and the office's secrecy duties.
- ``test_double_office``: the in-memory TEST DOUBLE of the office (tests/sync/fake_office.py), kept only for
  pure client-behaviour unit tests (typed outcomes, retries, the pinned CA) where the office's own logic is
  beside the point.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from devtools.pg import pg_database, pg_server
from devtools.real_office import RealElection, build_election
from devtools.test_pki.model import TestPki
from devtools.tls_server import TlsServer
from sync.client import SyncClient, TlsIdentity
from sync.signing import load_cert_public_key
from tests.ballot_box.conftest import kiosk_signer, pki
from tests.ballot_box.kit import KIOSK_ID
from tests.sync.fake_office import FakeOfficeState, create_fake_office


@pytest.fixture(scope="session")
def real_election(tmp_path_factory: pytest.TempPathFactory) -> RealElection:
    return build_election(tmp_path_factory.mktemp("real-election"))


@pytest.fixture
def tls(pki: TestPki) -> TlsIdentity:
    pair = pki.kiosks[KIOSK_ID]
    return TlsIdentity(cert=pair.cert_path, key=pair.key_path, ca=pki.central_ca.cert_path)


@dataclass
class TestDoubleOffice:
    """The test double of the central office, served over real mutual TLS."""

    __test__ = False

    state: FakeOfficeState
    server: TlsServer


@pytest.fixture
def test_double_office(pki: TestPki) -> Iterator[TestDoubleOffice]:
    roll = {f"{9_000_000 + i}": "style-w1" for i in range(1000)}
    state = FakeOfficeState(kiosk_keys={KIOSK_ID: load_cert_public_key(pki.kiosks[KIOSK_ID].cert_path)}, roll=roll)
    server = TlsServer(
        create_fake_office(state),
        cert=pki.central_server.cert_path,
        key=pki.central_server.key_path,
        client_ca=pki.kiosk_ca.cert_path,
    )
    server.start()
    yield TestDoubleOffice(state, server)
    server.stop()


@pytest.fixture
def client(test_double_office: TestDoubleOffice, tls: TlsIdentity) -> Iterator[SyncClient]:
    c = SyncClient(test_double_office.server.url, tls, connect_timeout=1.0, read_timeout=5.0)
    yield c
    c.close()


__all__ = ["kiosk_signer", "pg_database", "pg_server", "pki"]
