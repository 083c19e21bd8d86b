"""One ballot batch from its arrival to its receipt: the checks of ``central.ingest`` in the order given there,
the proof checks in the checker's workers while the signature and chain head are checked, then one transaction that
holds the chain, the tally, the rows, the receipt and the audit entry."""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass, field
from typing import Any

from cryptography import x509
from sqlalchemy import insert, select, update

from central import audit, phase
from central.chains import ChainRefused, store_head, verified
from central.checker import BallotChecker, CheckerUnavailable, CheckRequest, ContestSum
from central.db import Database
from central.ingest.judging import BallotItem, judge, refuse_wrong_codes
from central.ingest.links import LINKED_BY, HeadMismatch, code_bytes, head_mismatch, provisional_links
from central.ingest.origin import IngestRefused, WireForms, arrival_minute, kiosk_certificate, refuse, signature_refusal
from central.ingest.tally import add_to_tally, addends
from central.models import Ballot, BallotStatus, Batch, Kiosk
from election.chain_statement import SignedStatement
from election.confirmation import batch_root
from election.manifest import KioskId, Manifest
from sync.protocol import BallotBatch, BallotDisposition, BatchReceipt, ErrorCode, signing_bytes, to_wire


@dataclass(frozen=True)
class IngestResult:
    receipt: BatchReceipt
    rejected: dict[str, str] = field(default_factory=dict)
    flagged: dict[str, str] = field(default_factory=dict)


def ingest_batch(
    db: Database,
    manifest: Manifest,
    checker: BallotChecker,
    batch: BallotBatch,
    *,
    now: dt.datetime,
    wire: WireForms | None = None,
) -> IngestResult:
    """Check and store one batch (see the module's docstring). ``wire`` are the batch's canonical forms when the
    caller has them from the decoded body (``sync.protocol.validate_batch``); otherwise they come from the model.

    The proof checks start in the checker's workers as soon as the batch is known to be new; the kiosk's
    signature is checked while they run (a refused batch cancels them), then one transaction holds the chain,
    the tally, the rows, the receipt and the audit entry."""
    forms = wire or WireForms(to_wire(batch), signing_bytes(batch))
    body = forms.body
    digest = hashlib.sha256(body).hexdigest()
    kiosk_id = batch.kiosk_id
    if kiosk_id not in manifest.kiosks_by_id:
        refuse(db, kind="batch", kiosk_id=kiosk_id, item_id=batch.batch_id, reason="kiosk not in the manifest",
               body=body, now=now)  # fmt: skip
        raise IngestRefused(ErrorCode.UNKNOWN_KIOSK, f"kiosk {kiosk_id!r} is not in the manifest")
    ids = [b.ballot_id for b in batch.ballots]
    with db.transaction() as s:  # one short read: replay, the kiosk's certificate, ballots already held
        stored = s.execute(select(Batch.body_sha256, Batch.response).where(Batch.batch_id == batch.batch_id)).first()
        if stored is None:
            try:
                cert: x509.Certificate | None = kiosk_certificate(s, kiosk_id)
                refusal: IngestRefused | None = None
            except IngestRefused as exc:
                cert, refusal = None, exc
            known = set(s.scalars(select(Ballot.ballot_id).where(Ballot.ballot_id.in_(ids))))
    if stored is not None:
        if stored.body_sha256 == digest:
            return IngestResult(_duplicate(stored.response))
        refusal = IngestRefused(ErrorCode.CONFLICT, "batch id reused with different content")
    if refusal is not None or cert is None:
        assert refusal is not None
        refuse(db, kind="batch", kiosk_id=kiosk_id, item_id=batch.batch_id, reason=refusal.detail, body=body, now=now)
        raise refusal
    centre = manifest.kiosks_by_id[KioskId(kiosk_id)].centre
    new = [b for b in batch.ballots if b.ballot_id not in known]
    requests = [
        CheckRequest(
            payload=b.encrypted_ballot,
            kiosk_id=kiosk_id,
            genesis=checker.genesis(kiosk_id),
            challenged=b.disposition is BallotDisposition.CHALLENGED,
        )
        for b in new
    ]
    try:
        pending = checker.submit_many(requests)
        refusal = signature_refusal(cert, batch.signature, forms.signed)  # while the workers check proofs
        if refusal is None:
            try:
                signed_head = verified(cert, kiosk_id, checker.genesis(kiosk_id), batch.chain_head)
            except ChainRefused as exc:
                refusal = IngestRefused(exc.code, f"chain head: {exc.detail}")
        if refusal is not None:
            pending.cancel()
            refuse(db, kind="batch", kiosk_id=kiosk_id, item_id=batch.batch_id, reason=refusal.detail, body=body,
                   now=now)  # fmt: skip
            raise refusal
        outcomes = pending.outcomes()
    except CheckerUnavailable as exc:
        raise IngestRefused(ErrorCode.INTERNAL, str(exc)) from None
    items = [judge(manifest, centre, w, o, n) for n, (w, o) in enumerate(zip(new, outcomes, strict=True))]
    try:
        return _store_batch(db, checker, batch, items, pending.sums(), signed_head, ids, digest, now)
    except HeadMismatch as exc:
        refuse(db, kind="batch", kiosk_id=kiosk_id, item_id=batch.batch_id, reason=str(exc), body=body, now=now)
        raise IngestRefused(ErrorCode.CONFLICT, str(exc)) from None


