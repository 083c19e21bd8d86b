"""The voter app's side of the collector protocol ``r1`` (docs/remote-voting.md): every answer of the collector
parsed into a typed value, strictly and within bounds. What the card and the credential sign is defined once,
for app, collector and verifier, in ``election.remote_statement``.

Nothing the collector answers is trusted: each answer must have exactly the documented keys, lower-case hex of
the documented lengths, RFC 3339 UTC times, and must repeat what the app asked about (its election, its
collector id, its credential, its submission): an answer about something else is :class:`BadAnswer`.
"""

from __future__ import annotations

import datetime as dt
import itertools
import re
from dataclasses import dataclass
from typing import Any, Final

from election.ballot import EncryptedBallot
from election.remote_statement import MY_VOTES_LISTED, CardPurpose, SubmissionStatus, card_nonce
from kiosk.card.pki import Challenge

MAX_SEQUENCE: Final = 1_000_000
MAX_DETAIL_CHARS: Final = 300
_HEX = {n: re.compile(rf"[0-9a-f]{{{n}}}") for n in (32, 64, 128)}
_ID = re.compile(r"[0-9a-z-]{1,128}")


class BadAnswer(Exception):
    """The collector's answer is not what the protocol allows (a faulty or dishonest collector, or a proxy)."""


# ---- parsing ------------------------------------------------------------------------------------


def _obj(data: Any, keys: set[str], what: str) -> dict[str, Any]:
    if not isinstance(data, dict) or set(data) != keys:
        raise BadAnswer(f"{what}: expected exactly the keys {sorted(keys)}")
    return data


def _hex(value: Any, digits: int, what: str) -> str:
    if not isinstance(value, str) or not _HEX[digits].fullmatch(value):
        raise BadAnswer(f"{what}: expected {digits} lower-case hex digits")
    return value


def _text(value: Any, what: str, limit: int = 128) -> str:
    if not isinstance(value, str) or not value or len(value) > limit:
        raise BadAnswer(f"{what}: expected a string of 1..{limit} characters")
    return value


def _bool(value: Any, what: str) -> bool:
    if not isinstance(value, bool):
        raise BadAnswer(f"{what}: expected true or false")
    return value


