"""The kiosk's signed chain statements (docs/sync-protocol.md, "Chain heads and closes"): every sealed batch carries
the kiosk-signed head of its batch chain once the batch is in it (the batch's root, links counted so far); closing
the polls signs the chain close in the same transaction, queues it after the final batch, and logs it."""

from __future__ import annotations

import json
import secrets
from pathlib import Path

import pytest
from nacl.public import PrivateKey

from election.chain_statement import StatementKind
from election.confirmation import batch_root
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
    links = [cast_one(box)[1]]
    challenged = next_ballot()
    box.record_challenge(challenged)
    office = PrivateKey.generate().public_key
    provisional = next_ballot()
    box.cast_provisional(
        provisional, civil_number="12345678", reason=ProvisionalReason.CENTRAL_UNREACHABLE,
        office_key=office,
    )  # fmt: skip
    links.append(cast_one(box)[1])
    assert box.seal_batches() == []  # 2 cast + 1 challenged in the pool (the provisional one leaves alone)
    links.append(cast_one(box)[1])
    assert len(box.seal_batches()) == 1
    (item,) = [i for i in box.unsent_outbox() if i.kind == "batch"]
    batch = parse_message(BallotBatch, item.body)
    assert batch.provisional_codes == [provisional.confirmation_code]  # the provisional ballot is a link of it
    head = batch.chain_head.signed()
    _verify(kiosk_signer, head)
    st = head.statement
    codes = [bytes.fromhex(b.confirmation_code) for b in [*links, challenged, provisional]]
    root = batch_root(bytes.fromhex(GENESIS), KIOSK_ID, codes).hex()
    assert (st.kind, st.kiosk_id, st.genesis, st.root) == (StatementKind.HEAD, KIOSK_ID, GENESIS, root)
    assert chain_head(box) == root
    assert (st.cast, st.challenged, st.provisional) == (3, 1, 1)
    # a later batch does not link the provisional ballot again
    for _ in range(4):
        cast_one(box)
    (second,) = box.seal_batches()
    later = next(parse_message(BallotBatch, i.body) for i in box.unsent_outbox() if i.idempotency_key == second)
    assert later.provisional_codes == [] and later.chain_head.provisional == 1


def test_provisional_ballots_alone_are_sealed_as_a_batch_before_the_close(tmp_path: Path, kiosk_signer: Signer) -> None:
    box = open_box(tmp_path / "k.db", kiosk_signer, min_batch=4)
    provisional = next_ballot()
    box.cast_provisional(
        provisional, civil_number="12345678", reason=ProvisionalReason.CENTRAL_UNREACHABLE,
        office_key=PrivateKey.generate().public_key,
    )  # fmt: skip
    box.apply(PollsAction.CLOSE, CHAIR)
    assert [i.kind for i in box.unsent_outbox()] == ["provisional", "batch", CHAIN_CLOSE_OUTBOX]
    batch = parse_message(BallotBatch, box.unsent_outbox()[1].body)
    assert batch.ballots == [] and batch.provisional_codes == [provisional.confirmation_code]
    close = box.chain_close()
    root = batch_root(bytes.fromhex(GENESIS), KIOSK_ID, [bytes.fromhex(provisional.confirmation_code)]).hex()
    assert close is not None and (close.root, close.cast, close.provisional) == (root, 0, 1)
    assert verify_database(tmp_path / "k.db", kiosk_signer.public_key()).ok


def test_a_split_pool_signs_each_part_at_its_own_root(
    tmp_path: Path, kiosk_signer: Signer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("kiosk.store.outbox.MAX_BATCH_BALLOTS", 4)
    box = open_box(tmp_path / "k.db", kiosk_signer, min_batch=4)
    for _ in range(9):
        cast_one(box)
    box.seal_batches(force=True)
    batches = [parse_message(BallotBatch, i.body) for i in box.unsent_outbox()]
    root = bytes.fromhex(GENESIS)
    expected = []
    for n, batch in enumerate(batches):
        root = batch_root(root, KIOSK_ID, [bytes.fromhex(b.confirmation_code) for b in batch.ballots])
        expected.append((root.hex(), min(4 * (n + 1), 9)))
    assert [(b.chain_head.root, b.chain_head.cast) for b in batches] == expected
    assert [len(b.ballots) for b in batches] == [4, 4, 1]
    for b in batches:
        _verify(kiosk_signer, b.chain_head.signed())


def test_closing_the_polls_signs_the_close_and_queues_it_after_the_final_batch(
    tmp_path: Path, kiosk_signer: Signer
) -> None:
    box = open_box(tmp_path / "k.db", kiosk_signer, min_batch=10)
    for _ in range(3):
        cast_one(box)
    box.record_challenge(next_ballot())
    assert box.chain_close() is None
    box.apply(PollsAction.CLOSE, CHAIR)
    kinds = [i.kind for i in box.unsent_outbox()]
    assert kinds == ["batch", CHAIN_CLOSE_OUTBOX]  # the final (small) batch, then the close
    submission = parse_message(ChainCloseSubmission, box.unsent_outbox()[-1].body)
    close = submission.close
    assert close == box.chain_close()
    _verify(kiosk_signer, close.signed())
    assert (close.root, close.cast, close.challenged, close.provisional, close.close_seq) == (
        chain_head(box), 3, 1, 0, 1,
    )  # fmt: skip
    final = parse_message(BallotBatch, box.unsent_outbox()[0].body).chain_head
    assert (final.root, final.cast, final.challenged) == (close.root, close.cast, close.challenged)
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
    assert close is not None and (close.root, close.cast, close.challenged, close.provisional) == (
        GENESIS, 0, 0, 0,
    )  # fmt: skip
    assert [i.kind for i in box.unsent_outbox()] == [CHAIN_CLOSE_OUTBOX]
