from __future__ import annotations

import datetime as dt

import pytest

from devtools.pg import pg_database, pg_server  # noqa: F401  (PostgreSQL for the real central office)
from devtools.test_pki import generate
from devtools.test_pki.model import TestPki
from sync.signing import Signer
from tests.ballot_box.kit import KIOSK_ID


@pytest.fixture(scope="session")
def pki(tmp_path_factory: pytest.TempPathFactory) -> TestPki:
    return generate(tmp_path_factory.mktemp("pki") / "test-pki", [], [KIOSK_ID], now=dt.datetime.now(dt.UTC))


@pytest.fixture
def kiosk_signer(pki: TestPki) -> Signer:
    return Signer.from_pem_file(pki.kiosks[KIOSK_ID].key_path)
