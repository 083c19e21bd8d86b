from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from sync.client import SyncClient, TlsIdentity
from sync.signing import load_cert_public_key
from tests.ballot_box.conftest import kiosk_signer, pki
from tests.ballot_box.kit import KIOSK_ID
from tests.sync.fake_office import FakeOfficeState, create_fake_office
from tests.sync.tls_server import TlsServer
from tools.test_pki.model import TestPki


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


__all__ = ["kiosk_signer", "pki"]
