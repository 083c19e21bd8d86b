"""Ballot secrecy at the collector: no log record of a whole voting session (DEBUG included: ours, uvicorn's,
the card PKI's) carries a civil number, a credential, a ballot id or a submission id; the record part carries no
civil number."""

from __future__ import annotations

import logging

import pytest

from collector.record import remote_part
from election.canonical import canonical_json
from tests.collector.conftest import Served, VoterApp

pytestmark = pytest.mark.integration


def test_nothing_logged_links_a_voter_to_a_credential_or_ballot(
    served: Served, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    app = VoterApp(served.client(), served.election, "10000001")
    assert app.register().status_code == 200
    ballot, _ = app.ballot()
    body = app.submission(ballot)
    assert app.submit(body).status_code == 200
    assert app.submit(body).status_code == 200
    assert app.my_votes().status_code == 200
    assert served.client().get(f"/r1/ballots/{ballot.ballot_id}").status_code == 200
    assert served.office().post("/internal/v1/void", json={"civil_number": "10000001"}).status_code == 200
    secrets = ["10000001", app.credential, ballot.ballot_id, body["submission_id"], ballot.ballot_hash.hex()]
    # the test's own HTTP clients (httpx, httpcore: the voter's device) are in this process too; not the collector's
    server_side = [r for r in caplog.records if not r.name.startswith(("httpx", "httpcore", "hpack"))]
    assert server_side, "the collector logged nothing at all: the capture is not working"
    for record in server_side:
        text = record.getMessage() + " " + " ".join(map(str, record.args or ()))
        for secret in secrets:
            assert secret not in text, (record.name, text)
    part = remote_part(served.collector.db, "REMOTE-01")
    published = b"".join(canonical_json(c) for c in part.files.values())
    assert b"10000001" not in published and app.credential.encode() in published
