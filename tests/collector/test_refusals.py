"""Every bad input to the collector is a clear 4xx and records nothing: stale or replayed challenges, cards the
kiosk would refuse, voters off the roll or outside their window, forged or malformed ballots, oversized and
non-strict bodies, floods; and the in-person override through the internal mTLS listener."""

from __future__ import annotations

import datetime as dt
import hashlib
import ssl
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from collector.limits import RateLimits
from collector.models import SubmissionRow
from collector.record import remote_part
from election.canonical import canonical_json
from election.manifest import VoterGroup
from election.remote_statement import BallotStatement, CardPurpose
from tests.collector.conftest import (
    ABROAD,
    NOT_ELIGIBLE,
    NOT_ON_ROLL,
    REVOKED,
    Clock,
    RemoteElection,
    Served,
    VoterApp,
    make_collector,
    serve,
)

pytestmark = pytest.mark.integration


def voter(served: Served, civil_number: str = "10000001") -> VoterApp:
    return VoterApp(served.client(), served.election, civil_number)


def error(r: httpx.Response) -> tuple[int, str]:
    return r.status_code, r.json()["error"]


def submissions(served: Served) -> int:
    with served.collector.db.transaction() as s:
        return int(s.scalar(select(func.count()).select_from(SubmissionRow)) or 0)


def test_challenges_are_single_use_short_lived_and_known(served: Served, clock: Clock) -> None:
    app = voter(served)
    challenge = app.challenge()
    assert app.register(challenge).status_code == 200
    assert error(app.register(challenge)) == (410, "stale_challenge")  # a replayed card signature
    late = app.challenge()
    clock.advance(seconds=121)
    assert error(app.register(late)) == (410, "stale_challenge")
    unknown = dict(app.challenge(), challenge_id="0" * 32)
    assert error(app.register(unknown)) == (404, "unknown_challenge")


def test_cards_a_kiosk_refuses_are_refused(served: Served, remote_election: RemoteElection) -> None:
    assert error(voter(served, REVOKED).register()) == (403, "card_refused")
    assert voter(served, REVOKED).register().json()["detail"] == "revoked"
    staff = next(iter(remote_election.pki.staff))
    app = voter(served, staff)
    assert error(app.register()) == (403, "card_refused")
    expired = voter(served, "bad/expired")
    assert error(expired.register()) == (403, "card_refused")


def test_a_card_signature_binds_the_credential_and_the_purpose(served: Served) -> None:
    app = voter(served)
    other = voter(served)
    # the card signed for another credential key (malware swapping the key after the PIN)
    challenge = app.challenge()
    raw = other.credential_key.public_key().public_bytes_raw()
    body = app.card_sign(challenge, CardPurpose.REGISTER, raw) | {"credential": app.credential}
    r = app.post("/r1/credentials", body)
    assert error(r) == (403, "card_refused") and r.json()["detail"] == "bad_signature"
    # a my-votes signature does not register a credential
    body = app.card_sign(app.challenge(), CardPurpose.MY_VOTES, b"") | {"credential": app.credential}
    assert error(app.post("/r1/credentials", body)) == (403, "card_refused")


def test_roll_eligibility_and_windows(remote_election: RemoteElection, tmp_path: Any) -> None:
    remote = remote_election.manifest.remote_voting
    assert remote is not None
    home_window, abroad_window = remote.window(VoterGroup.HOME), remote.window(VoterGroup.ABROAD)
    assert home_window is not None and abroad_window is not None
    clock = Clock(home_window.opens - dt.timedelta(hours=1))  # abroad open, home not yet
    collector = make_collector(remote_election, f"sqlite:///{tmp_path / 'w.db'}", clock)
    with serve(collector, remote_election) as served:
        assert error(voter(served, NOT_ON_ROLL).register()) == (403, "not_on_roll")
        assert error(voter(served, NOT_ELIGIBLE).register()) == (403, "not_eligible")
        home = voter(served, "10000001")
        assert error(home.register()) == (403, "window_closed")
        abroad = voter(served, ABROAD)
        assert abroad.register().status_code == 200
        assert voter(served, "10000002").my_votes().status_code == 200  # a voter can always ask
        clock.now = abroad_window.opens - dt.timedelta(seconds=1)
        ballot, _ = abroad.ballot()
        assert error(abroad.submit(abroad.submission(ballot))) == (403, "window_closed")


def test_forged_and_malformed_ballots_record_nothing(served: Served, remote_election: RemoteElection) -> None:
    app = voter(served)
    assert app.register().status_code == 200
    ballot, _ = app.ballot()
    body = app.submission(ballot)
    # another credential's signature
    intruder = voter(served, "10000002")
    assert intruder.register().status_code == 200
    forged = intruder.submission(ballot) | {"credential": app.credential}
    assert error(app.submit(forged)) == (422, "bad_signature")
    # an unregistered credential
    stranger = voter(served, "10000003")
    assert error(stranger.submit(stranger.submission(ballot))) == (404, "no_credential")
    # a ballot changed after signing
    changed = dict(body, ballot=dict(body["ballot"], ballot_id="x" + ballot.ballot_id[1:]))
    assert error(app.submit(changed)) == (422, "bad_signature")
    # a proof that does not hold (signed as it is: the credential holder cheats)
    tampered = ballot.to_dict()
    contest = tampered["contests"][0]
    contest["selections"][0]["ciphertext"], contest["blank"] = contest["blank"], contest["selections"][0]["ciphertext"]
    cheat = app.submission(ballot)
    statement = BallotStatement(
        str(remote_election.manifest.election_id),
        "REMOTE-01",
        app.credential,
        cheat["submission_id"],
        cheat["sequence"],
        ballot.ballot_id,
        hashlib.sha256(canonical_json(tampered)).hexdigest(),
    )
    r = app.submit(cheat | {"ballot": tampered, "signature": statement.sign(app.credential_key)})
    assert error(r) == (422, "bad_ballot"), r.text
    # another wilayat's ballot style
    others = [s.id for s in remote_election.manifest.ballot_styles if s.id != ballot.style_id]
    wrong, _ = app.ballot(others[0])
    assert error(app.submit(app.submission(wrong))) == (422, "wrong_style")
    # malformed bodies
    assert error(app.submit({"ballot": {}})) == (422, "bad_request")
    assert error(app.submit(body | {"sequence": True})) == (422, "bad_signature")
    assert error(app.submit(body | {"extra": 1})) == (422, "bad_request")
    assert submissions(served) == 0


