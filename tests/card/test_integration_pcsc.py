"""Through a real pcscd (isolated, started by the tests) + vpcd + the virtual card, as a kiosk would see it."""

from __future__ import annotations

import datetime as dt
import os
import queue
import secrets
import subprocess
import time

import pytest

from devtools.test_pki import BadKind
from devtools.virtual_card.card import VirtualCard
from devtools.virtual_card.harness import PcscHarness
from kiosk.card.monitor import CardInserted, CardMonitor, CardRemoved, DaemonBack, DaemonGone
from kiosk.card.profile import load_named_profile
from kiosk.card.results import AuthFailure, FailureReason
from kiosk.card.session import Authenticated, CardAuthenticator, CardRead
from kiosk.card.transport import PcscConnection

pytestmark = pytest.mark.integration


def authenticator(profile, anchors) -> CardAuthenticator:
    return CardAuthenticator(
        profile, anchors, "kiosk-001", "shura-2027", lambda: dt.datetime.now(dt.UTC), secrets.token_bytes
    )


def session(h: PcscHarness, auth: CardAuthenticator, pin: str = "1234") -> Authenticated | AuthFailure:
    with PcscConnection(h.reader_name()) as connection:
        read = auth.read(connection)
        if isinstance(read, AuthFailure):
            return read
        return auth.authenticate(connection, read, pin)


@pytest.mark.parametrize("profile_name", ["oman_ias", "belpic"])
def test_good_voter_authenticates(pcsc: PcscHarness, card_pki, card_anchors, profile_name: str) -> None:
    profile = load_named_profile(profile_name)
    card = VirtualCard.from_files(card_pki.voters["10000001"], profile)
    pcsc.insert(card)
    auth = authenticator(profile, card_anchors)
    with PcscConnection(pcsc.reader_name()) as connection:
        assert connection.atr == profile.atr
        read = auth.read(connection)
        assert isinstance(read, CardRead)
        result = auth.authenticate(connection, read, "1234")
        trace = list(connection.trace)
    assert isinstance(result, Authenticated)
    assert result.identity.civil_number == "10000001"
    assert any(e.command.startswith("00 20") and "redacted" in e.command for e in trace)
    assert not any("31 32 33 34" in e.command for e in trace)  # the PIN never appears
    deadline = time.monotonic() + 2
    while card.powered and time.monotonic() < deadline:
        time.sleep(0.02)
    assert not card.powered  # disconnected with SCARD_UNPOWER_CARD


def test_every_bad_card_is_refused_with_its_own_reason(pcsc: PcscHarness, card_pki, card_anchors) -> None:
    profile = load_named_profile("oman_ias")
    auth = authenticator(profile, card_anchors)
    seen = {}
    for kind in BadKind:
        pcsc.insert(VirtualCard.from_files(card_pki.bad[kind], profile))
        result = session(pcsc, auth)
        assert isinstance(result, AuthFailure)
        seen[kind] = (result.reason, result.detail.split(":")[0])
        pcsc.remove()
    assert {k: r for k, (r, _) in seen.items()} == {
        BadKind.EXPIRED: FailureReason.EXPIRED,
        BadKind.NOT_YET_VALID: FailureReason.NOT_YET_VALID,
        BadKind.UNKNOWN_ISSUER: FailureReason.UNTRUSTED,
        BadKind.SELF_SIGNED: FailureReason.UNTRUSTED,
        BadKind.REVOKED: FailureReason.REVOKED,
        BadKind.WRONG_KEY_USAGE: FailureReason.WRONG_KEY_USAGE,
    }
    pcsc.insert(VirtualCard.from_files(card_pki.voters["10000006"], profile))  # revoked voter from the roll
    result = session(pcsc, auth)
    assert isinstance(result, AuthFailure) and result.reason is FailureReason.REVOKED


def test_wrong_pin_shows_tries_left_and_blocks(pcsc: PcscHarness, card_pki, card_anchors) -> None:
    profile = load_named_profile("oman_ias")
    card = VirtualCard.from_files(card_pki.voters["10000002"], profile)
    pcsc.insert(card)
    auth = authenticator(profile, card_anchors)
    outcomes = []
    for _ in range(3):  # each try in its own connection, as separate voter attempts would be
        result = session(pcsc, auth, pin="0000")
        assert isinstance(result, AuthFailure)
        outcomes.append((result.reason, result.tries_left))
    assert outcomes == [(FailureReason.WRONG_PIN, 2), (FailureReason.WRONG_PIN, 1), (FailureReason.PIN_BLOCKED, 0)]
    blocked = session(pcsc, auth, pin="1234")
    assert isinstance(blocked, AuthFailure) and blocked.reason is FailureReason.PIN_BLOCKED


