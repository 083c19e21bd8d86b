"""A batch as a link of its kiosk's batch chain (steps 5 and 6 of ``central.ingest``): the confirmation codes it
links, the provisional envelopes it links (each held by the office, with a code that recomputes, linked by no earlier
batch; ``LINKED_BY`` marks them), and whether its kiosk-signed head is where the chain ends once the batch is in it
(``central.chains`` keeps the heads and closes)."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from central.chains import describe, last_head, latest_close, within
from central.checker import BallotChecker, BallotRejected, CheckRequest
from central.models import ProvisionalEnvelope
from election.chain_statement import ChainStatement

#: the member of a provisional envelope's stored ballot that names the batch linking it in the kiosk's batch chain
LINKED_BY = "_linked_by_batch"


def code_bytes(code: str) -> bytes:
    """A confirmation code as the 32 bytes the chain links; ``ValueError`` unless 64 lower-case hex digits."""
    try:
        raw = bytes.fromhex(code)
    except ValueError:
        raw = b""
    if len(raw) != 32 or raw.hex() != code:
        raise ValueError(f"confirmation code {code[:16]!r} is not 64 lower-case hex digits")
    return raw


def provisional_links(
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


class HeadMismatch(Exception):
    """The batch's signed chain head is not where the chain ends once the batch is in it."""


def head_mismatch(
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
