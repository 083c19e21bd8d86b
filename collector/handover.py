"""At close, the collector hands its counted ballots to the central office as a kiosk-like source
(docs/remote-voting.md, section 7), through the real sync client and the office's kiosk endpoints, with the
collector's enrolled kiosk certificate and key:

1. every counted voter is checked in at the office (``/v1/checkins`` then the voted mark), ALL before any ballot
   leaves, so the office cannot pair a check-in with a ballot by timing; a voter the poll book already marks as
   voted (an in-person vote the office could not report in time) is answered so, and that credential is voided
   here instead of counted;
2. the counted ballots, in the order of their ballot hashes (random, public, and independent of the voters and of
   when they voted), with confirmation codes from the collector's genesis code, are sent in signed batches of at
   most 500, each a link of the collector's batch chain with its signed chain head (the batch's root), then the
   signed chain close;
3. the record part ``remote/`` it returns carries the collector's statement (``remote/statement.json``, signed
   with the same key) naming each file's SHA-256, the counts and the chain's root.

The office's ingest, tally, record, guardians and verifier then treat them as any kiosk's ballots. Batch ids and
check-in keys are derived from the content, and the collector's database keeps the handover's progress (each
check-in's token and whether its voted mark was acknowledged; the signed batches and close as sent, and which were
acknowledged), so after a cut at any step the same command continues where it stopped, sends the same bytes, and
never takes its own voted mark for an in-person vote; once complete, a rerun sends nothing."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select

from collector.db import Database
from collector.models import CredentialRow, HandoverCheckinRow, HandoverOutboxRow
from collector.record import CountedBallot, RemotePart, remote_part, signed_part
from collector.submissions import VOID_IN_PERSON
from election.ballot import EncryptedBallot
from election.chain_statement import ChainStatement, StatementKind
from election.confirmation import batch_root, confirmation_code, genesis_code
from election.manifest import Manifest
from sync.client import Rejected, SyncClient
from sync.protocol import (
    BallotBatch,
    BallotDisposition,
    BatchBallot,
    ChainCloseSubmission,
    CheckinRequest,
    CheckinStatus,
    ErrorCode,
    VotedMark,
    signed_close,
    signed_head,
    signing_bytes,
    to_wire,
)
from sync.signing import Signer

MAX_BATCH = 500


@dataclass(frozen=True)
class Handover:
    part: RemotePart  # the record part remote/ after the office's answers
    checked_in: int
    already_voted: int
    batches: int
    last_root: str
    resumed: bool  # an earlier run had checked voters in or sealed the chain
    already_complete: bool  # an earlier run had completed: nothing was sent


@dataclass(frozen=True)
class SealedBatch:
    links: tuple[BatchBallot, ...]  # in the order of their ballot hashes, as chained
    head: ChainStatement  # the signed chain head it carries: the root after it


@dataclass(frozen=True)
class SealedChain:
    """The collector's batch chain of its counted ballots, and the chain close that ends it."""

    batches: tuple[SealedBatch, ...]
    close: ChainStatement


def seal_chain(counted: Sequence[CountedBallot], base_hash: bytes, collector_id: str) -> SealedChain:
    """The counted ballots in the order of their ballot hashes, with confirmation codes from the collector's
    genesis code, cut into batches of at most ``MAX_BATCH``, each a link of the batch chain (pure: the handover
    sends it; ``export`` signs the root it would end at)."""
    genesis = genesis_code(base_hash, collector_id)
    links = [
        BatchBallot(
            ballot_id=c.ballot_id,
            ballot_style_id=c.style_id,
            disposition=BallotDisposition.CAST,
            confirmation_code=confirmation_code(genesis, collector_id, EncryptedBallot.from_dict(c.ballot)).hex(),
            encrypted_ballot=c.ballot,
        )
        for c in sorted(counted, key=lambda c: c.ballot_hash)
    ]
    batches: list[SealedBatch] = []
    root = genesis
    for start in range(0, len(links), MAX_BATCH):
        chunk = tuple(links[start : start + MAX_BATCH])
        root = batch_root(root, collector_id, [bytes.fromhex(b.confirmation_code) for b in chunk])
        head = ChainStatement(StatementKind.HEAD, collector_id, genesis.hex(), root.hex(), start + len(chunk), 0, 0)
        batches.append(SealedBatch(chunk, head))
    close = ChainStatement(StatementKind.CLOSE, collector_id, genesis.hex(), root.hex(), len(links), 0, 0, 1)
    return SealedChain(tuple(batches), close)


