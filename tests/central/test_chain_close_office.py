"""The office's side of signed chain heads and closes (docs/sync-protocol.md, "Chain heads and closes"): a batch
whose signed head is not where the chain ends is refused whole; ``POST /v1/chain-close`` verifies and stores the
kiosk's close, idempotently, and refuses a bad signature, another kiosk's close, a close that contradicts the
batches received and a superseded one; after the close, a batch beyond it is refused."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from central.models import Ballot, KioskChainClose, KioskChainHead
from central.office import Office
from devtools.kiosksim import SimKiosk
from election.chain_statement import StatementKind
from sync.protocol import signed_close

pytestmark = pytest.mark.integration

KIOSK = "K-PC-002-1"
STYLE = "BS-MU-02"
FORGED = "A" * 86 + "=="


def _close_body(k: SimKiosk, **change: Any) -> dict[str, Any]:
    statement = k.statement(StatementKind.CLOSE)
    close = signed_close(statement, k.sign(statement.signing_bytes())).model_dump(mode="json")
    return {"protocol_version": 1, "kiosk_id": k.kiosk_id, "close": {**close, **change}}


def test_a_batch_whose_signed_head_does_not_match_its_chain_is_refused_whole(
    kiosks: dict[str, SimKiosk], office: Office
) -> None:
    k = kiosks["K-PC-003-1"]
    ballots = [k.cast("BS-MA-04"), k.cast("BS-MA-04")]
    k.links[0] += 1  # the head claims one more cast ballot than the batch brings
    r = k.send(k.make_batch(ballots))
    assert r.status_code == 409 and "does not match the chain it extends" in r.json()["detail"], r.text
    k.links[0] -= 1
    r = k.send(k.make_batch([k.cast("BS-MA-04")]))  # chained from the refused batch's root: refused too
    assert r.status_code == 409 and "does not match the chain it extends" in r.json()["detail"], r.text
    with office.db.transaction() as s:
        assert s.scalars(select(Ballot).where(Ballot.kiosk_id == "K-PC-003-1")).first() is None
        assert s.scalars(select(KioskChainHead).where(KioskChainHead.kiosk_id == "K-PC-003-1")).first() is None
    k.head, k.links = k.genesis, [2, 0, 0]
    r = k.send(k.make_batch(ballots))  # the same ballots with the kiosk's true head: accepted
    assert r.status_code == 200 and r.json()["accepted"] == 2, r.text


def test_the_close_is_verified_stored_idempotent_and_bounds_later_batches(
    kiosks: dict[str, SimKiosk], office: Office
) -> None:
    k = kiosks[KIOSK]
    k.cast(STYLE)
    k.challenge(STYLE)
    r = k.send(k.make_batch())
    assert r.status_code == 200 and r.json()["accepted"] == 2, r.text

    # Refused: a forged signature, another kiosk's close, a wrong genesis, fewer links than the batches brought.
    r = k.post("/v1/chain-close", _close_body(k, signature=FORGED))
    assert (r.status_code, r.json()["error"]) == (422, "bad_signature"), r.text
    other = kiosks["K-PC-001-1"]
    r = other.post("/v1/chain-close", _close_body(k))
    assert (r.status_code, r.json()["error"]) == (403, "kiosk_mismatch"), r.text
    r = k.post("/v1/chain-close", {**_close_body(k), "kiosk_id": "K-PC-001-1"})
    assert r.status_code == 403, r.text
    k.links[1] -= 1  # a close that leaves out the challenged ballot the office holds
    short = _close_body(k)
    k.links[1] += 1
    r = k.post("/v1/chain-close", short)
    assert r.status_code == 409 and "contradicts the batches received" in r.json()["detail"], r.text
    with office.db.transaction() as s:
        assert s.get(KioskChainClose, (KIOSK, 1)) is None

    # The kiosk's close: stored; the same close again is a duplicate; a different one with the same seq conflicts.
    body = _close_body(k)
    r = k.post("/v1/chain-close", body)
    assert r.status_code == 200 and r.json() == {"protocol_version": 1, "close_seq": 1, "duplicate": False}, r.text
    r = k.post("/v1/chain-close", body)
    assert r.status_code == 200 and r.json()["duplicate"] is True
    k.links[0] += 1
    r = k.post("/v1/chain-close", _close_body(k))
    k.links[0] -= 1
    assert r.status_code == 409, r.text
    with office.db.transaction() as s:
        assert s.get_one(KioskChainClose, (KIOSK, 1)).statement == body["close"]

    # After the close, a batch that extends the chain beyond it is refused; a reopened kiosk's later close
    # (close_seq 2) supersedes it, and the batch within that close is then accepted.
    k.closes = 1
    late = k.make_batch([k.cast(STYLE)])
    r = k.send(late)
    assert r.status_code == 409 and "lies beyond it" in r.json()["detail"], r.text
    reopened = _close_body(k)
    assert reopened["close"]["close_seq"] == 2
    assert k.post("/v1/chain-close", reopened).status_code == 200
    r = k.send(late)
    assert r.status_code == 200 and r.json()["accepted"] == 1, r.text
    k.closes = 0
    r = k.post("/v1/chain-close", _close_body(k))  # another close numbered 1: refused
    assert r.status_code == 409, r.text


def test_provisional_links_after_the_batchs_last_ballot_are_counted_in_its_head_and_the_close(
    kiosks: dict[str, SimKiosk], office: Office
) -> None:
    """A provisional ballot leaves in its own envelope, before the batch sealed after it, which links it
    (``provisional_codes``): the office finds its envelope, puts its code in the batch's root and counts it as
    provisional (head and close); a later batch cannot link it again."""
    k = kiosks["K-PC-001-2"]
    k.cast("BS-MU-01")
    sub, answer = k.provisional("12000099", "BS-MU-01")  # sent before the batch that links it
    assert answer.status_code == 200, answer.text
    assert k.links == [1, 0, 1]
    r = k.send(k.make_batch())
    assert r.status_code == 200 and r.json()["accepted"] == 1, r.text
    with office.db.transaction() as s:
        head = s.scalars(select(KioskChainHead).where(KioskChainHead.kiosk_id == "K-PC-001-2")).one().statement
    assert (head["cast"], head["provisional"], head["root"]) == (1, 1, k.head.hex())
    root, links = k.head, list(k.links)
    k.provisional_codes, k.links[2] = [sub.ballot.confirmation_code], 2  # the same provisional ballot linked again
    r = k.send(k.make_batch([]))
    assert r.status_code == 409 and "already linked by batch" in r.json()["detail"], r.text
    k.head, k.links = root, links
    r = k.close()
    assert r.status_code == 200 and r.json()["duplicate"] is False, r.text
