"""The collector client trusts nothing it receives: recorded answers from a dishonest or broken collector
(served over TLS with the pinned certificate) are never taken for a receipt, a challenge or a registration."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response

from remote import client as c
from tests.remote.helpers import COLLECTOR_ID, Election, HttpsServer, build_election, encrypt

SEED = bytes(32)


@pytest.fixture(scope="module")
def election(tmp_path_factory: pytest.TempPathFactory) -> Election:
    return build_election(tmp_path_factory.mktemp("election"))


def recorded(answers: dict[str, Any]) -> FastAPI:
    """Each path answers its recorded (status, body) or a callable of the request body."""
    app = FastAPI()

    @app.post("/r1/{name}")
    async def post(name: str, request: Request) -> Response:
        answer = answers[name]
        if callable(answer):
            answer = answer(await request.json())
        status, body = answer
        if isinstance(body, bytes):
            return Response(body, status_code=status, media_type="application/json")
        if status == 302:
            return RedirectResponse("https://example.invalid/", status_code=302)
        return JSONResponse(body, status_code=status)

    return app


@pytest.fixture
def serve(tmp_path: Path, election: Election) -> Iterator[Any]:
    servers: list[HttpsServer] = []
    clients: list[c.CollectorClient] = []

    def start(answers: dict[str, Any]) -> c.CollectorClient:
        server = HttpsServer(recorded(answers), election.tls, tmp_path).__enter__()
        servers.append(server)
        client = c.CollectorClient(server.url, election.tls.cert, collector_id=COLLECTOR_ID, election_id="test-2027")
        clients.append(client)
        return client

    yield start
    for cl in clients:
        cl.close()
    for s in servers:
        s.__exit__()


def submission(election: Election) -> c.Submission:
    key = Ed25519PrivateKey.generate()
    from election.remote_statement import credential_hex

    ballot = encrypt(election, {"C-MCT": ["MCT-1"]}, os.urandom(16).hex(), SEED)
    return c.make_submission(election_id="test-2027", collector_id=COLLECTOR_ID, credential_hex=credential_hex(key),
                             sign=key.sign, ballot=ballot, sequence=1, submission_id=os.urandom(16).hex())  # fmt: skip


def receipt_for(sub: c.Submission, **changes: Any) -> dict[str, Any]:
    return {"submission_id": sub.submission_id, "ballot_id": sub.ballot.ballot_id,
            "ballot_hash": sub.ballot.ballot_hash.hex(), "sequence": sub.sequence,
            "received_at": "2027-10-27T08:00:00+00:00", "duplicate": False,
            "fetch_until": "2027-10-27T08:30:00+00:00"} | changes  # fmt: skip


def test_a_receipt_for_the_ballot_sent_is_arrived(serve: Any, election: Election) -> None:
    sub = submission(election)
    client = serve({"ballots": (200, receipt_for(sub))})
    outcome = c.submit_until_known(client, sub, sleep=lambda _s: None)
    assert isinstance(outcome, c.Arrived) and outcome.receipt.ballot_id == sub.ballot.ballot_id


@pytest.mark.parametrize(
    "change",
    [
        {"ballot_hash": "00" * 32},  # a receipt for another ballot
        {"sequence": 2},
        {"submission_id": "ab" * 16},
        {"received_at": "2027-10-27T12:00:00+04:00"},  # not UTC
        {"duplicate": "yes"},
        {"extra": 1},
    ],
)
def test_a_receipt_that_is_not_for_this_submission_is_never_taken_for_arrival(
    serve: Any, election: Election, change: dict[str, Any]
) -> None:
    sub = submission(election)
    client = serve({"ballots": (200, receipt_for(sub, **change))})
    outcome = c.submit_until_known(client, sub, attempts=2, sleep=lambda _s: None)
    assert isinstance(outcome, c.NotYetKnown) and outcome.reason.startswith("submission:")


def test_an_oversized_answer_is_cut_off(serve: Any, election: Election) -> None:
    client = serve({"challenge": (200, b"[" + b"1," * 20_000 + b"1]")})
    with pytest.raises(c.Unreachable, match="larger than"):
        client.challenge()


def test_a_challenge_for_another_collector_or_election_is_refused(serve: Any) -> None:
    good = {"challenge_id": "ab" * 16, "nonce": "cd" * 32, "collector_id": COLLECTOR_ID, "election_id": "test-2027",
            "issued_at": "2027-10-27T08:00:00+00:00", "expires_at": "2027-10-27T08:02:00+00:00"}  # fmt: skip
    assert serve({"challenge": (200, good)}).challenge().challenge_id == "ab" * 16
    for change in ({"collector_id": "K-2"}, {"election_id": "other"}, {"expires_at": "2027-10-27T07:00:00+00:00"}):
        with pytest.raises(c.Unreachable):
            serve({"challenge": (200, good | change)}).challenge()


def test_errors_are_typed_and_redirects_not_followed(serve: Any, election: Election) -> None:
    sub = submission(election)
    refused = c.submit_until_known(serve({"ballots": (409, {"error": "stale_sequence", "detail": "older"})}), sub)
    assert isinstance(refused, c.NotAccepted) and refused.error.error == "stale_sequence"
    garbage = c.submit_until_known(serve({"ballots": (403, b"<html>no</html>")}), sub)
    assert isinstance(garbage, c.NotAccepted) and garbage.error.error == "malformed"
    with pytest.raises(c.Unreachable, match="302"):
        serve({"challenge": (302, {})}).challenge()