def _key(label: str, *parts: str) -> str:
    return hashlib.sha256("\x00".join((label, *parts)).encode()).hexdigest()[:32]


def _marked(client: SyncClient, token: str, collector_id: str) -> bool:
    """Send (or resend) the voted mark of the collector's check-in ``token``: True once the office holds it (a
    resent mark of a spent token is "already recorded"), False when the office no longer knows the token (its lock
    ended without the mark)."""
    try:
        client.voted(token, VotedMark(kiosk_id=collector_id))
    except Rejected as exc:
        if exc.error.error is ErrorCode.UNKNOWN_TOKEN:
            return False
        raise
    return True


def _check_in_all(
    db: Database,
    client: SyncClient,
    counted: Sequence[CountedBallot],
    collector_id: str,
    centre_id: str,
    now: dt.datetime,
) -> int:
    """Step 1, resumable: each counted voter whose voted mark the office has not acknowledged is checked in (the
    same idempotency key on every run: a lock still held is answered with the same token) and marked voted. The
    token is stored before its mark is sent, so a rerun resends that mark instead of a check-in the office would
    answer "already voted" after it. Returns how many credentials were voided as voted in person."""
    with db.transaction() as s:
        voter_of = {c.credential: c.civil_number for c in s.scalars(select(CredentialRow))}
        progress = {p.credential: (p.checkin_token, p.voted) for p in s.scalars(select(HandoverCheckinRow))}
    already = 0
    for ballot in counted:
        credential = ballot.credential
        token, voted = progress.get(credential, (None, False))
        if voted:
            continue
        if token is not None and _marked(client, token, collector_id):
            _record_mark(db, credential, token, voted=True)
            continue
        answer = client.checkin(
            CheckinRequest(
                kiosk_id=collector_id,
                centre_id=centre_id,
                civil_number=voter_of[credential],
                idempotency_key=_key("sanduq/remote-checkin/v1", collector_id, credential),
            )
        )
        if answer.status is CheckinStatus.ALREADY_VOTED:  # no mark of ours ever landed: an in-person vote
            already += 1
            with db.transaction() as s:
                row = s.get(CredentialRow, credential, with_for_update=True)
                if row is not None and row.voided_at is None:
                    row.voided_at, row.void_reason = now, VOID_IN_PERSON
            continue
        if answer.status is not CheckinStatus.ELIGIBLE or answer.checkin_token is None:
            raise RuntimeError(f"the office refused a remote voter's check-in: {answer.status.value}")
        if answer.ballot_style_id != ballot.style_id:
            raise RuntimeError("the office's poll book gives a remote voter another ballot style")
        _record_mark(db, credential, answer.checkin_token, voted=False)
        if not _marked(client, answer.checkin_token, collector_id):
            raise RuntimeError("the office does not know the check-in token it has just given")
        _record_mark(db, credential, answer.checkin_token, voted=True)
    return already


def _record_mark(db: Database, credential: str, token: str, *, voted: bool) -> None:
    with db.transaction() as s:
        row = s.get(HandoverCheckinRow, credential, with_for_update=True)
        if row is None:
            s.add(HandoverCheckinRow(credential=credential, checkin_token=token, voted=voted))
        else:
            row.checkin_token, row.voted = token, voted


