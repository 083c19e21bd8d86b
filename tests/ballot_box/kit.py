"""Test helpers shared by the ballot-box and sync tests: a kiosk key, stand-in ballots, staff cards.

The stand-in ballots are opaque JSON objects with confirmation codes of the same shape as the election core's
(32-byte hex codes, from the kiosk's genesis and the ballot); tests that need real encryption use ``election``
directly (see test_real_ballots).
"""

from __future__ import annotations

import hashlib
import secrets
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric import ec

from kiosk.ballot_box import BallotBox, BallotToStore
from kiosk.polls import PollsAction, StaffCard, StaffRole
from sync.signing import Signer

KIOSK_ID = "K-001"
CENTRE_ID = "C-01"
STYLE = "style-w1"
GENESIS = hashlib.sha256(b"genesis " + KIOSK_ID.encode()).hexdigest()

CHAIR = StaffCard("staff-chair", StaffRole.COMMITTEE_MEMBER, "a" * 64)
WORKER = StaffCard("staff-worker", StaffRole.POLL_WORKER, "b" * 64)


def new_signer() -> Signer:
    return Signer(ec.generate_private_key(ec.SECP256R1()))


def next_ballot(style: str = STYLE, payload: str | None = None, genesis: str = GENESIS) -> BallotToStore:
    ballot_id = secrets.token_hex(16)
    body = {"format_version": 1, "ballot_id": ballot_id, "style_id": style, "data": payload or secrets.token_hex(32)}
    code = hashlib.sha256(bytes.fromhex(genesis) + ballot_id.encode()).hexdigest()
    return BallotToStore(ballot_id, style, code, body)


def open_box(path: Path, signer: Signer, min_batch: int = 5) -> BallotBox:
    box = BallotBox.create(
        path, signer, kiosk_id=KIOSK_ID, centre_id=CENTRE_ID, chain_genesis=GENESIS, min_batch=min_batch
    )
    box.apply(PollsAction.OPEN, CHAIR)
    return box


def chain_head(box: BallotBox) -> str:
    from sqlalchemy.orm import Session

    from kiosk.store.models import KioskRow

    with Session(box._engine) as s:
        row = s.get(KioskRow, 1)
        assert row is not None
        return row.chain_head


def cast_one(box: BallotBox, token: str | None = None) -> tuple[str, BallotToStore]:
    token = token or secrets.token_urlsafe(24)
    box.record_checkin(token, STYLE)
    ballot = next_ballot()
    box.cast(token, ballot)
    return token, ballot
