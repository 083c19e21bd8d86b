"""Pytest fixtures for anything that needs cards: import them into a conftest.py (see docs/card.md)::

    from devtools.virtual_card.pytest_fixtures import card_anchors, card_pki, pcsc, pcsc_harness  # noqa: F401

- ``card_pki``: a test PKI generated once per session (real clock), 6 voters, default staff, bad cards;
  voter 10000006 is revoked.
- ``card_anchors``: the TrustAnchors an election package would carry for it.
- ``pcsc_harness``: an isolated pcscd + vpcd for this test process (session scope; cards are removed
  after each test by ``pcsc``).
- ``pcsc``: the same harness, with slot 0 emptied after the test.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest

from devtools import test_pki
from devtools.virtual_card.harness import PcscHarness
from kiosk.card.pki import TrustAnchors


@pytest.fixture(scope="session")
def card_pki(tmp_path_factory: pytest.TempPathFactory) -> test_pki.TestPki:
    now = dt.datetime.now(dt.UTC)
    voters = test_pki.synthetic_voters(6, now)
    return test_pki.generate(
        tmp_path_factory.mktemp("card-pki") / "test-pki", voters, ["kiosk-001"], now=now, revoke=["10000006"]
    )


@pytest.fixture(scope="session")
def card_anchors(card_pki: test_pki.TestPki) -> TrustAnchors:
    return TrustAnchors(card_pki.trust_roots(), card_pki.intermediates(), card_pki.crls())


@pytest.fixture(scope="session")
def pcsc_harness() -> Iterator[PcscHarness]:
    with PcscHarness() as harness:
        yield harness


@pytest.fixture
def pcsc(pcsc_harness: PcscHarness) -> Iterator[PcscHarness]:
    yield pcsc_harness
    for slot in list(pcsc_harness.links):
        pcsc_harness.remove(slot)