# Raw APDU numbers of an oman_ias session: 1 SELECT ROP, 3 READ identity (after a 6Cxx), 6 READ certificate,
# 9 VERIFY (status), 11 VERIFY PIN, 12 MSE SET, 14 PSO CDS.
@pytest.mark.parametrize("pull_at", [1, 3, 6, 9, 11, 12, 14])
def test_pulling_the_card_at_each_step_aborts_cleanly(pcsc: PcscHarness, card_pki, card_anchors, pull_at: int) -> None:
    profile = load_named_profile("oman_ias")
    pcsc.insert(VirtualCard.from_files(card_pki.voters["10000003"], profile), remove_at_apdu=pull_at)
    result = session(pcsc, authenticator(profile, card_anchors))
    assert isinstance(result, AuthFailure)
    assert result.reason is FailureReason.CARD_REMOVED, result


def test_monitor_survives_a_pcscd_restart(pcsc: PcscHarness, card_pki, card_anchors) -> None:
    profile = load_named_profile("oman_ias")
    events: queue.Queue = queue.Queue()

    def wait_for(kind: type, timeout: float = 5.0):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                event = events.get(timeout=0.1)
            except queue.Empty:
                continue
            if isinstance(event, kind):
                return event
        raise AssertionError(f"no {kind.__name__} event")

    with CardMonitor(events, poll_seconds=0.1) as monitor:
        pcsc.insert(VirtualCard.from_files(card_pki.voters["10000004"], profile))
        assert wait_for(CardInserted).atr == profile.atr
        pcsc.restart_pcscd()
        wait_for(DaemonGone)
        wait_for(DaemonBack)
        wait_for(CardInserted)  # the card is still there after the restart
        assert monitor.alive
        result = session(pcsc, authenticator(profile, card_anchors))
        assert isinstance(result, Authenticated)
        pcsc.remove()
        wait_for(CardRemoved)


def test_pcsc_tools_see_the_virtual_card_like_a_real_one(pcsc: PcscHarness, card_pki) -> None:
    profile = load_named_profile("oman_ias")
    pcsc.insert(VirtualCard.from_files(card_pki.voters["10000001"], profile))
    env = {**os.environ, **pcsc.env}
    scan = subprocess.run(
        ["pcsc_scan", "-n", "-t", "1"], env=env, capture_output=True, text=True, timeout=20, check=False
    )
    assert pcsc.reader_name() in scan.stdout
    assert "3B 7A 97 00 00 80 65 B0 85 20 05 02 72 D6 43" in scan.stdout
    atr = subprocess.run(
        ["opensc-tool", "-r", "0", "-a"], env=env, capture_output=True, text=True, timeout=20, check=False
    )
    assert atr.stdout.strip().lower() == "3b:7a:97:00:00:80:65:b0:85:20:05:02:72:d6:43"
    select = "00 A4 04 0C 0C " + profile.applets["pki"].hex(" ").upper()
    sent = subprocess.run(
        ["opensc-tool", "-r", "0", "-s", select], env=env, capture_output=True, text=True, timeout=20, check=False
    )
    assert "SW1=0x90, SW2=0x00" in sent.stdout, sent


def test_pcscd_dying_mid_session_is_reported_not_raised(pcsc: PcscHarness, card_pki, card_anchors) -> None:
    profile = load_named_profile("oman_ias")
    pcsc.insert(VirtualCard.from_files(card_pki.voters["10000005"], profile))
    auth = authenticator(profile, card_anchors)
    try:
        with PcscConnection(pcsc.reader_name()) as connection:
            read = auth.read(connection)
            assert isinstance(read, CardRead)
            pcsc.kill_pcscd()
            result = auth.authenticate(connection, read, "1234")
    finally:
        pcsc.start_pcscd()
    assert isinstance(result, AuthFailure)
    assert result.reason in {FailureReason.SERVICE_GONE, FailureReason.CARD_REMOVED}, result
    pcsc.wait_for_card(present=True)


def test_virtual_card_cli_inserts_and_removes(pcsc: PcscHarness, card_pki) -> None:
    import sys

    command = [sys.executable, "-m", "devtools.virtual_card"]
    port = str(pcsc.port + 1)  # slot 1
    proc = subprocess.Popen([*command, "insert", "staff-pw-1", "--pki", str(card_pki.out_dir), "--port", port],
                            stdout=subprocess.PIPE, text=True)  # fmt: skip
    try:
        pcsc.wait_for_card(slot=1, present=True)
        removed = subprocess.run(
            [*command, "remove", "--port", port], capture_output=True, text=True, timeout=20, check=False
        )
        assert removed.returncode == 0, removed.stderr
        pcsc.wait_for_card(slot=1, present=False)
        assert proc.wait(10) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        if proc.stdout is not None:
            proc.stdout.close()