@pytest.mark.parametrize(
    ("raw", "why"),
    [
        (b'{"a": 1, "a": 2}', "appears twice"),
        (b'{"a": NaN}', "NaN"),
        (b"[" * 40 + b"]" * 40, "nesting"),
        (b"\xff\xfe", "strict JSON"),
        (b"", "JSON object"),
        (b"[]", "expected a JSON object"),
    ],
)
def test_non_strict_json_is_a_clear_422(served: Served, raw: bytes, why: str) -> None:
    r = served.client().post("/r1/challenge", content=raw, headers={"content-type": "application/json"})
    assert r.status_code == 422 and r.json()["error"] == "bad_request"
    assert why in r.json()["detail"]


def test_body_limits_before_parsing(served: Served) -> None:
    client = served.client()
    big = b'{"x": "' + b"a" * 17 * 1024 + b'"}'
    r = client.post("/r1/credentials", content=big, headers={"content-type": "application/json"})
    assert r.status_code == 413 and r.json()["error"] == "too_large"

    def chunks() -> Any:
        yield b'{"x": "'
        for _ in range(30):
            yield b"a" * 1024
        yield b'"}'

    r = client.post("/r1/credentials", content=chunks(), headers={"content-type": "application/json"})
    assert r.status_code == 413
    assert client.get("/nowhere").status_code == 404
    assert client.get("/r1/challenge").json()["error"] == "method_not_allowed"


def test_a_flood_from_one_address_is_limited(remote_election: RemoteElection, tmp_path: Any) -> None:
    collector = make_collector(
        remote_election, f"sqlite:///{tmp_path / 'r.db'}", Clock(), RateLimits(client_rate=0.01, client_burst=5)
    )
    with serve(collector, remote_election) as served:
        client = served.client()
        answers = [client.post("/r1/challenge", content=b"{}").status_code for _ in range(8)]
        assert answers[:5] == [200] * 5 and set(answers[5:]) == {429}
        assert int(client.post("/r1/challenge", content=b"{}").headers["retry-after"]) >= 1


def test_card_authentications_per_voter_are_limited(remote_election: RemoteElection, tmp_path: Any) -> None:
    collector = make_collector(
        remote_election,
        f"sqlite:///{tmp_path / 'v.db'}",
        Clock(),
        RateLimits(client_rate=1000, client_burst=1000, voter_auths_per_hour=3),
    )
    with serve(collector, remote_election) as served:
        app = voter(served)
        assert [app.my_votes().status_code for _ in range(4)] == [200, 200, 200, 429]
        assert voter(served, "10000002").my_votes().status_code == 200


def test_in_person_vote_voids_the_credential(served: Served) -> None:
    app = voter(served)
    assert app.register().status_code == 200
    ballot, _ = app.ballot()
    assert app.submit(app.submission(ballot)).status_code == 200
    # the internal listener requires the office's client certificate in the TLS handshake
    with pytest.raises((httpx.ConnectError, httpx.ReadError, httpx.RemoteProtocolError, ssl.SSLError)):
        served.office(with_certificate=False).post("/internal/v1/void", json={"civil_number": "10000001"})
    # and the public listener has no such route
    assert served.client().post("/internal/v1/void", json={"civil_number": "10000001"}).status_code == 404
    office = served.office()
    # the check-in asks first (nothing changes), the voted mark voids
    assert office.post("/internal/v1/status", json={"civil_number": "10000001"}).json() == {"has_remote_vote": True}
    assert office.post("/internal/v1/status", json={"civil_number": "10000002"}).json() == {"has_remote_vote": False}
    assert app.my_votes().json()["voided"] is False
    r = office.post("/internal/v1/void", json={"civil_number": "10000001"})
    assert r.status_code == 200 and r.json() == {"had_remote_vote": True, "credential": app.credential}
    assert office.post("/internal/v1/void", json={"civil_number": "1"}).status_code == 422
    refused = app.submit(app.submission(app.ballot()[0]))
    assert error(refused) == (409, "voted_in_person")
    assert office.post("/internal/v1/status", json={"civil_number": "10000001"}).json() == {"has_remote_vote": False}
    assert error(voter(served).register()) == (409, "voted_in_person")
    seen = app.my_votes().json()
    assert seen["voided"] is True and seen["submissions"] == 1
    part = remote_part(served.collector.db, "REMOTE-01")
    assert part.counted == () and part.files["remote/voided.json"]["voided"] == [app.credential]
    statuses = [s["status"] for s in part.files["remote/submissions.json"]["submissions"]]
    assert statuses == ["voided"]
    # a voter who never voted remotely: the answer says so, and they cannot register afterwards
    r = office.post("/internal/v1/void", json={"civil_number": "10000002"})
    assert r.json() == {"had_remote_vote": False, "credential": None}
    assert error(voter(served, "10000002").register()) == (409, "voted_in_person")
