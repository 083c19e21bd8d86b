"""The collector's operations (docs/remote-voting.md, section 5), independent of HTTP: each takes a parsed JSON
body and returns the answer's JSON, or raises :class:`CollectorError`. Time and randomness are passed in."""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
import logging
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from cryptography.x509.oid import NameOID
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from collector import submissions
from collector.db import Database
from collector.election_data import ElectionData
from collector.errors import CollectorError, ErrorCode
from collector.limits import Limiter
from collector.models import ChallengeRow, CredentialRow, InPersonRow, SubmissionRow
from collector.my_votes import my_votes_answer
from collector.submissions import VOID_IN_PERSON, VOID_REPLACED, Held
from collector.submissions import utc as _utc
from election.ballot import BallotFormatError, BallotVerificationError, parse_and_verify_ballot
from election.canonical import canonical_json, sha256_hex
from election.manifest import VoterGroup
from election.remote_statement import BallotStatement, CardPurpose, RemoteStatementError, card_nonce, parse_credential
from election.roll import CivilNumber, CivilNumberError, RollEntry, parse_civil_number
from kiosk.card.pki import Challenge, check_certificate_der, check_signature
from kiosk.card.profile import EcdsaFormat
from kiosk.card.results import AuthFailure

log = logging.getLogger(__name__)

Clock = Callable[[], dt.datetime]
RandomBytes = Callable[[int], bytes]

MAX_CERTIFICATE_BYTES = 8192
MAX_SIGNATURE_BYTES = 1024


def _time(value: dt.datetime) -> str:
    return _utc(value).isoformat()


def _bad(detail: str) -> CollectorError:
    return CollectorError(ErrorCode.BAD_REQUEST, detail)


def _exact(body: Any, keys: set[str], what: str) -> Mapping[str, Any]:
    if not isinstance(body, dict):
        raise _bad(f"{what}: expected a JSON object")
    if set(body) != keys:
        missing, unknown = sorted(keys - set(body)), sorted(set(body) - keys)
        parts = [f"missing {missing}"] if missing else []
        parts += [f"unknown {unknown}"] if unknown else []
        raise _bad(f"{what}: " + "; ".join(parts))
    return body


def _hex(value: Any, digits: int, what: str) -> str:
    if not isinstance(value, str) or len(value) != digits or value.strip("0123456789abcdef"):
        raise _bad(f"{what} must be {digits} lower-case hex digits")
    return value


def _b64(value: Any, limit: int, what: str) -> bytes:
    if not isinstance(value, str) or len(value) > limit * 4 // 3 + 4:
        raise _bad(f"{what} must be base64 of at most {limit} bytes")
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise _bad(f"{what} is not valid base64") from None


@dataclass(frozen=True)
class Voter:
    civil_number: CivilNumber
    entry: RollEntry
    group: VoterGroup


