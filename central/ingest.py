"""Ballot batch ingest: origin, proofs, ballot style, the kiosk's batch chain, idempotency, running tally.

Order of checks for one ``BallotBatch`` (sync protocol v1):
1. the batch's kiosk is the TLS peer (checked by the API), is in the manifest and is enrolled;
2. the kiosk's signature over ``signing_bytes(batch)`` verifies with its enrolled certificate's key;
3. idempotency: a batch id seen before with the same bytes returns the stored receipt (no double count); with
   other bytes it is a conflict, refused and logged (checked first, in one short read with 2.);
4. per ballot (CPU work, outside any lock, submitted to the checker's workers before 2. is computed and
   cancelled if 2. fails): parse and verify every proof, the wire style equals the encrypted ballot's style,
   the kiosk's centre serves that wilayat (if not: FLAGGED for the committee, Art. 6, ``central.adjudication``);
5. inside one transaction holding the kiosk row lock: each ballot's confirmation code is recomputed
   (``H("confirmation"; genesis, kiosk, ballot hash)``; a ballot whose code differs is refused with the reason);
   each of the batch's ``provisional_codes`` must be the code of a provisional envelope of this kiosk the office
   holds, whose ballot's code recomputes, that no earlier batch linked (else the whole batch is refused); accepted
   cast ballots are added to the per-contest encrypted tally;
6. the batch's kiosk-signed chain head (``central.chains``; signature and genesis checked with 2.) must be where
   the kiosk's batch chain now ends: its root is ``batch_root(the kiosk's last root, kiosk, every code the batch
   links)`` (its ballots' codes as sent and its provisional codes), and the batch's cast, challenged and
   provisional links added to the previous head's counts give its counts. Otherwise the whole batch is refused
   (409 conflict, nothing stored). After the kiosk's chain close, a head beyond that close is refused too.

A batch id already stored with the same bytes is a replay (the stored receipt again); a NEW batch holding a ballot
an earlier batch brought is refused whole (409: a ballot is a link of one batch only; no kiosk does that). Rejected
ballots are stored with their reason (status ``refused``: never counted; ``rejected`` is only the committee's
decision on a flagged ballot), rejected batches in ``rejected_submissions``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from functools import lru_cache
from typing import Any

from cryptography import x509
from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from central import audit, phase
from central.auth import AuthError, decode_b64, verify_signature
from central.chains import ChainRefused, describe, last_head, latest_close, store_head, verified, within
from central.crypto import (
    BallotChecker,
    BallotRejected,
    CheckedBallot,
    CheckerUnavailable,
    CheckRequest,
    ContestSum,
)
from central.db import Database
from central.models import (
    Ballot,
    BallotStatus,
    Batch,
    Kiosk,
    ProvisionalEnvelope,
    RejectedSubmission,
    TallyState,
)
from election.chain_statement import ChainStatement, SignedStatement
from election.confirmation import batch_root
from election.manifest import BallotStyleId, CentreId, KioskId, Manifest
from sync.protocol import (
    BallotBatch,
    BallotDisposition,
    BatchBallot,
    BatchReceipt,
    ErrorCode,
    signing_bytes,
    to_wire,
)

log = logging.getLogger(__name__)


def arrival_minute(now: dt.datetime) -> dt.datetime:
    """A batch's arrival as the office keeps it: to the minute (issue 15, point 4; migration 0008). Operations need
    no more, and a finer time would date each batch against the live check-ins (docs/sync-protocol.md, "What an
    office that records its traffic can still link")."""
    return now.replace(second=0, microsecond=0)


class IngestRefused(Exception):
    """The whole submission is refused; ``code`` is the protocol error code, the message the detail."""

    def __init__(self, code: ErrorCode, detail: str) -> None:
        super().__init__(detail)
        self.code = code
        self.detail = detail


@dataclass
class _Item:
    wire: BatchBallot
    index: int = -1  # position in the list submitted to the checker
    checked: CheckedBallot | None = None
    status: BallotStatus = BallotStatus.ACCEPTED
    reason: str | None = None
    tallied: bool = False


@dataclass(frozen=True)
class IngestResult:
    receipt: BatchReceipt
    rejected: dict[str, str] = field(default_factory=dict)
    flagged: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class WireForms:
    """The two canonical byte strings of a signed submission: ``body`` (= ``sync.protocol.to_wire``, hashed for
    idempotency) and ``signed`` (= ``sync.protocol.signing_bytes``, what the kiosk signed)."""

    body: bytes
    signed: bytes


@lru_cache(maxsize=256)
def _certificate(pem: str) -> x509.Certificate:
    return x509.load_pem_x509_certificate(pem.encode())


def kiosk_certificate(session: Session, kiosk_id: str) -> x509.Certificate:
    pem = session.scalar(select(Kiosk.public_key_pem).where(Kiosk.kiosk_id == kiosk_id))
    if pem is None:
        raise IngestRefused(ErrorCode.UNKNOWN_KIOSK, f"kiosk {kiosk_id!r} is not enrolled")
    return _certificate(pem)


def refuse(
    db: Database, *, kind: str, kiosk_id: str | None, item_id: str | None, reason: str, body: bytes, now: dt.datetime
) -> None:
    """Keep a refused submission and log it (its own transaction: the refusal must survive)."""
    digest = hashlib.sha256(body).hexdigest()
    with db.transaction() as s:
        s.add(
            RejectedSubmission(
                kind=kind, kiosk_id=kiosk_id, item_id=item_id, reason=reason, body_sha256=digest, received_at=now
            )
        )
        audit.append(
            s,
            at=now,
            actor=f"kiosk:{kiosk_id}" if kiosk_id else "unknown",
            action=f"{kind}.refused",
            details={"id": item_id, "reason": reason, "body_sha256": digest},
        )


def _signature_refusal(cert: x509.Certificate, sig: str, signed: bytes) -> IngestRefused | None:
    try:
        verify_signature(cert, decode_b64(sig), signed)
    except AuthError as exc:
        return IngestRefused(ErrorCode.BAD_SIGNATURE, f"kiosk signature: {exc}")
    return None


def check_origin(
    db: Database, kind: str, kiosk_id: str, item_id: str, signed: bytes, sig: str, body: bytes, now: dt.datetime
) -> None:
    with db.transaction() as s:
        try:
            cert = kiosk_certificate(s, kiosk_id)
        except IngestRefused as exc:
            refusal: IngestRefused | None = exc
        else:
            refusal = _signature_refusal(cert, sig, signed)
    if refusal is not None:
        refuse(db, kind=kind, kiosk_id=kiosk_id, item_id=item_id, reason=refusal.detail, body=body, now=now)
        raise refusal


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
        refusal = _signature_refusal(cert, batch.signature, forms.signed)  # while the workers check proofs
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
    items = [_judge(manifest, centre, w, o, n) for n, (w, o) in enumerate(zip(new, outcomes, strict=True))]
    try:
        return _store_batch(db, checker, batch, items, pending.sums(), signed_head, ids, digest, now)
    except _HeadMismatch as exc:
        refuse(db, kind="batch", kiosk_id=kiosk_id, item_id=batch.batch_id, reason=str(exc), body=body, now=now)
        raise IngestRefused(ErrorCode.CONFLICT, str(exc)) from None


class _HeadMismatch(Exception):
    """The batch's signed chain head is not where the chain ends once the batch is in it."""


def _head_mismatch(
    s: Session, kiosk_id: str, claimed: ChainStatement, root: str, linked: tuple[int, int, int]
) -> str | None:
    """Why the signed head ``claimed`` does not hold once the batch is in the chain (None when it holds): the chain
    must end at its root, and the previous head's counts plus the batch's links must be its counts; after the
    kiosk's close the head must lie within the close."""
    before = last_head(s, kiosk_id)
    base = before.counts if before is not None else (0, 0, 0)
    reached = tuple(b + w for b, w in zip(base, linked, strict=True))
    if root != claimed.root or reached != claimed.counts:
        return (
            f"the batch's signed chain head ({describe(claimed)}) does not match the chain it extends "
            f"(the office's chain then has cast {reached[0]}, challenged {reached[1]}, provisional {reached[2]} "
            f"links ending at root {root[:16]})"
        )
    close = latest_close(s, kiosk_id)
    if close is not None and not within(close.statement, claimed):
        return f"the kiosk closed its chain ({describe(close.statement)}); this batch's head lies beyond it"
    return None


def _store_batch(
    db: Database,
    checker: BallotChecker,
    batch: BallotBatch,
    items: list[_Item],
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
            raise _HeadMismatch(f"the batch holds {len(held)} ballot(s) an earlier batch linked, e.g. {held[0]}")
        claimed = signed_head.statement
        envelopes = _provisional_links(s, checker, kiosk_id, batch.provisional_codes)
        if isinstance(envelopes, str):
            raise _HeadMismatch(envelopes)
        _refuse_wrong_codes(items)
        linked = (
            sum(b.disposition is BallotDisposition.CAST for b in batch.ballots),
            sum(b.disposition is BallotDisposition.CHALLENGED for b in batch.ballots),
            len(batch.provisional_codes),
        )
        try:
            head = batch_root(
                bytes.fromhex(head or checker.genesis(kiosk_id)),
                kiosk_id,
                [_code_bytes(b.confirmation_code) for b in batch.ballots]
                + [bytes.fromhex(c) for c in batch.provisional_codes],
            ).hex()
        except ValueError as exc:  # a code that is not 32 bytes of hex, or one linked twice
            raise _HeadMismatch(f"the batch's links cannot be chained: {exc}") from None
        mismatch = _head_mismatch(s, kiosk_id, claimed, head, linked)
        if mismatch is not None:
            raise _HeadMismatch(mismatch)  # rolls the transaction back: nothing of the batch is stored
        for env in envelopes:
            env.ballot = {**env.ballot, LINKED_BY: batch.batch_id}
        store_head(s, batch.batch_id, signed_head)
        tallied = [
            i for i in items if i.status is BallotStatus.ACCEPTED and i.wire.disposition is BallotDisposition.CAST
        ]
        sums, singles = _addends(tallied, worker_sums)
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


def _ballot_row(kiosk_id: str, batch_id: str, i: _Item) -> dict[str, Any]:
    return {
        "ballot_id": i.wire.ballot_id,
        "kiosk_id": kiosk_id,
        "batch_id": batch_id,
        "style_id": i.wire.ballot_style_id,
        "confirmation_code": i.wire.confirmation_code,
        "previous_code": None,
        "status": i.status,
        "reason": i.reason,
        "provisional": False,
        "spoiled": i.wire.disposition is BallotDisposition.CHALLENGED,
        "payload": i.wire.encrypted_ballot,
    }


def _duplicate(response: dict[str, Any]) -> BatchReceipt:
    return BatchReceipt.model_validate({**response, "duplicate_batch": True})


def _addends(tallied: list[_Item], sums: list[ContestSum]) -> tuple[list[ContestSum], list[CheckedBallot]]:
    """What to add to the running tally for the ``tallied`` items: a worker's per-chunk sum for a contest is used
    only when EVERY ballot in it is tallied (none was then refused by the chain, the style or centre rules, or
    stored meanwhile by another batch); the tallied ballots no usable sum covers are added one by one. Exact:
    each tallied ballot's ciphertexts are added once per contest, nothing else is added."""
    counted = {i.index for i in tallied}
    used = [part for part in sums if counted.issuperset(part.indices)]
    covered: dict[int, set[str]] = defaultdict(set)
    for part in used:
        for n in part.indices:
            covered[n].add(part.contest_id)
    singles = []
    for i in tallied:
        if i.checked is None:  # pragma: no cover  (a tallied item always verified)
            continue
        rest = [c for c in i.checked.contest_ids if c not in covered.get(i.index, ())]
        if len(rest) == len(i.checked.contest_ids):
            singles.append(i.checked)
        elif rest:
            singles.append(replace(i.checked, contest_ids=tuple(rest)))
    return used, singles


def _judge(
    manifest: Manifest, centre: str, wire: BatchBallot, outcome: CheckedBallot | BallotRejected, index: int = -1
) -> _Item:
    item = _Item(wire, index)
    if isinstance(outcome, BallotRejected):
        item.status, item.reason = BallotStatus.REFUSED, outcome.reason
        return item
    item.checked = outcome
    if outcome.ballot_id != wire.ballot_id or outcome.style_id != wire.ballot_style_id:
        item.status, item.reason = BallotStatus.REFUSED, "ballot id or style differs from the encrypted ballot"
        return item
    style = manifest.styles_by_id.get(BallotStyleId(wire.ballot_style_id))
    if style is None:
        item.status, item.reason = (
            BallotStatus.REFUSED,
            f"ballot style {wire.ballot_style_id!r} is not in this election",
        )
    elif wire.disposition is BallotDisposition.CAST and not manifest.centre_serves(CentreId(centre), style.wilayat):
        item.status = BallotStatus.FLAGGED
        item.reason = f"centre {centre!r} does not serve wilayat {style.wilayat!r} (ballot style {style.id!r})"
    return item


#: the member of a provisional envelope's stored ballot that names the batch linking it in the kiosk's batch chain
LINKED_BY = "_linked_by_batch"


def _code_bytes(code: str) -> bytes:
    try:
        raw = bytes.fromhex(code)
    except ValueError:
        raw = b""
    if len(raw) != 32 or raw.hex() != code:
        raise ValueError(f"confirmation code {code[:16]!r} is not 64 lower-case hex digits")
    return raw


def _provisional_links(
    s: Session, checker: BallotChecker, kiosk_id: str, codes: Sequence[str]
) -> list[ProvisionalEnvelope] | str:
    """The provisional envelopes a batch links (``provisional_codes``), or why the batch cannot link them: each
    code must be the recomputed code of a provisional ballot of this kiosk the office holds (its envelope arrived
    before the batch: the kiosk sends in outbox order) that no earlier batch linked."""
    if not codes:
        return []
    found: dict[str, ProvisionalEnvelope] = {}
    for row in s.scalars(select(ProvisionalEnvelope).where(ProvisionalEnvelope.kiosk_id == kiosk_id)):
        held = row.ballot.get("confirmation_code")
        if isinstance(held, str) and held in codes:
            found[held] = row
    out = []
    for code in codes:
        env = found.get(code)
        if env is None:
            return f"the batch links a provisional ballot the office does not hold (code {code[:16]})"
        if env.ballot.get(LINKED_BY) is not None:
            return f"the batch links a provisional ballot already linked by batch {env.ballot[LINKED_BY]}"
        request = CheckRequest(env.ballot["encrypted_ballot"], kiosk_id, checker.genesis(kiosk_id))
        try:
            recomputed = checker.check(request).code
        except BallotRejected:
            recomputed = None
        if recomputed != code:
            return f"the batch links a provisional ballot whose confirmation code does not recompute ({code[:16]})"
        out.append(env)
    return out


def _refuse_wrong_codes(items: list[_Item]) -> None:
    """A ballot whose confirmation code is not the one recomputed from it is refused (its claimed code is still a
    link of the kiosk-signed batch: the record shows it withheld). Unparseable ballots are refused already."""
    for i in items:
        if (
            i.checked is not None
            and i.checked.code != i.wire.confirmation_code
            and i.status is not BallotStatus.REFUSED
        ):
            i.status, i.reason = BallotStatus.REFUSED, "confirmation code does not recompute from the ballot"


def add_to_tally(
    s: Session, checker: BallotChecker, ballots: list[CheckedBallot], sums: Sequence[ContestSum] = ()
) -> None:
    """Add ``ballots`` (each to its ``contest_ids``) and the workers' ``sums`` to the per-contest running tally."""
    by_contest: dict[str, list[CheckedBallot]] = defaultdict(list)
    for b in ballots:
        for contest_id in b.contest_ids:
            by_contest[contest_id].append(b)
    parts: dict[str, list[ContestSum]] = defaultdict(list)
    for part in sums:
        parts[part.contest_id].append(part)
    for contest_id in sorted(by_contest.keys() | parts.keys()):  # a fixed lock order: no deadlock between batches
        row = s.execute(
            select(TallyState).where(TallyState.contest_id == contest_id).with_for_update()
        ).scalar_one_or_none()
        if row is None:
            row = TallyState(contest_id=contest_id, state=checker.empty_tally(contest_id), ballots=0)
            s.add(row)
        added = len(by_contest[contest_id]) + sum(p.ballots for p in parts[contest_id])
        row.state = checker.add_to_tally(contest_id, row.state, by_contest[contest_id], parts[contest_id])
        row.ballots += added
