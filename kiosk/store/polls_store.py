"""The kiosk's polls as the ballot box stores them: open, pause, resume, close and reopen as ``kiosk.polls.decide``
rules (the rules live there), each transition stored with its report in the signed audit log; the signed chain
close queued when the polls close."""

from __future__ import annotations

import json

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from election.chain_statement import ChainStatement, StatementKind
from kiosk.polls import PollsAction, PollsState, Refused, StaffCard, decide
from kiosk.store.models import AuditRow, BallotRow, CheckinRow, KioskRow, OutboxRow
from kiosk.store.outbox import Outbox
from kiosk.store.records import CHAIN_CLOSE_OUTBOX, CHAIN_CLOSED, PollsReport, TransitionRefused
from sync.protocol import ChainCloseSubmission, SignedChainClose, signed_close, to_wire


class PollsStore(Outbox):
    """Polls states (a close seals the last batch first, so it needs the outbox)."""

    @property
    def genesis(self) -> str:
        """``genesis_code(H_E, kiosk)`` (hex): every confirmation code of this kiosk is computed from it."""
        with Session(self._engine) as s:
            return self._genesis(s)

    @property
    def chain_head(self) -> str:
        """The root (hex) of the kiosk's last sealed batch (its genesis before the first): the next batch chains
        from it."""
        return self._kiosk_row().chain_head

    @property
    def polls_state(self) -> PollsState:
        return PollsState(self._kiosk_row().polls_state)

    def apply(self, action: PollsAction, staff: StaffCard) -> PollsReport:
        """Open, pause, resume or close the polls; returns the zero report (open) or the close report."""
        if action is PollsAction.CLOSE and self.polls_state in (PollsState.OPEN, PollsState.PAUSED):
            self.seal_batches(force=True)  # the last, possibly small, batch leaves with the close report
        with self._tx() as (s, kiosk):
            stored = s.scalar(select(func.count()).select_from(BallotRow)) or 0
            outcome = decide(PollsState(kiosk.polls_state), action, staff, ballots_stored=stored)
            if isinstance(outcome, Refused):
                raise TransitionRefused(outcome)
            kiosk.polls_state = outcome.after.value
            report = PollsReport(
                self.kiosk_id, outcome.after, self._counts(s), kiosk.chain_head, self._audit_count(s) + 1
            )
            self._log(
                s,
                f"polls_{action.value}",
                {"staff": staff.to_dict(), "from": outcome.before.value, "report": report.to_dict()},
            )
            if action is PollsAction.CLOSE:
                # The signed chain close: stored (audit log, outbox) in the transaction that closes the polls,
                # queued after the final batch (sealed just before), sent to POST /v1/chain-close.
                close = self._chain_close(s, kiosk)
                self._log(s, CHAIN_CLOSED, {"close": close.model_dump(mode="json")})
                submission = ChainCloseSubmission(kiosk_id=self.kiosk_id, close=close)
                s.add(
                    OutboxRow(
                        kind=CHAIN_CLOSE_OUTBOX,
                        idempotency_key=f"close-{close.close_seq}",
                        body=to_wire(submission),
                        sent=False,
                        attempts=0,
                    )
                )
        return report

    def _chain_close(self, s: Session, kiosk: KioskRow) -> SignedChainClose:
        """The next signed chain close (``close_seq`` = closes already logged + 1): the last sealed batch's root and
        counts (the polls close only after every pending ballot and provisional link was sealed)."""
        closes = s.scalar(select(func.count()).select_from(AuditRow).where(AuditRow.kind == CHAIN_CLOSED)) or 0
        root, (cast, challenged, provisional) = self._last_sealed(s)
        statement = ChainStatement(
            StatementKind.CLOSE,
            self.kiosk_id,
            self._genesis(s),
            root,
            cast,
            challenged,
            provisional,
            close_seq=closes + 1,
        )
        return signed_close(statement, self._signer.sign(statement.signing_bytes()))

    def chain_close(self) -> SignedChainClose | None:
        """The kiosk's latest signed chain close (None while its polls never closed): for the close report."""
        with Session(self._engine) as s:
            payload = s.scalar(
                select(AuditRow.payload).where(AuditRow.kind == CHAIN_CLOSED).order_by(AuditRow.seq.desc()).limit(1)
            )
        return None if payload is None else SignedChainClose.model_validate(json.loads(payload)["close"])

    def checkin_count(self) -> int:
        """Check-ins recorded on this kiosk (random tokens only, never who): for the staff screen."""
        with Session(self._engine) as s:
            return s.scalar(select(func.count()).select_from(CheckinRow)) or 0
