"""Voter-session and staff events of a station kiosk go into the kiosk's signed, hash-chained audit log."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from kiosk.audit import verify_database
from kiosk.ballot_box import SESSION_EVENT
from tests.ballot_box.kit import cast_one, new_signer, open_box


def test_session_events_are_signed_log_entries_and_an_edit_is_caught(tmp_path: Path) -> None:
    signer = new_signer()
    db = tmp_path / "kiosk.db"
    box = open_box(db, signer)
    box.record_session_event("staff_action", "assisted_voting by S-042")
    cast_one(box)
    box.record_session_event("session_abandoned", "card removed at ballot")
    box.close()

    result = verify_database(db, signer.public_key())
    assert result.ok, result.problems
    with sqlite3.connect(db) as c:
        events = [json.loads(p) for (p,) in c.execute("SELECT payload FROM audit_log WHERE kind = ?", (SESSION_EVENT,))]
    assert [e["event"] for e in events] == ["staff_action", "session_abandoned"]

    with sqlite3.connect(db) as c:  # an attacker rewrites who gave assistance
        c.execute("UPDATE audit_log SET payload = replace(payload, 'S-042', 'S-999') WHERE kind = ?", (SESSION_EVENT,))
    tampered = verify_database(db, signer.public_key())
    assert not tampered.ok