def _int(value: Any, what: str, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise BadAnswer(f"{what}: expected an integer in {low}..{high}")
    return value


def _time(value: Any, what: str) -> dt.datetime:
    if not isinstance(value, str) or len(value) > 40:
        raise BadAnswer(f"{what}: expected an RFC 3339 time")
    try:
        parsed = dt.datetime.fromisoformat(value)
    except ValueError:
        raise BadAnswer(f"{what}: expected an RFC 3339 time") from None
    if parsed.utcoffset() != dt.timedelta(0):
        raise BadAnswer(f"{what}: expected a UTC time (+00:00)")
    return parsed


@dataclass(frozen=True)
class IssuedChallenge:
    challenge_id: str
    nonce: bytes
    issued_at: dt.datetime
    expires_at: dt.datetime
    collector_id: str
    election_id: str

    def card_challenge(self, purpose: CardPurpose, extra: bytes = b"") -> Challenge:
        """The statement the card signs for ``purpose``: the kiosk's statement with the collector's id in the
        kiosk's place and the purpose-bound nonce (election.remote_statement.card_nonce)."""
        return Challenge(card_nonce(purpose, self.nonce, extra), self.collector_id, self.election_id, self.issued_at)


def parse_challenge(data: Any, *, collector_id: str, election_id: str) -> IssuedChallenge:
    d = _obj(data, {"challenge_id", "nonce", "collector_id", "election_id", "issued_at", "expires_at"}, "challenge")
    if d["collector_id"] != collector_id or d["election_id"] != election_id:
        raise BadAnswer("challenge: issued for another collector or election than the package names")
    issued, expires = _time(d["issued_at"], "challenge issued_at"), _time(d["expires_at"], "challenge expires_at")
    if not issued < expires:
        raise BadAnswer("challenge: expires before it is issued")
    nonce = bytes.fromhex(_hex(d["nonce"], 64, "challenge nonce"))
    return IssuedChallenge(
        _hex(d["challenge_id"], 32, "challenge_id"), nonce, issued, expires, collector_id, election_id
    )


@dataclass(frozen=True)
class Registration:
    credential: str
    style_id: str
    group: str
    registered_at: dt.datetime
    replaced: bool


def parse_registration(data: Any, *, credential: str, styles: frozenset[str]) -> Registration:
    d = _obj(data, {"credential", "style_id", "group", "registered_at", "replaced"}, "registration")
    if _hex(d["credential"], 64, "credential") != credential:
        raise BadAnswer("registration: the collector registered another credential than this device's")
    style = _text(d["style_id"], "style_id")
    if style not in styles:
        raise BadAnswer("registration: the ballot style is not one of the election package's")
    group = _text(d["group"], "group")
    if group not in ("abroad", "home"):
        raise BadAnswer("registration: unknown voter group")
    return Registration(
        credential, style, group, _time(d["registered_at"], "registered_at"), _bool(d["replaced"], "replaced")
    )


@dataclass(frozen=True)
class Receipt:
    """The collector's receipt for a submission: the voter's evidence that it arrived."""

    submission_id: str
    ballot_id: str
    ballot_hash: str
    sequence: int
    received_at: dt.datetime
    duplicate: bool
    fetch_until: dt.datetime


def parse_receipt(data: Any, *, submission_id: str, ballot: EncryptedBallot, sequence: int) -> Receipt:
    d = _obj(
        data,
        {"submission_id", "ballot_id", "ballot_hash", "sequence", "received_at", "duplicate", "fetch_until"},
        "receipt",
    )
    if (
        _hex(d["submission_id"], 32, "submission_id") != submission_id
        or _text(d["ballot_id"], "ballot_id") != ballot.ballot_id
        or _hex(d["ballot_hash"], 64, "ballot_hash") != ballot.ballot_hash.hex()
        or _int(d["sequence"], "sequence", 1, MAX_SEQUENCE) != sequence
    ):
        raise BadAnswer("receipt: it is not a receipt for the ballot this device sent")
    return Receipt(
        submission_id,
        ballot.ballot_id,
        ballot.ballot_hash.hex(),
        sequence,
        _time(d["received_at"], "received_at"),
        _bool(d["duplicate"], "duplicate"),
        _time(d["fetch_until"], "fetch_until"),
    )


@dataclass(frozen=True)
class RecordedBallot:
    """One submission the collector holds under the voter's identity (``ballot_hash`` in full: its first 16 hex
    digits are the code the receipt showed)."""

    received_at: dt.datetime
    sequence: int
    ballot_id: str
    ballot_hash: str
    status: SubmissionStatus


@dataclass(frozen=True)
class MyVotes:
    credential: str | None
    voided: bool
    submissions: int
    last_received_at: dt.datetime | None
    ballots: tuple[RecordedBallot, ...] = ()
    """The most recent ``MY_VOTES_LISTED`` submissions, newest first; fewer than ``submissions`` when cut."""


def _recorded(data: Any) -> RecordedBallot:
    d = _obj(data, {"received_at", "sequence", "ballot_id", "ballot_hash", "status"}, "my-votes ballot")
    try:
        status = SubmissionStatus(d["status"])
    except ValueError:
        raise BadAnswer("my-votes ballot: unknown status") from None
    return RecordedBallot(
        _time(d["received_at"], "my-votes received_at"),
        _int(d["sequence"], "my-votes sequence", 1, MAX_SEQUENCE),
        _text(d["ballot_id"], "my-votes ballot_id"),
        _hex(d["ballot_hash"], 64, "my-votes ballot_hash"),
        status,
    )


def parse_my_votes(data: Any) -> MyVotes:
    d = _obj(data, {"credential", "voided", "submissions", "last_received_at", "ballots"}, "my-votes")
    credential = None if d["credential"] is None else _hex(d["credential"], 64, "credential")
    last = None if d["last_received_at"] is None else _time(d["last_received_at"], "last_received_at")
    submissions = _int(d["submissions"], "submissions", 0, MAX_SEQUENCE)
    voided = _bool(d["voided"], "voided")
    if (submissions == 0) != (last is None) or (submissions > 0 and credential is None):
        raise BadAnswer("my-votes: the count of submissions, the last time and the credential disagree")
    listed = d["ballots"]
    if not isinstance(listed, list) or len(listed) != min(submissions, MY_VOTES_LISTED):
        raise BadAnswer(f"my-votes: expected the {MY_VOTES_LISTED} most recent submissions at most, all if fewer")
    ballots = tuple(_recorded(b) for b in listed)
    if any(a.received_at < b.received_at for a, b in itertools.pairwise(ballots)):
        raise BadAnswer("my-votes: the submissions are not listed newest first")
    if ballots and ballots[0].received_at != last:
        raise BadAnswer("my-votes: the newest listed submission is not the last one received")
    if len({b.ballot_id for b in ballots}) != len(ballots):
        raise BadAnswer("my-votes: a ballot is listed twice")
    counting = sum(b.status is SubmissionStatus.COUNTS for b in ballots)
    if counting > 1 or (voided and counting):
        raise BadAnswer("my-votes: more than one ballot counts, or one counts under a voided credential")
    return MyVotes(credential, voided, submissions, last, ballots)


@dataclass(frozen=True)
class FetchedBallot:
    ballot: EncryptedBallot
    received_at: dt.datetime
    fetches_left: int


def parse_fetched(data: Any, *, ballot_id: str) -> FetchedBallot:
    from election.ballot import BallotFormatError

    d = _obj(data, {"ballot_id", "ballot", "received_at", "fetches_left"}, "fetched ballot")
    if d["ballot_id"] != ballot_id:
        raise BadAnswer("fetched ballot: the collector answered with another ballot than the one asked for")
    try:
        ballot = EncryptedBallot.from_dict(d["ballot"])
    except BallotFormatError as exc:
        raise BadAnswer(f"fetched ballot: {exc}") from None
    if ballot.ballot_id != ballot_id:
        raise BadAnswer("fetched ballot: the ballot inside has another id than the one asked for")
    return FetchedBallot(
        ballot, _time(d["received_at"], "received_at"), _int(d["fetches_left"], "fetches_left", 0, 100)
    )


@dataclass(frozen=True)
class ErrorAnswer:
    error: str
    detail: str


def parse_error(data: Any) -> ErrorAnswer:
    """A collector error body; an unreadable one becomes ``malformed`` (the status still says what kind)."""
    if isinstance(data, dict) and set(data) == {"error", "detail"} and isinstance(data["error"], str):
        error = data["error"] if _ID.fullmatch(data["error"].replace("_", "-")) else "malformed"
        detail = data["detail"] if isinstance(data["detail"], str) else ""
        return ErrorAnswer(error, "".join(ch for ch in detail[:MAX_DETAIL_CHARS] if ch.isprintable()))
    return ErrorAnswer("malformed", "the collector's error answer is not in the protocol's form")
