"""The office's database role cannot rewrite its own audit log (issue 14 point 11), on the real PostgreSQL: the
migrations run as the owner; the service connects as ``sanduq_service`` (migration 0007's GRANTs), which can
append to the audit log but cannot UPDATE, DELETE or TRUNCATE it, nor DISABLE or DROP its trigger; the office runs
as that role (a card login, a centre's close with its signed audit head) and its audit chain verifies."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest
from sqlalchemy import create_engine, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ProgrammingError

from central import audit
from central.config import CentralConfig
from central.db import Database
from central.models import AuditEntry, AuditHead
from central.office import Office
from devtools.central_office import NOW, Clock, make_office
from devtools.kiosksim import Election
from tests.central.https import https_office
from tests.central.staffsim import login

pytestmark = pytest.mark.integration

ATTACKS = {
    "update": "UPDATE audit_log SET actor = 'nobody' WHERE seq = 1",
    "delete": "DELETE FROM audit_log WHERE seq = 1",
    "truncate": "TRUNCATE audit_log",
    "disable trigger": "ALTER TABLE audit_log DISABLE TRIGGER audit_log_append_only",
    "disable all triggers": "ALTER TABLE audit_log DISABLE TRIGGER ALL",
    "drop trigger": "DROP TRIGGER audit_log_append_only ON audit_log",
    "replace the trigger function": "CREATE OR REPLACE FUNCTION sanduq_audit_append_only() RETURNS trigger "
    "LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$",
    "rewrite the head": "DELETE FROM audit_head",
    "drop a signed head": "DELETE FROM office_audit_heads",
    "rewrite a signed head": "UPDATE office_audit_heads SET signature = ''",
}


@pytest.fixture(scope="module")
def service_url(pg_database: str, election: Election, tmp_path_factory: pytest.TempPathFactory) -> str:
    owner = make_office(election, pg_database, tmp_path_factory.mktemp("owner"), Clock(NOW), workers=0)
    owner.close()  # migrated and prepared as the owner
    engine = create_engine(pg_database, isolation_level="AUTOCOMMIT")
    with engine.connect() as c:
        c.execute(text("ALTER ROLE sanduq_service LOGIN"))  # trust authentication on the test server
    engine.dispose()
    return make_url(pg_database).set(username="sanduq_service").render_as_string(hide_password=False)


@pytest.fixture(scope="module")
def office(  # the office of this module runs as the service role
    election: Election, service_url: str, tmp_path_factory: pytest.TempPathFactory, clock: Clock
) -> Iterator[Office]:
    config = CentralConfig(
        database_url=service_url,
        election_dir=election.root / "election",
        record_dir=tmp_path_factory.mktemp("record"),
        staff_ca=election.pki.staff_ca.cert_path,
        kiosk_ca=election.pki.kiosk_ca.cert_path,
        envelope_private_key=election.root / "envelope.key",
        office_signing_key=election.pki.central_server.key_path,
        office_certificate=election.pki.central_server.cert_path,
    )
    office = Office.open(config, clock=clock)
    office.prepare()
    yield office
    office.close()


def test_the_service_role_appends_to_the_audit_log_and_cannot_rewrite_it(
    election: Election, office: Office, service_url: str, pg_database: str, app
) -> None:
    with https_office(app, election) as h:
        http = h.staff()
        admin = login(http, election.pki, "staff-admin-1")  # a card login, appended as the service role
        assert http.post("/api/centres/PC-003/close", json={}, headers=admin).status_code == 200
    engine = create_engine(service_url)
    try:
        for name, sql in ATTACKS.items():
            with engine.connect() as c, pytest.raises(ProgrammingError) as refused:
                c.execute(text(sql))
            message = str(refused.value.orig)
            assert "permission denied" in message or "must be owner" in message, (name, message)
        with engine.connect() as c:
            current = c.execute(text("SELECT current_user")).scalar_one()
            query = text("SELECT tablename, tableowner FROM pg_tables WHERE schemaname = 'public'")
            owners = {str(table): str(owner) for table, owner in c.execute(query).all()}
    finally:
        engine.dispose()
    assert current == "sanduq_service"
    assert owners["audit_log"] != "sanduq_service" and owners["audit_head"] != "sanduq_service"
    assert owners["voters"] == "sanduq_service"  # rewritten by vacuum-poll-book (VACUUM FULL needs the owner)
    with office.db.transaction() as s:
        assert audit.verify_chain(s) >= 3
        actions = [e.action for e in audit.entries(s)]
        heads = audit.signed_heads(s)
    assert "staff.login" in actions and "centre.closed" in actions
    assert [h["statement"]["phase"] for h in heads] == ["open"] and heads[0]["signature"]


def test_a_log_rewritten_by_the_owner_no_longer_matches_the_signed_heads(office: Office, pg_database: str) -> None:
    """The tables' owner can go around the trigger and re-hash the whole chain; the heads the office signed (and
    published) then name entries that are no longer there."""
    owner = Database(pg_database)
    try:
        with owner.transaction() as s:
            s.execute(text("ALTER TABLE audit_log DISABLE TRIGGER audit_log_append_only"))
            prev = audit.GENESIS
            for row in s.scalars(select(AuditEntry).order_by(AuditEntry.seq)):
                if row.seq == 1:
                    row.details = {**row.details, "note": "rewritten"}
                at = row.at if row.at.tzinfo else row.at.replace(tzinfo=dt.UTC)
                row.prev_hash = prev
                row.entry_hash = audit.entry_hash(row.seq, at, row.actor, row.action, row.details, prev)
                prev = row.entry_hash
                s.flush()
            s.get_one(AuditHead, 1).entry_hash = prev
            s.flush()
            s.execute(text("ALTER TABLE audit_log ENABLE TRIGGER audit_log_append_only"))
    finally:
        owner.dispose()
    with office.db.transaction() as s, pytest.raises(audit.AuditChainError) as broken:
        audit.verify_chain(s)
    assert "not the one the office signed at phase open" in str(broken.value)
