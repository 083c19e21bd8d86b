"""The poll book (Decision 128/2003 Art. 3 and 4): civil number -> eligibility and ballot style; check-in
locks the voter to one kiosk while voting; the voted mark closes the record. One voter, one vote across every
centre: each transition is ONE conditional UPDATE (``... WHERE state = ...``), so of two kiosks racing for the
same voter exactly one sees a changed row; no read-then-write window exists.

What is never stored: which ballot a voter cast, where or exactly when they voted, or the order of check-ins
at a kiosk (each kiosk's confirmation-code chain publishes its ballots in cast order, so that order must exist
nowhere else). The lock (kiosk, token, expiry, the check-in request's key) lives on the voter row only while it
exists; the voted mark clears it and adds 1 to a coarse turnout bucket (centre, wilayat, >= 15 minutes), the
only trace of time. A spent token is kept as a keyed hash of (kiosk, token) and its outcome, nothing else.
After the polls close, ``vacuum_poll_book`` rewrites the poll-book tables so that no old row version (lock
kiosk, token, expiry) survives in the database files.
"""

from __future__ import annotations

import datetime as dt
import enum
import hashlib
import hmac
import secrets
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import Engine, func, insert, select, text, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from central.models import SpentToken, TurnoutBucket, Voter, VoterState
from election.manifest import CentreId, KioskId, Manifest, WilayatCode
from election.roll import RollEntry


class CheckInOutcome(enum.Enum):
    OK = "ok"
    NOT_ON_ROLL = "not_on_roll"
    NOT_ELIGIBLE = "not_eligible"
    ALREADY_VOTED = "already_voted"
    VOTING_ELSEWHERE = "voting_elsewhere"  # checked in at another kiosk and the lock has not expired
    WRONG_CENTRE = "wrong_centre"  # a non-unified centre that does not serve the voter's wilayat
    REQUEST_CONFLICT = "request_conflict"  # the request's key holds another voter's live lock (a kiosk fault)


@dataclass(frozen=True)
class CheckIn:
    outcome: CheckInOutcome
    wilayat: str | None = None
    style_id: str | None = None
    lock_token: str | None = None
    lock_expires_at: dt.datetime | None = None


class RollImportError(ValueError):
    """A roll entry names a wilayat without a ballot style."""


def import_roll(session: Session, manifest: Manifest, entries: Iterable[RollEntry], *, chunk: int = 20_000) -> int:
    """Load the roll into an empty poll book; the style of each voter is their wilayat's ballot style."""
    styles = {w.code: manifest.style_for_wilayat(w.code).id for w in manifest.wilayats}
    count = 0
    rows: list[dict[str, object]] = []
    for entry in entries:
        style = styles.get(entry.wilayat)
        if style is None:
            raise RollImportError(f"roll entry {count + 1}: unknown wilayat {entry.wilayat!r}")
        rows.append(
            {
                "civil_number": entry.civil_number,
                "wilayat": entry.wilayat,
                "style_id": style,
                "eligible": entry.eligible,
                "state": VoterState.NOT_VOTED,
            }
        )
        count += 1
        if len(rows) >= chunk:
            session.execute(insert(Voter), rows)
            rows = []
    if rows:
        session.execute(insert(Voter), rows)
    return count


def request_key(secret: bytes, kiosk_id: str, idempotency_key: str) -> str:
    """The key of a check-in request kept on the lock it took (``voters.lock_request``) while the lock lives."""
    message = f"sanduq-checkin-request:v2:{kiosk_id}:{idempotency_key}".encode()
    return hmac.new(secret, message, hashlib.sha256).hexdigest()


def _held_lock(voter: Voter) -> CheckIn:
    expires_at = voter.lock_expires_at
    if expires_at is not None and expires_at.tzinfo is None:  # SQLite keeps no offset; times are stored in UTC
        expires_at = expires_at.replace(tzinfo=dt.UTC)
    return CheckIn(CheckInOutcome.OK, voter.wilayat, voter.style_id, voter.lock_token, expires_at)