@dataclass
class Collector:
    db: Database
    election: ElectionData
    clock: Clock
    random_bytes: RandomBytes
    limiter: Limiter = field(default_factory=Limiter)
    # One thread of this process checks proofs at a time: the checks are CPU-bound, and threads taking turns on
    # the interpreter lock between libsodium calls cost more CPU than they gain (bench/bench_collector.py); the
    # other threads meanwhile wait on the database or the network. Run one process per core for the rest.
    _proofs: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def now(self) -> dt.datetime:
        return self.clock().astimezone(dt.UTC)

    # ---- challenge ------------------------------------------------------------------------------

    def challenge(self, body: Any, client: str) -> dict[str, Any]:
        _exact(body, set(), "challenge")
        self.limiter.challenge(client)
        now = self.now().replace(microsecond=0)
        expires = now + dt.timedelta(seconds=self.limiter.limits.challenge_seconds)
        challenge_id, nonce = self.random_bytes(16).hex(), self.random_bytes(32)
        with self.db.transaction() as s:
            s.add(ChallengeRow(challenge_id=challenge_id, nonce=nonce, issued_at=now, expires_at=expires, used=False))
        return {
            "challenge_id": challenge_id,
            "nonce": nonce.hex(),
            "collector_id": str(self.election.collector_id),
            "election_id": self.election.election_id,
            "issued_at": now.isoformat(),
            "expires_at": expires.isoformat(),
        }

    def _consume(self, challenge_id: str) -> tuple[bytes, dt.datetime]:
        """The challenge's nonce and time; it is used up now, whatever happens next."""
        now = self.now()
        with self.db.transaction() as s:
            row = s.get(ChallengeRow, challenge_id, with_for_update=True)
            if row is None:
                raise CollectorError(ErrorCode.UNKNOWN_CHALLENGE, "no such challenge")
            if row.used:
                raise CollectorError(ErrorCode.STALE_CHALLENGE, "this challenge was already used")
            row.used = True
            if _utc(row.expires_at) <= now:
                raise CollectorError(ErrorCode.STALE_CHALLENGE, "this challenge has expired")
            return row.nonce, _utc(row.issued_at)

    def _authenticate(self, body: Mapping[str, Any], purpose: CardPurpose, extra: bytes) -> Voter:
        """The card's signature over the purpose-bound challenge, the certificate checked as a kiosk does, the
        voter on the roll and eligible."""
        challenge_id = _hex(body["challenge_id"], 32, "challenge_id")
        der = _b64(body["certificate"], MAX_CERTIFICATE_BYTES, "certificate")
        signature = _b64(body["signature"], MAX_SIGNATURE_BYTES, "signature")
        try:
            ecdsa_format = EcdsaFormat(body["ecdsa_format"])
        except ValueError:
            raise _bad("ecdsa_format must be 'raw' or 'der'") from None
        nonce, issued_at = self._consume(challenge_id)
        now = self.now()
        accepted = check_certificate_der(der, self.election.anchors, now)
        if isinstance(accepted, AuthFailure):
            raise CollectorError(ErrorCode.CARD_REFUSED, accepted.reason.value.lower())
        if accepted.role is not None:
            raise CollectorError(ErrorCode.CARD_REFUSED, "untrusted: a staff card is not a voter's card")
        statement = Challenge(
            card_nonce(purpose, nonce, extra), str(self.election.collector_id), self.election.election_id, issued_at
        )
        refused = check_signature(accepted.certificate, statement, signature, ecdsa_format)
        if refused is not None:
            raise CollectorError(ErrorCode.CARD_REFUSED, refused.reason.value.lower())
        serials = accepted.certificate.subject.get_attributes_for_oid(NameOID.SERIAL_NUMBER)
        prefix = self.election.civil_number_prefix
        raw = serials[0].value if len(serials) == 1 else None
        if not isinstance(raw, str) or not raw.startswith(prefix):
            raise CollectorError(ErrorCode.CARD_REFUSED, "identity_mismatch: the certificate names no civil number")
        try:
            civil_number = parse_civil_number(raw.removeprefix(prefix))
        except CivilNumberError:
            raise CollectorError(ErrorCode.CARD_REFUSED, "identity_mismatch: not a civil number") from None
        self.limiter.voter(civil_number)
        entry = self.election.roll.get(civil_number)
        if entry is None:
            raise CollectorError(ErrorCode.NOT_ON_ROLL, "this card's holder is not on the electoral roll")
        if not entry.eligible:
            raise CollectorError(ErrorCode.NOT_ELIGIBLE, "this card's holder is not eligible to vote")
        return Voter(civil_number, entry, self.election.group_of(civil_number))

    def _window_open(self, group: VoterGroup) -> None:
        window = self.election.remote.window(group)
        now = self.now()
        if window is None:
            raise CollectorError(ErrorCode.WINDOW_CLOSED, f"voters {group.value} cannot vote remotely")
        if not window.is_open(now):
            raise CollectorError(
                ErrorCode.WINDOW_CLOSED,
                f"remote voting for voters {group.value} is open from {window.opens.isoformat()} "
                f"to {window.closes.isoformat()}",
            )

    # ---- credentials ----------------------------------------------------------------------------

    def register(self, body: Any) -> dict[str, Any]:
        body = _exact(body, {"challenge_id", "credential", "certificate", "signature", "ecdsa_format"}, "credentials")
        credential = _hex(body["credential"], 64, "credential")
        try:
            key = parse_credential(credential)
        except (RemoteStatementError, ValueError):
            raise _bad("credential is not an Ed25519 public key") from None
        voter = self._authenticate(body, CardPurpose.REGISTER, key.public_bytes_raw())
        self._window_open(voter.group)
        now = self.now()
        style = self.election.manifest.style_for_wilayat(voter.entry.wilayat).id
        try:
            with self.db.transaction() as s:
                if s.get(InPersonRow, voter.civil_number) is not None:
                    raise CollectorError(ErrorCode.VOTED_IN_PERSON, "this voter has voted at a polling centre")
                existing = s.get(CredentialRow, credential, with_for_update=True)
                if existing is not None:
                    if existing.civil_number != voter.civil_number or existing.voided_at is not None:
                        raise CollectorError(ErrorCode.CONFLICT, "this credential cannot be registered")
                    return self._registered(existing, replaced=False)
                live = s.scalars(
                    select(CredentialRow)
                    .where(CredentialRow.civil_number == voter.civil_number, CredentialRow.voided_at.is_(None))
                    .with_for_update()
                ).first()
                if live is not None:
                    live.voided_at, live.void_reason = now, VOID_REPLACED
                    s.flush()
                row = CredentialRow(
                    credential=credential,
                    civil_number=voter.civil_number,
                    style_id=style,
                    voter_group=voter.group.value,
                    registered_at=now,
                )
                s.add(row)
                s.flush()
                log.info("credential registered%s", " (replacing an earlier one)" if live is not None else "")
                return self._registered(row, replaced=live is not None)
        except IntegrityError:
            raise CollectorError(ErrorCode.CONFLICT, "a concurrent registration for this voter; try again") from None

    @staticmethod
    def _registered(row: CredentialRow, *, replaced: bool) -> dict[str, Any]:
        return {
            "credential": row.credential,
            "style_id": row.style_id,
            "group": row.voter_group,
            "registered_at": _time(row.registered_at),
            "replaced": replaced,
        }

    # ---- ballots --------------------------------------------------------------------------------

    def _receipt(self, held: Held, *, duplicate: bool) -> dict[str, Any]:
        until = held.received_at + dt.timedelta(minutes=self.limiter.limits.fetch_minutes)
        return {
            "submission_id": held.submission_id,
            "ballot_id": held.ballot_id,
            "ballot_hash": held.ballot_hash,
            "sequence": held.sequence,
            "received_at": _time(held.received_at),
            "duplicate": duplicate,
            "fetch_until": until.isoformat(),
        }

    def _signed(
        self, body: Mapping[str, Any], credential: str, submission_id: str, ballot_hash: str
    ) -> BallotStatement:
        """The ballot statement (docs/remote-voting.md, section 4), its credential signature checked."""
        try:
            statement = BallotStatement(
                self.election.election_id,
                str(self.election.collector_id),
                credential,
                submission_id,
                body["sequence"],
                body["ballot"]["ballot_id"],
                ballot_hash,
            )
            statement.verify(body["signature"])
        except RemoteStatementError as exc:
            raise CollectorError(ErrorCode.BAD_SIGNATURE, str(exc)) from None
        return statement

    def submit(self, body: Any) -> dict[str, Any]:
        """A credential-signed ballot: the cheap checks and one database look-up first (a resend is answered from
        it, without checking the proofs again), then the signature, the window, the style and every proof, then
        one transaction (collector/submissions.py)."""
        body = _exact(body, {"submission_id", "credential", "sequence", "ballot", "signature"}, "ballots")
        submission_id = _hex(body["submission_id"], 32, "submission_id")
        credential = _hex(body["credential"], 64, "credential")
        ballot = body["ballot"]
        if not isinstance(ballot, dict):
            raise _bad("ballot must be an encrypted ballot object")
        if not isinstance(ballot.get("ballot_id"), str):
            raise _bad("ballot.ballot_id must be a string")
        ballot_bytes = canonical_json(ballot)
        ballot_hash = sha256_hex(ballot_bytes)
        # what a resend must repeat byte for byte: every member, the ballot through its hash (one canonical form)
        digest = sha256_hex(canonical_json({k: v for k, v in body.items() if k != "ballot"} | {"ballot": ballot_hash}))
        looked = submissions.look_up(self.db, credential, submission_id, digest)
        if looked.held is not None:
            return self._receipt(looked.held, duplicate=True)
        statement = self._signed(body, credential, submission_id, ballot_hash)
        self._window_open(VoterGroup(looked.voter_group))
        if ballot.get("style_id") != looked.style_id:
            raise CollectorError(ErrorCode.WRONG_STYLE, "the ballot is not of this voter's ballot style")
        with self._proofs:
            try:
                parsed = parse_and_verify_ballot(self.election.context, self.election.manifest, ballot)
            except (BallotFormatError, BallotVerificationError) as exc:
                raise CollectorError(ErrorCode.BAD_BALLOT, str(exc)) from None
            if parsed.ballot_hash.hex() != ballot_hash:
                raise CollectorError(ErrorCode.BAD_BALLOT, "the ballot is not in its canonical form")
        new = submissions.NewSubmission(
            submission_id=submission_id,
            credential=credential,
            sequence=statement.sequence,
            ballot_id=parsed.ballot_id,
            ballot_hash=ballot_hash,
            ballot_json=ballot_bytes.decode(),
            signature=body["signature"],
            body_digest=digest,
            received_at=self.now(),
        )
        held, duplicate = submissions.record(
            self.db, new, per_credential=self.limiter.limits.submissions_per_credential
        )
        return self._receipt(held, duplicate=duplicate)

    # ---- the voter's own check, the second device, the in-person override -----------------------

    def my_votes(self, body: Any) -> dict[str, Any]:
        """Every submission under the card holder's credentials, to the card holder only (collector/my_votes.py)."""
        body = _exact(body, {"challenge_id", "certificate", "signature", "ecdsa_format"}, "my-votes")
        voter = self._authenticate(body, CardPurpose.MY_VOTES, b"")
        return my_votes_answer(self.db, voter.civil_number)

    def fetch(self, ballot_id: str) -> dict[str, Any]:
        if not 1 <= len(ballot_id) <= 128:
            raise CollectorError(ErrorCode.NOT_FOUND, "no such ballot")
        now = self.now()
        limits = self.limiter.limits
        with self.db.transaction() as s:
            row = s.scalars(select(SubmissionRow).where(SubmissionRow.ballot_id == ballot_id).with_for_update()).first()
            if row is None:
                raise CollectorError(ErrorCode.NOT_FOUND, "no such ballot")
            if now >= _utc(row.received_at) + dt.timedelta(minutes=limits.fetch_minutes):
                raise CollectorError(ErrorCode.EXPIRED, f"a ballot can be checked for {limits.fetch_minutes} minutes")
            if row.fetches >= limits.fetches:
                raise CollectorError(ErrorCode.EXPIRED, f"a ballot can be checked {limits.fetches} times")
            row.fetches += 1
            return {
                "ballot_id": row.ballot_id,
                "ballot": json.loads(row.ballot_json),
                "received_at": _time(row.received_at),
                "fetches_left": limits.fetches - row.fetches,
            }

    def _civil(self, body: Any, what: str) -> CivilNumber:
        body = _exact(body, {"civil_number"}, what)
        try:
            if isinstance(body["civil_number"], str):
                return parse_civil_number(body["civil_number"])
        except CivilNumberError:
            pass
        raise _bad("civil_number must be a civil number")

    def status(self, body: Any) -> dict[str, Any]:
        """The office's check-in asks, before the voter votes at a kiosk, whether a remote ballot would be replaced
        (nothing changes: a voter who walks away keeps their remote vote)."""
        civil_number = self._civil(body, "status")
        with self.db.transaction() as s:
            live = s.scalars(
                select(CredentialRow).where(
                    CredentialRow.civil_number == civil_number, CredentialRow.voided_at.is_(None)
                )
            ).first()
            had = (
                live is not None
                and (s.scalar(select(func.count()).where(SubmissionRow.credential == live.credential)) or 0) > 0
            )
            return {"has_remote_vote": had}

    def void(self, body: Any) -> dict[str, Any]:
        """The office's check-in of this voter at a kiosk: the voter's credential is voided (in person)."""
        civil_number = self._civil(body, "void")
        now = self.now()
        with self.db.transaction() as s:
            if s.get(InPersonRow, civil_number) is None:
                s.add(InPersonRow(civil_number=civil_number, at=now))
            live = s.scalars(
                select(CredentialRow)
                .where(CredentialRow.civil_number == civil_number, CredentialRow.voided_at.is_(None))
                .with_for_update()
            ).first()
            voided = s.scalars(
                select(CredentialRow).where(
                    CredentialRow.civil_number == civil_number, CredentialRow.void_reason == VOID_IN_PERSON
                )
            ).first()
            target = live or voided
            had = False
            if target is not None:
                had = (s.scalar(select(func.count()).where(SubmissionRow.credential == target.credential)) or 0) > 0
            if live is not None:
                live.voided_at, live.void_reason = now, VOID_IN_PERSON
            return {"had_remote_vote": had, "credential": target.credential if target else None}
