"""The collector on PostgreSQL (the production database; a real server from devtools/pg.py), through real HTTPS:
its migration, registration, re-voting, a resend, the in-person override and the record part."""

from __future__ import annotations

import pytest

from collector.record import remote_part
from tests.collector.conftest import Clock, RemoteElection, VoterApp, make_collector, serve

pytestmark = pytest.mark.integration


def test_collector_on_postgresql(remote_election: RemoteElection, pg_database: str) -> None:
    collector = make_collector(remote_election, pg_database, Clock())
    assert collector.db.is_postgres
    with serve(collector, remote_election) as served:
        a = VoterApp(served.client(), remote_election, "10000001")
        b = VoterApp(served.client(), remote_election, "10000002")
        assert a.register().status_code == 200 and b.register().status_code == 200
        first, _ = a.ballot()
        body = a.submission(first)
        assert a.submit(body).json()["duplicate"] is False
        assert a.submit(body).json()["duplicate"] is True
        second, _ = a.ballot()
        assert a.submit(a.submission(second)).status_code == 200
        assert a.submit(a.submission(first, sequence=1)).json()["error"] == "stale_sequence"
        b_ballot, _ = b.ballot()
        assert b.submit(b.submission(b_ballot)).status_code == 200
        r = served.office().post("/internal/v1/void", json={"civil_number": "10000002"})
        assert r.json()["had_remote_vote"] is True
        part = remote_part(collector.db, "REMOTE-01")
    assert [c.ballot_id for c in part.counted] == [second.ballot_id]
    assert part.files["remote/counts.json"] | {} == {
        "format_version": 1, "credentials": 2, "voided": 1, "submissions": 3, "counted": 1, "superseded": 1,
    }  # fmt: skip
