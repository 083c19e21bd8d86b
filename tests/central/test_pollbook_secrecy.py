"""The office keeps no order of check-ins per kiosk (docs/sync-protocol.md, "Secrecy", point 3): nothing of a
check-in outlives its lock, a spent token names no kiosk, and once the polls close no old row version of the
poll book survives in the database files (PostgreSQL here; SQLite, the demo's database, below). Also: a kiosk
certificate from another CA is refused at enrolment; turnout buckets cannot be configured finer than 15 min."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from sqlalchemy import MetaData, select, text

from central import closing, pollbook
from central.api import create_app
from central.auth import AuthError
from central.config import ConfigError, parse_config
from central.models import Kiosk, Voter
from central.office import Office, enrol_kiosk
from devtools.central_office import NOW, Clock, make_office
from devtools.kiosksim import Election, SimKiosk
from election.manifest import KioskId, WilayatCode
from election.roll import CivilNumber, RollEntry

pytestmark = pytest.mark.integration

KIOSK = "K-PC-001-1"


def import_roll(office: Office, first: int, count: int) -> list[str]:
    civils = [str(first + i) for i in range(count)]
    with office.db.transaction() as s:
        entries = [RollEntry(CivilNumber(c), WilayatCode("MU-01"), True) for c in civils]
        pollbook.import_roll(s, office.manifest, entries)
    return civils


def enrol_all(office: Office, election: Election) -> dict[str, SimKiosk]:
    app = create_app(office)
    with office.db.transaction() as s:
        for k in election.manifest.kiosks:
            enrol_kiosk(s, office, election.pki.kiosks[k.id].cert(), actor="test-setup", now=NOW)
    return {k.id: SimKiosk(election, k.id, app) for k in election.manifest.kiosks}


def voting_day(kiosk: SimKiosk, civils: list[str]) -> list[str]:
    """Each voter checks in; all but the last vote (voted marks in reverse order), the last leaves (release).
    Returns the tokens."""
    tokens = []
    for civil in civils:
        answer = kiosk.checkin(civil).json()
        assert answer["status"] == "eligible", answer
        tokens.append(answer["checkin_token"])
    for token in reversed(tokens[:-1]):
        assert kiosk.voted(token).json()["status"] == "recorded"
    release = {"kiosk_id": kiosk.kiosk_id, "reason": "voter_left"}
    assert kiosk.post(f"/v1/checkins/{tokens[-1]}/release", release).json()["released"] is True
    return tokens


def tables_holding(office: Office, needles: list[str]) -> list[str]:
    """``table.column`` of every stored value (any table) that contains one of ``needles``."""
    meta = MetaData()
    meta.reflect(office.db.engine)
    found = set()
    with office.db.transaction() as s:
        for name, table in meta.tables.items():
            for row in s.execute(select(table)):
                for column, value in row._mapping.items():
                    if any(n in str(value) for n in needles):
                        found.add(f"{name}.{column}")
    return sorted(found)


def close_all(office: Office) -> None:
    for centre in office.manifest.centres:
        closing.close_centre(office, centre.id, actor="admin")


# ---- PostgreSQL (the module's office) ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def sims(election: Election, office: Office) -> dict[str, SimKiosk]:
    return enrol_all(office, election)


def relation_bytes(office: Office, table: str) -> bytes:
    """The table's main data file as on disk after a checkpoint (what a forensic reader of the server gets)."""
    with office.db.engine.connect() as raw:
        conn = raw.execution_options(isolation_level="AUTOCOMMIT")
        conn.execute(text("CHECKPOINT"))
        path = conn.scalar(text("SELECT pg_relation_filepath(:t)"), {"t": table})
        return bytes(conn.scalar(text("SELECT pg_read_binary_file(:p)"), {"p": path}))


def test_enrolment_refuses_a_kiosk_certificate_from_another_ca(office: Office) -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, KIOSK)])
    forged = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(NOW - dt.timedelta(days=1))
        .not_valid_after(NOW + dt.timedelta(days=30))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(KIOSK)]), critical=False)
        .sign(key, hashes.SHA256())
    )
    with office.db.transaction() as s, pytest.raises(AuthError, match="kiosk CA"):
        enrol_kiosk(s, office, forged, actor="test", now=NOW)
    with office.db.transaction() as s:
        assert s.get_one(Kiosk, KIOSK).cert_sha256 is None  # nothing enrolled


