"""The collector through real HTTPS: registration with the card, credential-signed ballots, idempotent resends,
re-voting, the voter's own check, the second device's window, and what the record part says counts."""

from __future__ import annotations

import pytest

from collector.record import remote_part
from tests.collector.conftest import ABROAD, Clock, Served, VoterApp

pytestmark = pytest.mark.integration


def voter(served: Served, civil_number: str = "10000001") -> VoterApp:
    return VoterApp(served.client(), served.election, civil_number)


def test_register_vote_and_resend_after_a_lost_answer(served: Served) -> None:
    app = voter(served)
    r = app.register()
    assert r.status_code == 200, r.text
    registered = r.json()
    assert registered["credential"] == app.credential and registered["replaced"] is False
    assert registered["group"] == "home"
    ballot, _seed = app.ballot()
    body = app.submission(ballot)
    first = app.submit(body)
    assert first.status_code == 200, first.text
    receipt = first.json()
    assert receipt["duplicate"] is False and receipt["ballot_id"] == ballot.ballot_id
    assert receipt["ballot_hash"] == ballot.ballot_hash.hex() and receipt["sequence"] == 1
    # the answer was lost: the app sends the same bytes again and is told the ballot arrived, once
    again = app.submit(body)
    assert again.status_code == 200
    assert again.json() == receipt | {"duplicate": True}
    # the same idempotency key with other content is refused, nothing replaced
    other, _ = app.ballot()
    forged = app.submission(other, sequence=2) | {"submission_id": body["submission_id"]}
    assert app.submit(forged).json()["error"] == "conflict"
    counted = remote_part(served.collector.db, "REMOTE-01").counted
    assert [c.ballot_id for c in counted] == [ballot.ballot_id]


def test_only_the_last_ballot_counts_and_a_delayed_older_one_cannot_replace_it(served: Served) -> None:
    app = voter(served, "10000002")
    assert app.register().status_code == 200
    first, _ = app.ballot()
    held_back = app.submission(first)  # signed with sequence 1, delivered late (a network that delays it)
    second, _ = app.ballot()
    second_body = app.submission(second)
    assert app.submit(second_body).status_code == 200
    third, _ = app.ballot()
    assert app.submit(app.submission(third)).status_code == 200
    late = app.submit(held_back)
    assert late.status_code == 409 and late.json()["error"] == "stale_sequence"
    part = remote_part(served.collector.db, "REMOTE-01")
    statuses = {s["ballot_id"]: s["status"] for s in part.files["remote/submissions.json"]["submissions"]}
    assert statuses == {second.ballot_id: "superseded", third.ballot_id: "counted"}
    assert [c.ballot_id for c in part.counted] == [third.ballot_id]


def test_my_votes_shows_a_ballot_cast_under_the_voters_identity(served: Served) -> None:
    app = voter(served, "10000003")
    r = app.my_votes()
    assert r.status_code == 200, r.text
    assert r.json() == {
        "credential": None, "voided": False, "submissions": 0, "last_received_at": None, "ballots": []
    }  # fmt: skip
    assert app.register().status_code == 200
    ballot, _ = app.ballot()
    assert app.submit(app.submission(ballot)).status_code == 200
    seen = app.my_votes().json()
    assert seen["credential"] == app.credential and seen["submissions"] == 1 and seen["last_received_at"]
    assert [(b["ballot_id"], b["status"]) for b in seen["ballots"]] == [(ballot.ballot_id, "counts")]


def test_second_device_fetches_three_times_within_thirty_minutes(served: Served, clock: Clock) -> None:
    app = voter(served, ABROAD)
    assert app.register().json()["group"] == "abroad"
    ballot, _ = app.ballot()
    assert app.submit(app.submission(ballot)).status_code == 200
    device = served.client()
    for left in (2, 1, 0):
        got = device.get(f"/r1/ballots/{ballot.ballot_id}")
        assert got.status_code == 200
        assert got.json()["ballot"] == ballot.to_dict() and got.json()["fetches_left"] == left
    assert device.get(f"/r1/ballots/{ballot.ballot_id}").json()["error"] == "expired"
    other, _ = app.ballot()
    assert app.submit(app.submission(other)).status_code == 200
    clock.advance(minutes=30)
    late = device.get(f"/r1/ballots/{other.ballot_id}")
    assert late.status_code == 410 and late.json()["error"] == "expired"
    assert device.get("/r1/ballots/no-such-ballot").status_code == 404


def test_a_new_credential_replaces_the_old_one_whose_ballots_no_longer_count(served: Served) -> None:
    old = voter(served, "10000001")
    assert old.register().status_code == 200
    ballot, _ = old.ballot()
    assert old.submit(old.submission(ballot)).status_code == 200
    new = voter(served, "10000001")  # a lost device: the voter registers again from another computer
    r = new.register()
    assert r.status_code == 200 and r.json()["replaced"] is True
    refused = old.submit(old.submission(old.ballot()[0]))
    assert refused.status_code == 409 and refused.json()["error"] == "conflict"
    part = remote_part(served.collector.db, "REMOTE-01")
    assert part.counted == ()
    assert part.files["remote/voided.json"]["voided"] == [old.credential]
