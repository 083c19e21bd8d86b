"""Issue 14 point 12: ``POST /v1/audit-segments`` verifies each kiosk audit entry's hash chain and kiosk signature
(and the signed head) on receipt, and refuses what does not verify: 422, nothing stored. The entries are a real
kiosk's (its ballot box's signed audit log), posted to the office's real endpoint with the kiosk's TLS identity."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from central.models import KioskAuditEntry, RejectedSubmission
from central.office import Office
from devtools.kiosksim import Election, SimKiosk
from kiosk.ballot_box import BallotBox
from kiosk.polls import PollsAction
from sync.audit_entry import head_signing_bytes
from sync.signing import Signer
from tests.ballot_box.kit import CHAIR

pytestmark = pytest.mark.integration

FORGED = "A" * 86 + "=="


def _log(election: Election, path: Path, kiosk: str, events: int, tag: str = "") -> tuple[BallotBox, Signer]:
    """A real kiosk ballot box (the kiosk's own key) with ``events`` session events after opening the polls."""
    signer = Signer(election.pki.kiosks[kiosk].key())
    box = BallotBox.create(
        path, signer, kiosk_id=kiosk, centre_id=election.manifest.kiosks_by_id[kiosk].centre,  # type: ignore[index]
        chain_genesis="00" * 32,
    )  # fmt: skip
    box.apply(PollsAction.OPEN, CHAIR)
    for n in range(events):
        box.record_session_event("card_inserted", f"event {n}{tag}")
    return box, signer


def _entries(box: BallotBox, first: int, last: int) -> list[dict[str, Any]]:
    return [
        {
            "seq": r.seq,
            "kind": r.kind,
            "payload": json.loads(r.payload),
            "prev_hash": r.prev_hash,
            "entry_hash": r.entry_hash,
            "signature": r.signature,
        }
        for r in box.audit_entries_after(first - 1, last - first + 1)
    ]


def _segment(kiosk: str, signer: Signer, entries: list[dict[str, Any]]) -> dict[str, Any]:
    last = entries[-1]
    head = {
        "count": last["seq"],
        "head_hash": last["entry_hash"],
        "signature": signer.sign(head_signing_bytes(kiosk, last["seq"], last["entry_hash"])),
    }
    return {"protocol_version": 1, "kiosk_id": kiosk, "entries": entries, "head": head}


def _held(office: Office, kiosk: str) -> int:
    with office.db.transaction() as s:
        return s.scalar(select(func.count()).select_from(KioskAuditEntry).where(KioskAuditEntry.kiosk_id == kiosk)) or 0


def test_a_forged_signature_a_changed_entry_and_a_broken_chain_are_refused_and_nothing_is_stored(
    election: Election, office: Office, kiosks: dict[str, SimKiosk], tmp_path: Path
) -> None:
    kiosk = "K-PC-003-1"
    sim = kiosks[kiosk]
    box, signer = _log(election, tmp_path / "a.db", kiosk, 4)
    other, _ = _log(
        election, tmp_path / "b.db", kiosk, 4, " (another log)"
    )  # the same kiosk key, another log (a spliced history)
    entries = _entries(box, 1, 6)

    forged = [dict(e) for e in entries]
    forged[2]["signature"] = FORGED
    r = sim.post("/v1/audit-segments", _segment(kiosk, signer, forged))
    assert (r.status_code, r.json()["error"]) == (422, "bad_signature"), r.text
    assert "audit entry 3: the kiosk signature does not verify" in r.json()["detail"]

    changed = [dict(e) for e in entries]
    changed[3]["payload"] = {**changed[3]["payload"], "detail": "nothing happened here"}
    r = sim.post("/v1/audit-segments", _segment(kiosk, signer, changed))
    assert (r.status_code, r.json()["error"]) == (422, "malformed"), r.text
    assert "audit entry 4: its content does not match its entry_hash" in r.json()["detail"]

    spliced = entries[:3] + _entries(other, 4, 6)  # every entry validly signed, the chain broken at 4
    r = sim.post("/v1/audit-segments", _segment(kiosk, signer, spliced))
    assert (r.status_code, r.json()["error"]) == (422, "malformed"), r.text
    assert "audit entry 4: does not chain from entry 3" in r.json()["detail"]

    bad_head = _segment(kiosk, signer, entries)
    bad_head["head"]["signature"] = FORGED
    r = sim.post("/v1/audit-segments", bad_head)
    assert (r.status_code, r.json()["error"]) == (422, "bad_signature"), r.text
    assert _held(office, kiosk) == 0  # nothing of any refused segment was stored
    with office.db.transaction() as s:  # each refusal kept as evidence, with its reason
        reasons = list(
            s.scalars(
                select(RejectedSubmission.reason).where(
                    RejectedSubmission.kind == "audit_segment", RejectedSubmission.kiosk_id == kiosk
                )
            )
        )
    assert len(reasons) == 4 and any("entry 3: the kiosk signature" in r for r in reasons), reasons

    # The genuine log is stored; a continuation from the other log does not chain from what is held.
    r = sim.post("/v1/audit-segments", _segment(kiosk, signer, entries[:3]))
    assert r.status_code == 200 and r.json()["stored_through"] == 3, r.text
    r = sim.post("/v1/audit-segments", _segment(kiosk, signer, _entries(other, 4, 6)))
    assert (r.status_code, r.json()["error"]) == (422, "malformed"), r.text
    assert _held(office, kiosk) == 3
    r = sim.post("/v1/audit-segments", _segment(kiosk, signer, entries[3:]))
    assert r.status_code == 200 and r.json()["stored_through"] == 6, r.text
    box.close()
    other.close()
