"""The kiosk's signed chain statements (docs/sync-protocol.md, "Chain heads and closes"): every sealed batch carries
the kiosk-signed head of its chain once the batch is in it; closing the polls signs the chain close in the same
transaction, queues it after the final batch, and logs it."""

from __future__ import annotations

import json
import secrets
from pathlib import Path

import pytest
from nacl.public import PrivateKey

from election.chain_statement import StatementKind
from kiosk.audit import verify_database
from kiosk.ballot_box import CHAIN_CLOSE_OUTBOX, BallotBox
from kiosk.polls import PollsAction
from sync.protocol import BallotBatch, ChainCloseSubmission, ProvisionalReason, parse_message
from sync.signing import Signer
from tests.ballot_box.kit import CHAIR, GENESIS, KIOSK_ID, cast_one, chain_head, next_ballot, open_box


def _verify(signer: Signer, statement: object) -> None:
    from election.chain_statement import SignedStatement

    assert isinstance(statement, SignedStatement)
    key = signer.public_key()
    statement.verify(key)


def test_each_batch_carries_the_signed_head_with_every_kind_of_link(tmp_path: Path, kiosk_signer: Signer) -> None:
    box = open_box(tmp_path / "k.db", kiosk_signer, min_batch=4)
    cast_one(box)
    box.record_challenge(next_ballot(chain_head(box)))
    office = PrivateKey.generate().public_key
    box.cast_provisional(
        next_ballot(chain_head(box)), civil_number="12345678", reason=ProvisionalReason.CENTRAL_UNREACHABLE,
        office_key=office,
    )  # fmt: skip
    cast_one(box)
    assert box.seal_batches() == []  # 2 cast + 1 challenged in the pool (the provisional one leaves alone)
    cast_one(box)
    assert len(box.seal_batches()) == 1
    (item,) = [i for i in box.unsent_outbox() if i.kind == "batch"]
    batch = parse_message(BallotBatch, item.body)
    head = batch.chain_head.signed()
    _verify(kiosk_signer, head)
    st = head.statement
    assert (st.kind, st.kiosk_id, st.genesis, st.last_code) == (StatementKind.HEAD, KIOSK_ID, GENESIS, chain_head(box))
    assert (st.cast, st.challenged, st.provisional) == (3, 1, 1)


def test_a_split_pool_signs_each_batch_at_its_own_last_ballot(
    tmp_path: Path, kiosk_signer: Signer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("kiosk.store.outbox.MAX_BATCH_BALLOTS", 4)
    box = open_box(tmp_path / "k.db", kiosk_signer, min_batch=4)
    ballots = [cast_one(box)[1] for _ in range(9)]
    box.seal_batches(force=True)
    heads = [parse_message(BallotBatch, i.body).chain_head for i in box.unsent_outbox()]
    assert [(h.last_code, h.cast) for h in heads] == [
        (ballots[3].confirmation_code, 4),
        (ballots[7].confirmation_code, 8),
        (ballots[8].confirmation_code, 9),
    ]
    for h in heads:
        _verify(kiosk_signer, h.signed())


def test_closing_the_polls_signs_the_close_and_queues_it_after_the_final_batch(
    tmp_path: Path, kiosk_signer: Signer
) -> None:
    box = open_box(tmp_path / "k.db", kiosk_signer, min_batch=10)
    for _ in range(3):
        cast_one(box)
    box.record_challenge(next_ballot(chain_head(box)))
    assert box.chain_close() is None
    box.apply(PollsAction.CLOSE, CHAIR)
    kinds = [i.kind for i in box.unsent_outbox()]
    assert kinds == ["batch", CHAIN_CLOSE_OUTBOX]  # the final (small) batch, then the close
    submission = parse_message(ChainCloseSubmission, box.unsent_outbox()[-1].body)
    close = submission.close
    assert close == box.chain_close()
    _verify(kiosk_signer, close.signed())
    assert (close.last_code, close.cast, close.challenged, close.provisional, close.close_seq) == (
        chain_head(box), 3, 1, 0, 1,
    )  # fmt: skip
    final = parse_message(BallotBatch, box.unsent_outbox()[0].body).chain_head
    assert (final.last_code, final.cast, final.challenged) == (close.last_code, close.cast, close.challenged)
    # Logged in the signed audit log, in the closing transaction (the log verifies, the entry follows polls_close).
    rows = box.audit_entries_after(0, 1000)
    assert [r.kind for r in rows][-2:] == ["polls_close", "chain_closed"]
    assert json.loads(rows[-1].payload)["close"] == close.model_dump(mode="json")
    assert verify_database(tmp_path / "k.db", kiosk_signer.public_key()).ok
    reopened = BallotBox.open(tmp_path / "k.db", kiosk_signer)
    assert reopened.chain_close() == close
    reopened.close()


def test_an_empty_kiosk_closes_at_its_genesis(tmp_path: Path, kiosk_signer: Signer) -> None:
    box = open_box(tmp_path / f"{secrets.token_hex(4)}.db", kiosk_signer)
    box.apply(PollsAction.CLOSE, CHAIR)
    close = box.chain_close()
    assert close is not None and (close.last_code, close.cast, close.challenged, close.provisional) == (
        GENESIS, 0, 0, 0,
    )  # fmt: skip
    assert [i.kind for i in box.unsent_outbox()] == [CHAIN_CLOSE_OUTBOX]
