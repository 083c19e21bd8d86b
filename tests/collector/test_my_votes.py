"""The voter's own check through real HTTPS: every submission recorded under the card holder's credentials, each with
its time, sequence, ballot id, ballot hash and status (a re-vote: the first superseded, the last counts; a replaced
credential; a vote in person), newest first, at most 40, and nothing of it in the collector's log."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pytest

from collector.limits import RateLimits
from election.ballot import EncryptedBallot
from election.remote_statement import CardPurpose
from tests.collector.conftest import Clock, RemoteElection, Served, VoterApp, make_collector, serve

pytestmark = pytest.mark.integration


def voter(served: Served, civil_number: str = "10000001") -> VoterApp:
    return VoterApp(served.client(), served.election, civil_number)


def cast(app: VoterApp, clock: Clock) -> EncryptedBallot:
    clock.advance(minutes=1)  # each ballot arrives at its own time, as a voter's do
    ballot, _ = app.ballot()
    r = app.submit(app.submission(ballot))
    assert r.status_code == 200, r.text
    return ballot


def listed(answer: dict[str, Any]) -> list[tuple[str, int, str]]:
    return [(b["ballot_id"], b["sequence"], b["status"]) for b in answer["ballots"]]


def test_a_re_vote_a_replaced_credential_and_a_vote_in_person(served: Served, clock: Clock) -> None:
    app = voter(served)
    assert app.register().status_code == 200
    first, second = cast(app, clock), cast(app, clock)
    seen = app.my_votes().json()
    assert listed(seen) == [(second.ballot_id, 2, "counts"), (first.ballot_id, 1, "superseded")]
    assert seen["submissions"] == 2 and seen["voided"] is False and seen["credential"] == app.credential
    newest = seen["ballots"][0]
    assert newest["ballot_hash"] == second.ballot_hash.hex()  # its first 16 digits are the receipt's code
    assert newest["received_at"] == seen["last_received_at"] == clock.now.isoformat()
    assert set(newest) == {"received_at", "sequence", "ballot_id", "ballot_hash", "status"}

    # a lost device: the voter registers another credential; the old one's ballots are listed as replaced
    clock.advance(minutes=1)
    device = voter(served)
    assert device.register().json()["replaced"] is True
    third = cast(device, clock)
    seen = device.my_votes().json()
    assert seen["credential"] == device.credential and seen["submissions"] == 3
    assert listed(seen) == [
        (third.ballot_id, 1, "counts"), (second.ballot_id, 2, "replaced"), (first.ballot_id, 1, "replaced")
    ]  # fmt: skip

    # the voter votes at a polling centre: the live credential is voided, its ballot with it
    assert served.office().post("/internal/v1/void", json={"civil_number": "10000001"}).status_code == 200
    seen = device.my_votes().json()
    assert seen["voided"] is True
    assert [b["status"] for b in seen["ballots"]] == ["voided", "replaced", "replaced"]
    # another voter's answer lists none of it
    other = voter(served, "10000002").my_votes().json()
    assert other["ballots"] == [] and other["submissions"] == 0


def test_the_list_holds_the_40_most_recent_and_the_count_says_how_many_exist(
    remote_election: RemoteElection, tmp_path: Path
) -> None:
    clock = Clock()
    limits = RateLimits(client_rate=1000, client_burst=1000, submissions_per_credential=30)
    collector = make_collector(remote_election, f"sqlite:///{tmp_path / 'c.db'}", clock, limits)
    with serve(collector, remote_election) as served:
        old = voter(served, "10000003")
        assert old.register().status_code == 200
        old_ballots = [cast(old, clock) for _ in range(30)]
        refused = old.submit(old.submission(old.ballot()[0]))
        assert refused.json()["error"] == "rate_limited"  # a credential holds at most 30
        new = voter(served, "10000003")
        assert new.register().status_code == 200
        new_ballots = [cast(new, clock) for _ in range(12)]
        seen = new.my_votes().json()
    assert seen["submissions"] == 42 and len(seen["ballots"]) == 40
    expected = [b.ballot_id for b in reversed(new_ballots)] + [b.ballot_id for b in reversed(old_ballots)][:28]
    assert [b["ballot_id"] for b in seen["ballots"]] == expected
    assert [b["status"] for b in seen["ballots"][:12]] == ["counts"] + ["superseded"] * 11
    assert {b["status"] for b in seen["ballots"][12:]} == {"replaced"}


def test_nothing_of_the_answer_is_logged(served: Served, clock: Clock, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    app = voter(served)
    assert app.register().status_code == 200
    ballots = [cast(app, clock), cast(app, clock)]
    answer = app.my_votes()
    assert answer.status_code == 200 and len(answer.json()["ballots"]) == 2
    secrets = ["10000001", app.credential] + [b.ballot_id for b in ballots] + [b.ballot_hash.hex() for b in ballots]
    server_side = [r for r in caplog.records if not r.name.startswith(("httpx", "httpcore", "hpack"))]
    assert server_side, "the collector logged nothing at all: the capture is not working"
    for record in server_side:
        text = record.getMessage() + " " + " ".join(map(str, record.args or ()))
        assert not [s for s in secrets if s in text], (record.name, text)


def test_a_bad_my_votes_body_is_a_clear_refusal(served: Served) -> None:
    app = voter(served)
    body = app.card_sign(app.challenge(), CardPurpose.MY_VOTES, b"")
    for bad, detail in (
        (body | {"extra": 1}, "unknown"),
        ({k: v for k, v in body.items() if k != "signature"}, "missing"),
        (body | {"challenge_id": "XYZ"}, "challenge_id"),
        (body | {"ecdsa_format": "pem"}, "ecdsa_format"),
    ):
        r = app.post("/r1/my-votes", bad)
        assert r.status_code == 422 and r.json()["error"] == "bad_request" and detail in r.json()["detail"], r.text