def _store_batch(
    db: Database,
    checker: BallotChecker,
    batch: BallotBatch,
    items: list[BallotItem],
    worker_sums: list[ContestSum],
    signed_head: SignedStatement,
    ids: list[str],
    digest: str,
    now: dt.datetime,
) -> IngestResult:
    kiosk_id = batch.kiosk_id
    with db.transaction() as s:
        try:  # the election's phase first (lock order: phase, then kiosk): refused once the tally is frozen
            phase.check(s, phase.Write.BATCH)
        except phase.PhaseRefused as exc:
            raise IngestRefused(ErrorCode.CONFLICT, str(exc)) from None
        head = s.execute(select(Kiosk.chain_head).where(Kiosk.kiosk_id == kiosk_id).with_for_update()).scalar_one()
        again = s.execute(select(Batch.body_sha256, Batch.response).where(Batch.batch_id == batch.batch_id)).first()
        if again is not None:  # the same batch raced in on another connection
            if again.body_sha256 != digest:
                raise IngestRefused(ErrorCode.CONFLICT, "batch id reused with different content")
            return IngestResult(_duplicate(again.response))
        if items:  # another batch holding some of these ballots may have been stored meanwhile
            raced = set(
                s.scalars(select(Ballot.ballot_id).where(Ballot.ballot_id.in_([i.wire.ballot_id for i in items])))
            )
            items = [i for i in items if i.wire.ballot_id not in raced]
        if len(items) != len(ids):  # a ballot is a link of ONE batch of the kiosk's batch chain
            held = sorted(set(ids) - {i.wire.ballot_id for i in items})
            raise HeadMismatch(f"the batch holds {len(held)} ballot(s) an earlier batch linked, e.g. {held[0]}")
        claimed = signed_head.statement
        envelopes = provisional_links(s, checker, kiosk_id, batch.provisional_codes)
        if isinstance(envelopes, str):
            raise HeadMismatch(envelopes)
        refuse_wrong_codes(items)
        linked = (
            sum(b.disposition is BallotDisposition.CAST for b in batch.ballots),
            sum(b.disposition is BallotDisposition.CHALLENGED for b in batch.ballots),
            len(batch.provisional_codes),
        )
        try:
            head = batch_root(
                bytes.fromhex(head or checker.genesis(kiosk_id)),
                kiosk_id,
                [code_bytes(b.confirmation_code) for b in batch.ballots]
                + [bytes.fromhex(c) for c in batch.provisional_codes],
            ).hex()
        except ValueError as exc:  # a code that is not 32 bytes of hex, or one linked twice
            raise HeadMismatch(f"the batch's links cannot be chained: {exc}") from None
        mismatch = head_mismatch(s, kiosk_id, claimed, head, linked)
        if mismatch is not None:
            raise HeadMismatch(mismatch)  # rolls the transaction back: nothing of the batch is stored
        for env in envelopes:
            env.ballot = {**env.ballot, LINKED_BY: batch.batch_id}
        store_head(s, batch.batch_id, signed_head)
        tallied = [
            i for i in items if i.status is BallotStatus.ACCEPTED and i.wire.disposition is BallotDisposition.CAST
        ]
        sums, singles = addends(tallied, worker_sums)
        add_to_tally(s, checker, singles, sums)
        if items:
            s.execute(insert(Ballot), [_ballot_row(kiosk_id, batch.batch_id, i) for i in items])
        s.execute(
            update(Kiosk)
            .where(Kiosk.kiosk_id == kiosk_id)
            .values(chain_head=head, ballots_accepted=Kiosk.ballots_accepted + len(tallied), last_seen_at=now)
        )
        rejected = {i.wire.ballot_id: i.reason or "" for i in items if i.status is BallotStatus.REFUSED}
        flagged = {i.wire.ballot_id: i.reason or "" for i in items if i.status is BallotStatus.FLAGGED}
        receipt = BatchReceipt(
            batch_id=batch.batch_id,
            accepted=len(items) - len(rejected),
            duplicate_ballots=len(ids) - len(items),
            duplicate_batch=False,
            rejected=len(rejected),
        )
        s.execute(
            insert(Batch).values(
                batch_id=batch.batch_id,
                kiosk_id=kiosk_id,
                body_sha256=digest,
                received_at=arrival_minute(now),
                response=receipt.model_dump(mode="json"),
            )
        )
        audit.append(
            s,
            at=arrival_minute(now),
            actor=f"kiosk:{kiosk_id}",
            action="batch.received",
            details={
                "batch_id": batch.batch_id,
                "body_sha256": digest,
                "stored": len(items) - len(rejected),
                "duplicates": len(ids) - len(items),
                "rejected": rejected,
                "flagged": flagged,
            },
        )
    return IngestResult(receipt, rejected, flagged)


def _ballot_row(kiosk_id: str, batch_id: str, i: BallotItem) -> dict[str, Any]:
    return {
        "ballot_id": i.wire.ballot_id,
        "kiosk_id": kiosk_id,
        "batch_id": batch_id,
        "style_id": i.wire.ballot_style_id,
        "confirmation_code": i.wire.confirmation_code,
        "status": i.status,
        "reason": i.reason,
        "provisional": False,
        "spoiled": i.wire.disposition is BallotDisposition.CHALLENGED,
        "payload": i.wire.encrypted_ballot,
    }


def _duplicate(response: dict[str, Any]) -> BatchReceipt:
    return BatchReceipt.model_validate({**response, "duplicate_batch": True})
