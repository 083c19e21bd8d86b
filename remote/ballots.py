"""The voter app's BallotPort: encryption and proofs on the device, the credential's signature, submission.

* ``seal``: a fresh 32-byte seed and a random ballot id; ``election.ballot.encrypt_ballot`` with the package's
  election context (the same code a kiosk runs). The seed stays in memory only.
* ``cast``: the next ``sequence`` of this credential, a fresh ``submission_id``, the signed body made once
  (``remote.client.make_submission``) and written to the outbox *before* the first send; then
  ``submit_until_known`` sends those bytes until the collector gives a receipt or a refusal. The receipt's short
  code (the first 16 hex digits of the ballot hash, in groups of 4) is what the voter looks up in the record's
  ``remote/submissions.json``; the QR holds the second-device check code (``remote.payload``).
* ``challenge`` (Benaloh, as Helios' audit): the ballot the voter saw committed to (its code, shown before the
  choice to cast or challenge) is spoiled, never sent, and saved with its seed as
  ``<data dir>/challenged-<ballot id>.json`` (``ChallengedBallot.to_dict()``); the voter opens that file with
  ``python -m remote.verify --challenged FILE`` on a device they trust, which checks the proofs, shows the code
  and the choices it holds. The app itself certifies nothing (its screen says so).
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field

from election.ballot import EncryptedBallot, PlaintextBallot, encrypt_ballot
from election.benaloh import challenge_ballot
from election.canonical import canonical_json
from election.context import ElectionContext
from election.manifest import BallotStyleId, ContestId, Manifest
from kiosk.session import events as ev
from kiosk.session.model import CastReceipt, ChallengeReport, CheckInTicket, SealedBallot, Selections
from remote import client as c
from remote.card import refusal_failure
from remote.credential import Credential
from remote.outbox import Outbox
from remote.payload import CheckPayload

log = logging.getLogger(__name__)


def short_code(ballot_hash_hex: str) -> str:
    """The first 16 hex digits of the ballot hash, upper case, in groups of 4 (remote.check.ballot_code)."""
    return " ".join(ballot_hash_hex[i : i + 4] for i in range(0, 16, 4)).upper()


@dataclass(frozen=True)
class _Sealed:
    ballot: EncryptedBallot
    seed: bytes = field(repr=False)
    plaintext: PlaintextBallot = field(repr=False)


@dataclass
class RemoteBallots:
    manifest: Manifest
    context: ElectionContext
    collector: c.CollectorClient
    credential: Callable[[], Credential]
    outbox: Outbox
    random_bytes: Callable[[int], bytes] = secrets.token_bytes
    submit: Callable[[c.CollectorClient, c.Submission], c.Arrived | c.NotAccepted | c.NotYetKnown] = (
        c.submit_until_known
    )
    last_outcome: c.Arrived | c.NotAccepted | c.NotYetKnown | None = field(default=None, repr=False)

    def seal(self, style: BallotStyleId, selections: Selections) -> ev.BallotSealed | ev.Failed:
        plain = PlaintextBallot(style, {ContestId(k): frozenset(v) for k, v in selections.items()})
        seed = self.random_bytes(32)
        try:
            ballot = encrypt_ballot(
                self.context, self.manifest, plain, ballot_id=self.random_bytes(16).hex(), seed=seed
            )
        except ValueError:
            log.exception("encryption failed")
            return ev.Failed(ev.Failure.ENCRYPTION_FAILED)
        return ev.BallotSealed(
            SealedBallot(handle=_Sealed(ballot, seed, plain), code=short_code(ballot.ballot_hash.hex()))
        )

    def cast(self, sealed: SealedBallot, ticket: CheckInTicket) -> ev.BallotCast | ev.Failed:
        s = sealed.handle
        assert isinstance(s, _Sealed)
        credential = self.credential()
        submission = c.make_submission(
            election_id=self.collector.election_id,
            collector_id=self.collector.collector_id,
            credential_hex=credential.public_hex,
            sign=credential.sign,
            ballot=s.ballot,
            sequence=self.outbox.next_sequence(),
            submission_id=self.random_bytes(16).hex(),
        )
        self.outbox.hold(submission)
        outcome = self.submit(self.collector, submission)
        self.last_outcome = outcome
        if isinstance(outcome, c.Arrived):
            self.outbox.done(submission)
            payload = CheckPayload(self.collector.base_url, s.ballot.ballot_id, s.seed)
            return ev.BallotCast(CastReceipt(code=short_code(outcome.receipt.ballot_hash), qr_payload=payload.text()))
        if isinstance(outcome, c.NotAccepted):
            self.outbox.done(submission)  # refused: resending the same bytes cannot help
            log.info("submission refused by the collector: %s", outcome.error.error)
            failed = refusal_failure(outcome.error)
            return (
                failed if failed.failure is not ev.Failure.POLL_BOOK_UNAVAILABLE else ev.Failed(ev.Failure.CAST_FAILED)
            )
        # NotYetKnown: the submission stays in the outbox and is sent again (same bytes) by resend_pending().
        return ev.Failed(ev.Failure.POLL_BOOK_UNAVAILABLE)

    def challenge(self, sealed: SealedBallot) -> ev.BallotChallenged | ev.Failed:
        s = sealed.handle
        assert isinstance(s, _Sealed)
        challenged = challenge_ballot(s.ballot, s.seed)
        try:
            self.outbox.save_challenged(s.ballot.ballot_id, canonical_json(challenged.to_dict()))
        except OSError:
            return ev.Failed(ev.Failure.CHALLENGE_FAILED)
        decrypted = {c: tuple(sorted(v)) for c, v in s.plaintext.selections.items()}
        code = short_code(s.ballot.ballot_hash.hex())
        return ev.BallotChallenged(ChallengeReport(decrypted=decrypted, verified=True, code=code))


def resend_pending(
    outbox: Outbox,
    collector: c.CollectorClient,
    submit: Callable[[c.CollectorClient, c.Submission], c.Arrived | c.NotAccepted | c.NotYetKnown] = (
        c.submit_until_known
    ),
) -> c.Arrived | c.NotAccepted | c.NotYetKnown | None:
    """Send the outbox's held submission again (byte-identical); ``None`` when nothing is held. A receipt or a
    refusal clears it: the voter is told which."""
    held = outbox.held()
    if held is None:
        return None
    outcome = submit(collector, held)
    if not isinstance(outcome, c.NotYetKnown):
        outbox.done(held)
    return outcome
