"""Kiosk-signed chain heads and closes at the office (issue 14 point 1; docs/sync-protocol.md "Chain heads and
closes").

Every batch carries the kiosk's signed chain head (``SignedChainHead``): ``central.ingest`` checks its signature and
genesis here, extends the kiosk's batch chain with the batch and refuses the batch unless the chain then ends exactly
at the head (its root and the counts of cast / challenged / provisional links). When its polls close the kiosk sends
its signed chain close (``POST /v1/chain-close``): it is stored unless it contradicts what the office holds (more
links than it states, or the same number ending elsewhere). After a close, a batch is accepted only when its head
lies within that close. The record publishes each kiosk's certificate, close and last head
(``kiosks/<kiosk>.json``), and the verifier checks each chain against its close (``election/verify/closes.py``).
"""

from __future__ import annotations

import datetime as dt

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy import select
from sqlalchemy.orm import Session

from central import audit
from central.db import Database
from central.models import Kiosk, KioskChainClose, KioskChainHead
from election.chain_statement import ChainStatement, SignedStatement, StatementError
from election.record import KioskStatements
from sync.protocol import ErrorCode, SignedChainClose, SignedChainHead


class ChainRefused(Exception):
    """A head or close the office refuses; ``code`` is the protocol error code."""

    def __init__(self, code: ErrorCode, detail: str) -> None:
        super().__init__(detail)
        self.code = code
        self.detail = detail


def verified(
    cert: x509.Certificate, kiosk_id: str, genesis: str, wire: SignedChainHead | SignedChainClose
) -> SignedStatement:
    """The statement, once it names ``kiosk_id`` (the sender), its signature verifies with the kiosk's enrolled
    certificate and its genesis is this election's genesis for the kiosk."""
    if wire.kiosk_id != kiosk_id:
        raise ChainRefused(ErrorCode.KIOSK_MISMATCH, f"the {wire.statement} names kiosk {wire.kiosk_id!r}")
    key = cert.public_key()
    if not isinstance(key, ec.EllipticCurvePublicKey | Ed25519PublicKey):
        raise ChainRefused(ErrorCode.BAD_SIGNATURE, f"kiosk certificate key is {type(key).__name__}")
    try:
        signed = wire.signed()
        signed.verify(key)
    except StatementError as exc:
        raise ChainRefused(ErrorCode.BAD_SIGNATURE, str(exc)) from None
    if signed.statement.genesis != genesis:
        raise ChainRefused(
            ErrorCode.CONFLICT,
            f"the {signed.statement.kind.value}'s genesis is not this election's genesis for kiosk "
            f"{signed.statement.kiosk_id}",
        )
    return signed


def last_head(s: Session, kiosk_id: str) -> ChainStatement | None:
    """The kiosk's latest accepted chain head (the one with the most links)."""
    row = s.scalars(
        select(KioskChainHead).where(KioskChainHead.kiosk_id == kiosk_id).order_by(KioskChainHead.links.desc()).limit(1)
    ).first()
    return None if row is None else ChainStatement.from_dict(row.statement)


def last_signed_head(s: Session, kiosk_id: str) -> SignedStatement | None:
    row = s.scalars(
        select(KioskChainHead).where(KioskChainHead.kiosk_id == kiosk_id).order_by(KioskChainHead.links.desc()).limit(1)
    ).first()
    return (
        None if row is None else SignedStatement.from_dict(row.statement, ChainStatement.from_dict(row.statement).kind)
    )


def latest_close(s: Session, kiosk_id: str) -> SignedStatement | None:
    """The kiosk's close with the highest ``close_seq`` (it supersedes earlier ones)."""
    row = s.scalars(
        select(KioskChainClose)
        .where(KioskChainClose.kiosk_id == kiosk_id)
        .order_by(KioskChainClose.close_seq.desc())
        .limit(1)
    ).first()
    return (
        None if row is None else SignedStatement.from_dict(row.statement, ChainStatement.from_dict(row.statement).kind)
    )


def within(outer: ChainStatement, inner: ChainStatement) -> bool:
    """Whether the chain ``inner`` states can be a prefix of the chain ``outer`` states: no count beyond
    ``outer``'s and, with as many links, the same root."""
    if any(i > o for i, o in zip(inner.counts, outer.counts, strict=True)):
        return False
    return inner.links < outer.links or inner.root == outer.root


def describe(st: ChainStatement) -> str:
    return (
        f"{st.links} links (cast {st.cast}, challenged {st.challenged}, provisional {st.provisional}) "
        f"ending at root {st.root[:16]}"
    )


def store_head(s: Session, batch_id: str, signed: SignedStatement) -> None:
    s.add(
        KioskChainHead(
            batch_id=batch_id,
            kiosk_id=signed.statement.kiosk_id,
            links=signed.statement.links,
            statement=signed.to_dict(),
        )
    )


def receive_close(
    s: Session, cert: x509.Certificate, kiosk_id: str, genesis: str, wire: SignedChainClose, *, now: dt.datetime
) -> tuple[int, bool]:
    """Verify and store a close inside the caller's transaction (the caller holds the kiosk row lock);
    returns (close_seq, duplicate). Refused: a bad signature, a wrong genesis, a close that contradicts the
    batches received (the last head lies beyond it), an older or different close with a known ``close_seq``."""
    signed = verified(cert, kiosk_id, genesis, wire)
    st = signed.statement
    seq = wire.close_seq
    have = s.get(KioskChainClose, (st.kiosk_id, seq))
    if have is not None:
        if have.statement == signed.to_dict():
            return seq, True
        raise ChainRefused(ErrorCode.CONFLICT, f"another chain close with close_seq {seq} is held")
    newest = latest_close(s, st.kiosk_id)
    if newest is not None and (newest.statement.close_seq or 0) > seq:
        raise ChainRefused(
            ErrorCode.CONFLICT, f"superseded: a later close (close_seq {newest.statement.close_seq}) is held"
        )
    head = last_head(s, st.kiosk_id)
    if head is not None and not within(st, head):
        raise ChainRefused(
            ErrorCode.CONFLICT,
            f"the close ({describe(st)}) contradicts the batches received (their last signed head: {describe(head)})",
        )
    s.add(KioskChainClose(kiosk_id=st.kiosk_id, close_seq=seq, statement=signed.to_dict(), received_at=now))
    audit.append(
        s,
        at=now,
        actor=f"kiosk:{st.kiosk_id}",
        action="chain.closed",
        details={"close": signed.to_dict()},
    )
    return seq, False


def kiosk_statements(db: Database) -> dict[str, KioskStatements]:
    """``kiosks/<kiosk>.json`` of the record for every enrolled kiosk: its certificate, its latest close (or None)
    and its last signed head (or None)."""
    out: dict[str, KioskStatements] = {}
    with db.transaction() as s:
        for kiosk_id, pem in s.execute(select(Kiosk.kiosk_id, Kiosk.public_key_pem).order_by(Kiosk.kiosk_id)):
            if pem is None:
                continue
            out[kiosk_id] = KioskStatements(kiosk_id, pem, latest_close(s, kiosk_id), last_signed_head(s, kiosk_id))
    return out
