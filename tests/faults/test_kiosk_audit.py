"""The election day's kiosks are composed by the production composition root (``kiosk.bootstrap.build_station``), so
a voter's session events go into the ballot box's signed, hash-chained audit log, as on a polling-station kiosk;
no entry names the voter."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from devtools.test_pki import load as load_pki
from kiosk.audit import verify_database
from sync.signing import load_cert_public_key
from tests.faults.conftest import FaultDay

pytestmark = pytest.mark.integration

KHASAB = "K-PC-002-1"


def _audit_log(db: Path) -> list[tuple[int, str, str]]:
    if not db.exists():
        return []
    with sqlite3.connect(db) as conn:
        return list(conn.execute("SELECT seq, kind, payload FROM audit_log ORDER BY seq"))


def test_an_election_day_voters_session_is_in_the_kiosks_signed_audit_log(fault_day: FaultDay) -> None:
    voter = fault_day.voters(1, KHASAB)[0]
    fault_day.script([voter])
    db = fault_day.day.day / "kiosks" / KHASAB / "ballot-box.sqlite3"
    before = len(_audit_log(db))

    code, lines = fault_day.run(KHASAB, "--phase", "morning")

    assert code == 0, lines[-20:]
    assert fault_day.last(KHASAB, [voter])[voter.id]["outcome"] == "cast"
    cert = load_pki(fault_day.day.pki_dir).kiosks[KHASAB].cert_path
    result = verify_database(db, load_cert_public_key(cert))
    assert result.ok, result.first_broken
    log = _audit_log(db)
    session = [json.loads(payload)["event"] for _seq, kind, payload in log[before:] if kind == "session_event"]
    for event in ("voter_authenticated", "checked_in", "ballot_cast", "session_ended"):
        assert event in session, f"{event} missing from the signed audit log: {session}"
    assert session.index("voter_authenticated") < session.index("checked_in") < session.index("ballot_cast")
    assert not [row for row in log if voter.civil_number in row[2]], "an audit entry names the voter"
