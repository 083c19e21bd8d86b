"""Tampering with a kiosk database is found by ``python -m kiosk.audit verify``, which names the first
broken entry. Each case edits a real database the way an attacker with file access would (raw SQL)."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from devtools.test_pki.model import TestPki
from kiosk.audit import main as audit_main
from sync.signing import Signer
from tests.ballot_box.kit import KIOSK_ID, cast_one, new_signer, open_box

ROOT = Path(__file__).resolve().parents[2]


def run_verify(db: Path, cert: Path) -> tuple[int, str]:
    done = subprocess.run(
        [sys.executable, "-m", "kiosk.audit", "verify", str(db), "--kiosk-cert", str(cert)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
        timeout=60,
    )
    return done.returncode, done.stdout + done.stderr


@pytest.fixture
def voted_db(tmp_path: Path, kiosk_signer: Signer) -> Path:
    """Entries: 1 initialised, 2 polls opened, 3..8 six casts (naming no ballot), 9 the batch of those six sealed
    (naming each, with its hash), 10..11 two casts still in the pending pool."""
    box = open_box(tmp_path / "kiosk.db", kiosk_signer, min_batch=100)
    for _ in range(6):
        cast_one(box)
    assert len(box.seal_batches(force=True)) == 1
    for _ in range(2):
        cast_one(box)
    box.close()
    return tmp_path / "kiosk.db"


def sealed_ballot(db: sqlite3.Connection, n: int) -> str:
    """The id of the n-th ballot named by the batch_sealed entry (seq 9)."""
    (kind, payload) = db.execute("SELECT kind, payload FROM audit_log WHERE seq = 9").fetchone()
    assert kind == "batch_sealed"
    return str(json.loads(payload)["ballots"][n]["ballot_id"])


def pending_ballots(db: sqlite3.Connection) -> list[str]:
    return [r[0] for r in db.execute("SELECT ballot_id FROM ballots WHERE batch_id IS NULL")]


def edit_ballot(db: sqlite3.Connection) -> int:
    ballot_id = sealed_ballot(db, 2)
    (body,) = db.execute("SELECT body FROM ballots WHERE ballot_id = ?", (ballot_id,)).fetchone()
    data = json.loads(body)
    data["encrypted_ballot"]["data"] = "0" * 64  # a different vote
    db.execute("UPDATE ballots SET body = ? WHERE ballot_id = ?", (json.dumps(data).encode(), ballot_id))
    return 9


def edit_ballot_and_its_hash_column(db: sqlite3.Connection) -> int:
    ballot_id = sealed_ballot(db, 1)
    db.execute("UPDATE ballots SET body = CAST('{}' AS BLOB), ballot_hash = 'x' WHERE ballot_id = ?", (ballot_id,))
    return 9


def delete_ballot(db: sqlite3.Connection) -> int:
    db.execute("DELETE FROM ballots WHERE ballot_id = ?", (sealed_ballot(db, 5),))
    return 9


def delete_pending_ballot(db: sqlite3.Connection) -> None:
    db.execute("DELETE FROM ballots WHERE ballot_id = ?", (pending_ballots(db)[0],))


def insert_pending_ballot(db: sqlite3.Connection) -> None:
    (body, digest) = db.execute("SELECT body, ballot_hash FROM ballots LIMIT 1").fetchone()
    db.execute(
        "INSERT INTO ballots (ballot_id, disposition, body, ballot_hash, batch_id) VALUES (?, 'cast', ?, ?, NULL)",
        ("f" * 32, body, digest),
    )


def delete_middle_entry(db: sqlite3.Connection) -> int:
    db.execute("DELETE FROM audit_log WHERE seq = 4")
    return 4


def swap_two_entries(db: sqlite3.Connection) -> int:
    rows = {
        seq: db.execute(
            "SELECT kind, payload, prev_hash, entry_hash, signature FROM audit_log WHERE seq = ?", (seq,)
        ).fetchone()
        for seq in (5, 6)
    }
    for seq, other in ((5, 6), (6, 5)):
        db.execute(
            "UPDATE audit_log SET kind = ?, payload = ?, prev_hash = ?, entry_hash = ?, signature = ? WHERE seq = ?",
            (*rows[other], seq),
        )
    return 5


def truncate_tail(db: sqlite3.Connection) -> int:
    db.execute("DELETE FROM audit_log WHERE seq >= 10")
    db.execute("DELETE FROM ballots WHERE batch_id IS NULL")
    return 10


def edit_entry_payload(db: sqlite3.Connection) -> int:
    db.execute("UPDATE audit_log SET payload = replace(payload, 'C-01', 'C-99') WHERE seq = 1")
    return 1


def delete_voted_checkin(db: sqlite3.Connection) -> int | None:
    (token,) = db.execute("SELECT token FROM checkins LIMIT 1").fetchone()
    db.execute("DELETE FROM checkins WHERE token = ?", (token,))
    return None


CASES: dict[str, Callable[[sqlite3.Connection], int | None]] = {  # the first broken entry (None: a count)
    "edited ballot": edit_ballot,
    "edited ballot with recomputed hash column": edit_ballot_and_its_hash_column,
    "deleted ballot": delete_ballot,
    "deleted pending ballot": delete_pending_ballot,
    "inserted pending ballot": insert_pending_ballot,
    "deleted log entry": delete_middle_entry,
    "reordered log entries": swap_two_entries,
    "truncated log": truncate_tail,
    "edited log entry": edit_entry_payload,
    "deleted voted check-in": delete_voted_checkin,
}


def verify_in_process(db: Path, cert: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    code = audit_main(["verify", str(db), "--kiosk-cert", str(cert)])
    captured = capsys.readouterr()
    return code, captured.out + captured.err


def test_an_untouched_database_verifies(voted_db: Path, pki: TestPki) -> None:
    code, out = run_verify(voted_db, pki.kiosks[KIOSK_ID].cert_path)
    assert code == 0, out
    assert "11 audit entries, 8 ballots" in out


@pytest.mark.parametrize("case", list(CASES))
def test_tampering_is_detected_and_the_first_broken_entry_named(
    voted_db: Path, pki: TestPki, case: str, capsys: pytest.CaptureFixture[str]
) -> None:
    db = sqlite3.connect(voted_db)
    expected = CASES[case](db)
    db.commit()
    db.close()
    code, out = verify_in_process(voted_db, pki.kiosks[KIOSK_ID].cert_path, capsys)
    assert code == 1, out
    first = out.splitlines()[0]
    if expected is None:  # a count that no longer matches: the pending pool is bound by its count
        assert "voted check-ins" in first or "cast ballots stored but" in first, out
    else:
        assert f"first broken: entry #{expected}:" in first, out


def test_a_database_rebuilt_with_another_key_is_rejected(tmp_path: Path, pki: TestPki) -> None:
    forged = open_box(tmp_path / "forged.db", new_signer(), min_batch=100)
    cast_one(forged)
    forged.close()
    code, out = run_verify(tmp_path / "forged.db", pki.kiosks[KIOSK_ID].cert_path)  # the real command line
    assert code == 1
    assert "first broken: entry #1: signature does not verify" in out
