from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from sync.client import SyncClient, TlsIdentity
from sync.signing import Signer, load_cert_public_key
from tests.ballot_box.kit import KIOSK_ID
from tests.sync.fake_office import FakeOfficeState, create_fake_office
from tests.sync.tls_server import TlsServer
from tools.test_pki import generate
from tools.test_pki.model import TestPki


@pytest.fixture(scope="session")
def pki(tmp_path_factory: pytest.TempPathFactory) -> TestPki:
    return generate(tmp_path_factory.mktemp("pki") / "test-pki", [], [KIOSK_ID], now=dt.datetime.now(dt.UTC))


@pytest.fixture
def kiosk_signer(pki: TestPki) -> Signer:
    return Signer.from_pem_file(pki.kiosks[KIOSK_ID].key_path)


@pytest.fixture
def tls(pki: TestPki) -> TlsIdentity:
    pair = pki.kiosks[KIOSK_ID]
    return TlsIdentity(cert=pair.cert_path, key=pair.key_path, ca=pki.central_ca.cert_path)


@dataclass
class RunningOffice:
    state: FakeOfficeState
    server: TlsServer


@pytest.fixture
def office(pki: TestPki) -> Iterator[RunningOffice]:
    roll = {f"{9_000_000 + i}": "style-w1" for i in range(1000)}
    state = FakeOfficeState(kiosk_keys={KIOSK_ID: load_cert_public_key(pki.kiosks[KIOSK_ID].cert_path)}, roll=roll)
    server = TlsServer(
        create_fake_office(state),
        cert=pki.central_server.cert_path,
        key=pki.central_server.key_path,
        client_ca=pki.kiosk_ca.cert_path,
    )
    server.start()
    yield RunningOffice(state, server)
    server.stop()


@pytest.fixture
def client(office: RunningOffice, tls: TlsIdentity) -> Iterator[SyncClient]:
    c = SyncClient(office.server.url, tls, connect_timeout=1.0, read_timeout=5.0)
    yield c
    c.close()


def kiosk_db(tmp_path: Path) -> Path:
    return tmp_path / "kiosk.db"