def check_in(
    session: Session,
    manifest: Manifest,
    *,
    civil_number: str,
    kiosk_id: KioskId,
    now: dt.datetime,
    lock_seconds: int,
    request: str | None = None,
) -> CheckIn:
    """Lock the voter to ``kiosk_id`` if they may vote there now (atomic against every other kiosk).

    Nothing is stored about the check-in beyond the lock itself: ``request`` (``request_key``) is kept on the
    lock, so a retry of the same request, or a new card insertion at the holding kiosk, gets the same lock
    (same token), and the same request key for another voter is ``REQUEST_CONFLICT`` while that lock lives.
    Once the lock ends (voted mark, release, expiry) a retry is answered like a new check-in (``ALREADY_VOTED``
    after the voted mark). Answers other than OK change nothing and are recomputed on a retry.
    """
    if request is not None:
        holder = session.scalar(select(Voter.civil_number).where(Voter.lock_request == request))
        if holder is not None and holder != civil_number:
            return CheckIn(CheckInOutcome.REQUEST_CONFLICT)
    voter = session.get(Voter, civil_number)
    if voter is None:
        return CheckIn(CheckInOutcome.NOT_ON_ROLL)
    if not voter.eligible:
        return CheckIn(CheckInOutcome.NOT_ELIGIBLE, wilayat=voter.wilayat)
    centre = manifest.kiosks_by_id[kiosk_id].centre
    if not manifest.centre_serves(centre, WilayatCode(voter.wilayat)):
        return CheckIn(CheckInOutcome.WRONG_CENTRE, wilayat=voter.wilayat)
    if voter.state is VoterState.CHECKED_IN and voter.lock_kiosk == kiosk_id:
        return _held_lock(voter)  # a retried check-in (or a new card insertion) at the holding kiosk
    token = secrets.token_hex(16)
    expires = now + dt.timedelta(seconds=lock_seconds)
    result = session.execute(
        update(Voter)
        .where(Voter.civil_number == civil_number, Voter.eligible.is_(True), Voter.state == VoterState.NOT_VOTED)
        .values(
            state=VoterState.CHECKED_IN,
            lock_kiosk=kiosk_id,
            lock_token=token,
            lock_expires_at=expires,
            lock_request=request,
        )
        .execution_options(synchronize_session=False)
    )
    if result.rowcount == 1:  # type: ignore[attr-defined]
        return CheckIn(CheckInOutcome.OK, voter.wilayat, voter.style_id, token, expires)
    session.expire(voter)
    current = session.get_one(Voter, civil_number)
    if current.state is VoterState.VOTED:
        return CheckIn(CheckInOutcome.ALREADY_VOTED, wilayat=voter.wilayat)
    if current.state is VoterState.CHECKED_IN and current.lock_kiosk == kiosk_id:
        return _held_lock(current)  # the same retry raced in on another connection and took the lock first
    return CheckIn(CheckInOutcome.VOTING_ELSEWHERE, wilayat=voter.wilayat)


_NO_LOCK: dict[str, None] = {"lock_kiosk": None, "lock_token": None, "lock_expires_at": None, "lock_request": None}
"""Every lock column: each UPDATE that ends a lock clears all of them."""


