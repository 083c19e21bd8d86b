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
check-in keys are derived from the content, so a lost answer can be resent; the handover as a whole is run once
(not yet resumable: a second run would read its own check-ins as in-person votes)."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select

from collector.db import Database
from collector.models import CredentialRow
from collector.record import CountedBallot, RemotePart, remote_part, signed_part
from collector.submissions import VOID_IN_PERSON
from election.ballot import EncryptedBallot
from election.chain_statement import ChainStatement, StatementKind
from election.confirmation import batch_root, confirmation_code, genesis_code
from election.manifest import Manifest
from sync.client import SyncClient
from sync.protocol import (
    BallotBatch,
    BallotDisposition,
    BatchBallot,
    ChainCloseSubmission,
    CheckinRequest,
    CheckinStatus,
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


def hand_over(
    db: Database,
    manifest: Manifest,
    base_hash: bytes,
    collector_id: str,
    client: SyncClient,
    signer: Signer,
    now: dt.datetime,
) -> Handover:
    centre_id = str(manifest.kiosks_by_id[collector_id].centre)  # type: ignore[index]
    part = remote_part(db, collector_id)
    with db.transaction() as s:
        voter_of = {c.credential: c.civil_number for c in s.scalars(select(CredentialRow))}
    already = 0
    for counted in part.counted:
        civil = voter_of[counted.credential]
        answer = client.checkin(
            CheckinRequest(
                kiosk_id=collector_id,
                centre_id=centre_id,
                civil_number=civil,
                idempotency_key=_key("sanduq/remote-checkin/v1", collector_id, counted.credential),
            )
        )
        if answer.status is CheckinStatus.ALREADY_VOTED:
            already += 1
            with db.transaction() as s:
                row = s.get(CredentialRow, counted.credential, with_for_update=True)
                if row is not None and row.voided_at is None:
                    row.voided_at, row.void_reason = now, VOID_IN_PERSON
            continue
        if answer.status is not CheckinStatus.ELIGIBLE or answer.checkin_token is None:
            raise RuntimeError(f"the office refused a remote voter's check-in: {answer.status.value}")
        if answer.ballot_style_id != counted.style_id:
            raise RuntimeError("the office's poll book gives a remote voter another ballot style")
        client.voted(answer.checkin_token, VotedMark(kiosk_id=collector_id))
    if already:
        part = remote_part(db, collector_id)
    chain = seal_chain(part.counted, base_hash, collector_id)
    for sealed in chain.batches:
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
        client.send_batch(to_wire(batch))
    close = chain.close
    submission = ChainCloseSubmission(
        kiosk_id=collector_id, close=signed_close(close, signer.sign(close.signing_bytes()))
    )
    client.send_chain_close(to_wire(submission))
    part = signed_part(
        part,
        election_id=str(manifest.election_id),
        collector_id=collector_id,
        genesis=close.genesis,
        root=close.root,
        sign=signer.sign,
    )
    return Handover(part, len(part.counted), already, len(chain.batches), close.root)
