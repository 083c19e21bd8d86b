"""Nothing the card layer logs identifies a voter: not the civil number, the names, the certificate (its
fingerprint, whole or cut, or its serial number), at any log level, for an accepted or a refused card,
through the real pcscd and the kiosk's PcscCard (the APDU trace at DEBUG included)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import secrets

import pytest
from cryptography.hazmat.primitives import hashes

from devtools import test_pki
from devtools.virtual_card.card import VirtualCard
from devtools.virtual_card.harness import PcscHarness
from kiosk.adapters.card import PcscCard
from kiosk.card.profile import load_named_profile
from kiosk.card.session import CardAuthenticator
from kiosk.session import events as ev
from kiosk.session.model import Secret

pytestmark = pytest.mark.integration


def _identifying(files: test_pki.CardFiles) -> list[str]:
    cert = files.auth.cert()
    fingerprint = cert.fingerprint(hashes.SHA256()).hex()
    i = files.identity
    return [
        i.civil_number,
        i.name_en,
        i.name_ar,
        *i.name_ar.split(" "),
        fingerprint,
        fingerprint[:16],
        f"{cert.serial_number:x}",
        str(cert.serial_number),
    ]


@pytest.mark.parametrize("pin", ["1234", "9999"], ids=["accepted", "wrong-pin"])
def test_a_card_session_logs_nothing_that_identifies_the_voter(
    pcsc: PcscHarness, card_pki, card_anchors, caplog: pytest.LogCaptureFixture, pin: str
) -> None:
    files = card_pki.voters["10000005"]
    profile = load_named_profile("oman_ias")
    auth = CardAuthenticator(
        profile, card_anchors, "kiosk-001", "shura-2027", lambda: dt.datetime.now(dt.UTC), secrets.token_bytes
    )
    kiosk = PcscCard(pcsc.reader_name(), auth)
    pcsc.insert(VirtualCard.from_files(files, profile))
    with caplog.at_level(logging.DEBUG):
        assert isinstance(kiosk.read(), ev.CardRead)
        outcome = kiosk.verify_pin(Secret(pin))
        if isinstance(outcome, ev.PinAccepted):
            assert isinstance(kiosk.authenticate(), ev.VoterAuthenticated)
        else:
            assert isinstance(outcome, ev.PinRejected)
        kiosk.close()
    text = "\n".join(record.getMessage() for record in caplog.records)
    assert "APDU" in text  # the trace was logged (so this test looks at what a debug log would hold)
    for secret in _identifying(files):
        assert secret not in text, secret


def test_a_refused_card_logs_nothing_that_identifies_its_holder(
    pcsc: PcscHarness, card_pki, card_anchors, caplog: pytest.LogCaptureFixture
) -> None:
    files = card_pki.voters["10000006"]  # revoked in the card CA's CRL
    profile = load_named_profile("oman_ias")
    auth = CardAuthenticator(
        dataclasses.replace(profile), card_anchors, "kiosk-001", "shura-2027", lambda: dt.datetime.now(dt.UTC),
        secrets.token_bytes,
    )  # fmt: skip
    kiosk = PcscCard(pcsc.reader_name(), auth)
    pcsc.insert(VirtualCard.from_files(files, profile))
    with caplog.at_level(logging.DEBUG):
        assert isinstance(kiosk.read(), ev.Failed)
    assert kiosk.last_refusal is not None and kiosk.last_refusal.reason.value == "revoked"
    text = "\n".join(record.getMessage() for record in caplog.records) + "\n" + kiosk.last_refusal.detail
    for secret in _identifying(files):
        assert secret not in text, secret