def _outbox(chain: SealedChain, collector_id: str, signer: Signer) -> list[HandoverOutboxRow]:
    """The signed batches (ballots in the order of their ballot ids, not of their ballot hashes) and the signed
    chain close, as wire bytes."""
    rows: list[HandoverOutboxRow] = []
    for seq, sealed in enumerate(chain.batches):
        shuffled = sorted(sealed.links, key=lambda b: b.ballot_id)  # not the order of ballot hashes
        batch_id = _key("sanduq/remote-batch/v1", collector_id, sealed.head.root)
        unsigned = BallotBatch.model_construct(
            kiosk_id=collector_id,
            batch_id=batch_id,
            ballots=shuffled,
            provisional_codes=[],
            chain_head=signed_head(sealed.head, signer.sign(sealed.head.signing_bytes())),
            signature="",
        )
        batch = BallotBatch(
            kiosk_id=collector_id,
            batch_id=batch_id,
            ballots=shuffled,
            provisional_codes=[],
            chain_head=unsigned.chain_head,
            signature=signer.sign(signing_bytes(unsigned)),
        )
        rows.append(HandoverOutboxRow(seq=seq, kind="batch", root=sealed.head.root, body=to_wire(batch)))
    close = chain.close
    submission = ChainCloseSubmission(
        kiosk_id=collector_id, close=signed_close(close, signer.sign(close.signing_bytes()))
    )
    rows.append(HandoverOutboxRow(seq=len(rows), kind="close", root=close.root, body=to_wire(submission)))
    return rows


def hand_over(
    db: Database,
    manifest: Manifest,
    base_hash: bytes,
    collector_id: str,
    client: SyncClient,
    signer: Signer,
    now: dt.datetime,
) -> Handover:
    """The handover, resumable: run again after a cut at any step, it continues where it stopped and sends the
    same bytes; run again after it completed, it sends nothing (``already_complete``)."""
    centre_id = str(manifest.kiosks_by_id[collector_id].centre)  # type: ignore[index]
    part = remote_part(db, collector_id)
    with db.transaction() as s:
        stored = [(r.seq, r.kind, r.root, r.acknowledged) for r in s.scalars(select(HandoverOutboxRow))]
        resumed = bool(stored) or s.scalar(select(HandoverCheckinRow.credential).limit(1)) is not None
    already = 0
    if not stored:  # no ballot has left yet: every check-in first
        already = _check_in_all(db, client, part.counted, collector_id, centre_id, now)
        if already:
            part = remote_part(db, collector_id)
        chain = seal_chain(part.counted, base_hash, collector_id)
        rows = _outbox(chain, collector_id, signer)
        with db.transaction() as s:
            s.add_all(rows)
        stored = [(r.seq, r.kind, r.root, False) for r in rows]
    else:  # resumed after the chain was sealed: the counted ballots must still be those it chained
        chain = seal_chain(part.counted, base_hash, collector_id)
    stored.sort()
    root = stored[-1][2]
    if chain.close.root != root:
        raise RuntimeError("the counted ballots are not those of the chain this handover sealed and began to send")
    pending = [seq for seq, _kind, _root, acknowledged in stored if not acknowledged]
    for seq in pending:
        with db.transaction() as s:
            row = s.get_one(HandoverOutboxRow, seq)
            kind, body = row.kind, row.body
        if kind == "batch":
            client.send_batch(body)
        else:
            client.send_chain_close(body)
        with db.transaction() as s:
            s.get_one(HandoverOutboxRow, seq).acknowledged = True
    part = signed_part(
        part,
        election_id=str(manifest.election_id),
        collector_id=collector_id,
        genesis=genesis_code(base_hash, collector_id).hex(),
        root=root,
        sign=signer.sign,
    )
    batches = len(stored) - 1
    return Handover(part, len(part.counted), already, batches, root, resumed, not pending)


def describe(done: Handover) -> str:
    """What the operator reads after ``python -m collector handover``."""
    totals = f"{done.checked_in} voters checked in, {done.batches} batch(es), chain root {done.last_root}"
    if done.already_complete:
        return f"the handover was already complete: nothing sent to the office ({totals})"
    resumed = " (resumed where an earlier run stopped)" if done.resumed else ""
    return f"handed over{resumed}: {totals}; {done.already_voted} had voted in person (voided by this run)"