def release_expired(session: Session, *, kiosk_id: KioskId, now: dt.datetime) -> int:
    """End the expired locks of a kiosk whose heartbeat shows no pending voted mark (sync protocol: an
    expired lock is never handed to another kiosk merely because it expired)."""
    result = session.execute(
        update(Voter)
        .where(Voter.lock_kiosk == kiosk_id, Voter.state == VoterState.CHECKED_IN, Voter.lock_expires_at < now)
        .values(**_NO_LOCK, state=VoterState.NOT_VOTED)
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


def bucket_start(now: dt.datetime, minutes: int) -> dt.datetime:
    now = now.astimezone(dt.UTC)
    return now.replace(minute=(now.minute // minutes) * minutes, second=0, microsecond=0)


def _count_turnout(session: Session, centre: CentreId, wilayat: str, now: dt.datetime, minutes: int) -> None:
    values = {"centre_id": centre, "wilayat": wilayat, "bucket_start": bucket_start(now, minutes), "count": 1}
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        pg = postgresql.insert(TurnoutBucket).values(values)
        session.execute(
            pg.on_conflict_do_update(
                index_elements=["centre_id", "wilayat", "bucket_start"], set_={"count": TurnoutBucket.count + 1}
            )
        )
    else:
        lite = sqlite.insert(TurnoutBucket).values(values)
        session.execute(
            lite.on_conflict_do_update(
                index_elements=["centre_id", "wilayat", "bucket_start"], set_={"count": TurnoutBucket.count + 1}
            )
        )


class TokenOutcome(enum.Enum):
    DONE = "done"  # voted mark recorded, or lock released
    ALREADY_DONE = "already_done"  # a retry of the same request
    UNKNOWN_TOKEN = "unknown_token"  # noqa: S105  (expired and taken over, spent by another kiosk, never issued)
    NOT_YOURS = "not_yours"  # the token holds another kiosk's live lock


def spent_key(secret: bytes, kiosk_id: str, token: str) -> str:
    """A spent token's row key: HMAC of (kiosk, token) under the office's poll-book secret. It answers "did this
    kiosk already use this token" and nothing else: no kiosk id, and no hash of the token alone to join on."""
    return hmac.new(secret, f"sanduq-spent-token:v1:{kiosk_id}:{token}".encode(), hashlib.sha256).hexdigest()


def _spent(session: Session, secret: bytes, token: str, kiosk_id: KioskId, outcome: str) -> None:
    session.add(SpentToken(spent_key=spent_key(secret, kiosk_id, token), outcome=outcome))


def _explain(session: Session, secret: bytes, token: str, kiosk_id: KioskId, outcome: str) -> TokenOutcome:
    """Why a voted mark or release changed nothing. A live lock of another kiosk is ``NOT_YOURS``; a token
    another kiosk already spent is ``UNKNOWN_TOKEN`` (the office no longer knows whose it was)."""
    spent = session.get(SpentToken, spent_key(secret, kiosk_id, token))
    if spent is not None:
        return TokenOutcome.ALREADY_DONE if spent.outcome == outcome else TokenOutcome.UNKNOWN_TOKEN
    holder = session.scalar(select(Voter.lock_kiosk).where(Voter.lock_token == token))
    return TokenOutcome.NOT_YOURS if holder is not None else TokenOutcome.UNKNOWN_TOKEN


def mark_voted(
    session: Session,
    manifest: Manifest,
    *,
    token: str,
    kiosk_id: KioskId,
    now: dt.datetime,
    bucket_minutes: int,
    secret: bytes,
) -> TokenOutcome:
    """The voter holding ``token`` cast their ballot at ``kiosk_id``: mark voted, count turnout.

    The lock's expiry is not checked here: an expired lock that nobody took over still belongs to the kiosk.
    """
    result = session.execute(
        update(Voter)
        .where(Voter.lock_token == token, Voter.lock_kiosk == kiosk_id, Voter.state == VoterState.CHECKED_IN)
        .values(**_NO_LOCK, state=VoterState.VOTED)
        .returning(Voter.wilayat)
    )
    wilayat = result.scalar_one_or_none()
    if wilayat is None:
        return _explain(session, secret, token, kiosk_id, "voted")
    _spent(session, secret, token, kiosk_id, "voted")
    _count_turnout(session, manifest.kiosks_by_id[kiosk_id].centre, wilayat, now, bucket_minutes)
    return TokenOutcome.DONE


def release(session: Session, *, token: str, kiosk_id: KioskId, secret: bytes) -> TokenOutcome:
    """The voter left without casting: free them for another check-in."""
    result = session.execute(
        update(Voter)
        .where(Voter.lock_token == token, Voter.lock_kiosk == kiosk_id, Voter.state == VoterState.CHECKED_IN)
        .values(**_NO_LOCK, state=VoterState.NOT_VOTED)
        .returning(Voter.civil_number)
    )
    if result.scalar_one_or_none() is None:
        return _explain(session, secret, token, kiosk_id, "released")
    _spent(session, secret, token, kiosk_id, "released")
    return TokenOutcome.DONE


def mark_voted_provisional(
    session: Session, *, civil_number: str, centre: CentreId, now: dt.datetime, bucket_minutes: int
) -> str | None:
    """A provisional ballot's voter: mark voted if they had not voted (nor are checked in) anywhere.

    Returns the voter's wilayat when marked, None when they are unknown, ineligible or had voted elsewhere.
    """
    result = session.execute(
        update(Voter)
        .where(
            Voter.civil_number == civil_number,
            Voter.eligible.is_(True),
            Voter.state == VoterState.NOT_VOTED,
        )
        .values(state=VoterState.VOTED)
        .returning(Voter.wilayat)
    )
    wilayat = result.scalar_one_or_none()
    if wilayat is not None:
        _count_turnout(session, centre, wilayat, now, bucket_minutes)
    return wilayat


@dataclass(frozen=True)
class WilayatTurnout:
    wilayat: str
    registered: int
    voted: int


def turnout_by_wilayat(session: Session) -> list[WilayatTurnout]:
    voted = func.sum(func.cast(Voter.state == VoterState.VOTED, postgresql.INTEGER))
    rows = session.execute(
        select(Voter.wilayat, func.count(), voted).where(Voter.eligible.is_(True)).group_by(Voter.wilayat)
    )
    return [WilayatTurnout(w, int(r), int(v or 0)) for w, r, v in rows]


def turnout_buckets(session: Session) -> list[tuple[str, str, dt.datetime, int]]:
    rows = session.execute(
        select(TurnoutBucket.centre_id, TurnoutBucket.wilayat, TurnoutBucket.bucket_start, TurnoutBucket.count)
    )
    return [(c, w, b if b.tzinfo else b.replace(tzinfo=dt.UTC), n) for c, w, b, n in rows]


POLL_BOOK_TABLES = ("voters", "spent_tokens", "turnout_buckets", "provisional_envelopes")
"""Tables whose old row versions hold a lock (kiosk, token, expiry) or a sealed identity until rewritten."""


_FIRST_KEY_COLUMN = (
    "SELECT a.attname FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = i.indkey[0] "
    "WHERE i.indrelid = :t ::regclass AND i.indisprimary"
)


def vacuum_poll_book(engine: Engine) -> None:
    """Rewrite the poll-book tables so that no dead row version survives in the database files, and no row's
    place in the file tells when it was last updated (run after the polls close: every lock has ended, so the
    rewritten tables hold no kiosk, token or lock time).

    PostgreSQL keeps the old version of every updated row (the voter's lock: kiosk, token, expiry) until vacuum,
    a plain VACUUM only marks that space reusable inside the same file, and an updated row's new version lands
    where there is room (so the voters' physical order follows the order of voted marks, and ``VACUUM FULL``
    would copy that order); each row also keeps the id of the transaction that wrote it (``xmin``: the voted
    marks' arrival order, shared by a voter row and its spent token). So each table is first rewritten by one
    UPDATE of every row (one ``xmin`` per table), then ``CLUSTER ... USING`` the primary key writes it into a new
    file in key order (civil number; a spent token's hash) and drops the old file; then ``ANALYZE``. SQLite: ``VACUUM``
    rebuilds the file (rowids are kept: ``voters`` in roll order, ``spent_tokens`` has none), then the WAL is
    checkpointed and truncated. Both run outside a transaction (autocommit) and lock each table while it is
    rewritten (seconds for a national roll): check-ins are over by then.
    """
    with engine.connect() as raw:
        conn = raw.execution_options(isolation_level="AUTOCOMMIT")
        if engine.dialect.name == "postgresql":
            for table in POLL_BOOK_TABLES:
                primary = "SELECT indexrelid::regclass::text FROM pg_index WHERE indrelid = :t ::regclass"
                pkey = conn.scalar(text(primary + " AND indisprimary"), {"t": table})
                column = conn.scalar(text(_FIRST_KEY_COLUMN), {"t": table})
                # One statement rewrites every row: all get the same xmin (the voted marks' order is gone from it,
                # and no voter row shares its transaction with a spent token or an envelope any more).
                conn.execute(text(f'UPDATE "{table}" SET "{column}" = "{column}"'))  # noqa: S608  (names from the catalogue)
                conn.execute(text(f'CLUSTER "{table}" USING "{pkey}"'))
            conn.execute(text(f"ANALYZE {', '.join(POLL_BOOK_TABLES)}"))
        else:
            conn.execute(text("VACUUM"))
            conn.execute(text("PRAGMA wal_checkpoint(TRUNCATE)"))