def test_two_identical_check_in_retries_racing_get_the_same_lock(sims: dict[str, SimKiosk], office: Office) -> None:
    (civil,) = import_roll(office, 16_000_000, 1)
    request = pollbook.request_key(office.pollbook_secret, KIOSK, "b" * 32)
    barrier = threading.Barrier(2)
    answers: list[pollbook.CheckIn] = []

    def retry() -> None:
        with office.db.transaction() as s:
            barrier.wait()
            answers.append(
                pollbook.check_in(
                    s,
                    office.manifest,
                    civil_number=civil,
                    kiosk_id=KioskId(KIOSK),
                    now=NOW,
                    lock_seconds=600,
                    request=request,
                )
            )

    threads = [threading.Thread(target=retry) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert [a.outcome for a in answers] == [pollbook.CheckInOutcome.OK] * 2
    assert answers[0].lock_token == answers[1].lock_token is not None
    assert sims[KIOSK].voted(str(answers[0].lock_token)).json()["status"] == "recorded"


def test_nothing_of_a_check_in_outlives_its_lock_nor_the_close_of_the_polls(
    sims: dict[str, SimKiosk], office: Office, clock: Clock
) -> None:
    kiosk = sims[KIOSK]
    civils = import_roll(office, 17_000_000, 12)
    tokens = voting_day(kiosk, civils)
    # An expired lock ended by the holding kiosk's heartbeat leaves nothing either.
    (late,) = import_roll(office, 17_500_000, 1)
    assert kiosk.checkin(late).json()["status"] == "eligible"
    with office.db.transaction() as s:
        assert s.get_one(Voter, late).lock_request is not None
        assert pollbook.release_expired(s, kiosk_id=KioskId(KIOSK), now=NOW + dt.timedelta(hours=1)) == 1
    # Nothing stored anywhere names a token or a check-in's request; no poll-book row names the kiosk.
    assert tables_holding(office, tokens) == []
    with office.db.transaction() as s:
        for v in s.scalars(select(Voter).where(Voter.civil_number.in_([*civils, late]))):
            assert (v.lock_kiosk, v.lock_token, v.lock_expires_at, v.lock_request) == (None, None, None, None)
        spent = s.execute(text("SELECT * FROM spent_tokens")).mappings().all()
        assert spent and all(set(row) == {"spent_key", "outcome"} for row in spent)
        buckets = s.execute(text("SELECT bucket_start FROM turnout_buckets")).scalars().all()
        assert buckets and all(b.minute % 15 == 0 and b.second == b.microsecond == 0 for b in buckets)
    # Until the polls close, PostgreSQL still holds the old row versions (the locks) in the table's file...
    before = relation_bytes(office, "voters")
    assert KIOSK.encode() in before and tokens[0].encode() in before
    # ... and the voters' physical order follows the voted marks (an updated row moves where there is room).
    # So does the transaction id stamped on each row (xmin), one per voted mark.
    physical = "SELECT civil_number FROM voters ORDER BY ctid"
    stamps = "SELECT count(DISTINCT xmin::text) FROM voters"
    with office.db.transaction() as s:
        assert list(s.scalars(text(physical))) != sorted(s.scalars(select(Voter.civil_number)))
        assert s.scalar(text(stamps)) > len(civils)
    close_all(office)
    # After the last centre closes, the poll-book tables were rewritten: no old version is left, and the voters
    # are in civil-number order, all stamped by one transaction.
    for table in pollbook.POLL_BOOK_TABLES:
        after = relation_bytes(office, table)
        assert KIOSK.encode() not in after, table
        assert not any(t.encode() in after for t in tokens), table
    with office.db.transaction() as s:
        assert list(s.scalars(text(physical))) == sorted(s.scalars(select(Voter.civil_number)))
        assert s.scalar(text(stamps)) == 1


# ---- SQLite (the demo's embedded database) -----------------------------------------------------------------


@pytest.fixture
def sqlite_office(election: Election, tmp_path: Path) -> Iterator[tuple[Office, Path]]:
    db = tmp_path / "central.sqlite3"
    office = make_office(election, f"sqlite:///{db}", tmp_path / "record", Clock(NOW), workers=0)
    yield office, db
    office.close()


def test_on_sqlite_the_database_files_hold_no_token_once_the_polls_close(
    election: Election, sqlite_office: tuple[Office, Path]
) -> None:
    office, db = sqlite_office
    tokens = voting_day(enrol_all(office, election)[KIOSK], import_roll(office, 18_000_000, 6))
    assert tables_holding(office, tokens) == []

    def files() -> bytes:
        return b"".join(p.read_bytes() for p in db.parent.glob(db.name + "*"))  # the database, its WAL and shm

    assert any(t.encode() in files() for t in tokens)  # the WAL still holds the pages as they were at check-in
    close_all(office)
    office.db.dispose()
    assert not any(t.encode() in files() for t in tokens)


# ---- configuration ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(("minutes", "accepted"), [(1, False), (5, False), (10, False), (15, True), (60, True)])
def test_turnout_buckets_are_never_finer_than_15_minutes(minutes: int, accepted: bool, tmp_path: Path) -> None:
    data: dict[str, dict[str, object]] = {
        "database": {"url": "sqlite:///x.db"},
        "election": {"dir": "e"},
        "policy": {"turnout_bucket_minutes": minutes},
    }
    if accepted:
        assert parse_config(data, base=tmp_path).turnout_bucket_minutes == minutes
    else:
        with pytest.raises(ConfigError, match="turnout_bucket_minutes"):
            parse_config(data, base=tmp_path)
