"""End to end against PostgreSQL: kiosks check voters in, cast real encrypted ballots and sync them; the poll
book and the ingest rules hold under replay, tampering, concurrency and provisional voting."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import func, select

from central import audit, pollbook
from central.models import Ballot, BallotStatus, RejectedSubmission, TallyState, Voter, VoterState
from central.office import Office
from central.pollbook import CheckInOutcome
from devtools.kiosksim import SimKiosk
from election.manifest import KioskId, WilayatCode
from election.roll import CivilNumber, RollEntry

pytestmark = pytest.mark.integration

UNIFIED, MU01, MU02 = "K-PC-001-1", "K-PC-002-1", "K-PC-003-1"


@pytest.fixture(scope="module", autouse=True)
def roll(office: Office) -> None:
    entries = [
        RollEntry(CivilNumber(f"1{w:01d}{i:06d}"), WilayatCode(code), True)
        for w, code in enumerate(["MA-04", "MU-01", "MU-02"])
        for i in range(1, 41)
    ]
    entries.append(RollEntry(CivilNumber("19999999"), WilayatCode("MU-01"), False))
    with office.db.transaction() as s:
        pollbook.import_roll(s, office.manifest, entries)


def vote(kiosk: SimKiosk, civil: str) -> str:
    r = kiosk.checkin(civil)
    assert r.status_code == 200, r.text
    answer = r.json()
    assert answer["status"] == "eligible", answer
    kiosk.cast(answer["ballot_style_id"])
    assert kiosk.voted(answer["checkin_token"]).json()["status"] == "recorded"
    return str(answer["ballot_style_id"])


def test_voters_check_in_cast_and_sync(kiosks: dict[str, SimKiosk], office: Office) -> None:
    k = kiosks[UNIFIED]
    styles = [vote(k, c) for c in ("10000001", "11000001", "12000001")]  # one voter of each wilayat
    assert styles == ["BS-MA-04", "BS-MU-01", "BS-MU-02"]
    receipt = k.send(k.make_batch()).json()
    assert receipt["accepted"] == 3 and receipt["duplicate_ballots"] == 0 and not receipt["duplicate_batch"]
    assert receipt["rejected"] == 0
    with office.db.transaction() as s:
        assert s.scalar(select(func.count()).select_from(Ballot).where(Ballot.status == BallotStatus.ACCEPTED)) == 3
        assert s.get_one(TallyState, "shura-MA-04").ballots == 1
        assert s.get_one(Voter, "10000001").state is VoterState.VOTED
        # The voted mark left no kiosk, token or time on the voter's row.
        v = s.get_one(Voter, "10000001")
        assert (v.lock_kiosk, v.lock_token, v.lock_expires_at) == (None, None, None)
    # The same voter anywhere else: already voted.
    assert kiosks[MU01].checkin("11000001").json()["status"] == "already_voted"
    # A non-unified centre does not serve another wilayat.
    assert kiosks[MU01].checkin("12000002").json()["status"] == "wrong_centre"
    assert kiosks[MU01].checkin("19999999").json()["status"] == "ineligible"
    assert kiosks[MU01].checkin("55555555").json()["status"] == "not_on_roll"


def test_lock_is_held_until_voted_or_released(kiosks: dict[str, SimKiosk]) -> None:
    a, b = kiosks[UNIFIED], kiosks[MU02]
    first = a.checkin("12000003").json()
    assert first["status"] == "eligible"
    assert b.checkin("12000003").json()["status"] == "locked_elsewhere"
    again = a.checkin("12000003").json()  # a retried check-in at the holding kiosk: the same lock
    assert again["checkin_token"] == first["checkin_token"]
    # Another kiosk cannot use the token.
    assert b.voted(first["checkin_token"]).status_code == 403
    r = a.post(f"/v1/checkins/{first['checkin_token']}/release", {"kiosk_id": a.kiosk_id, "reason": "voter_left"})
    assert r.json() == {"protocol_version": 1, "released": True}
    assert b.checkin("12000003").json()["status"] == "eligible"


def test_a_retried_check_in_gets_the_same_lock_while_it_lives(kiosks: dict[str, SimKiosk], office: Office) -> None:
    """Keyed by (kiosk, idempotency key) on the live lock: a lost answer comes back with the same token; once the
    voted mark has arrived nothing of the check-in is left, and a retry is told "already voted"."""
    a, b = kiosks[MU01], kiosks[UNIFIED]
    key = "a" * 32
    first = a.checkin("11000005", key).json()
    assert first["status"] == "eligible"
    assert a.checkin("11000005", key).json() == first  # the lost answer, again: same token, same expiry
    # The same key for another voter while that lock lives is a kiosk fault, refused, and takes no lock.
    r = a.checkin("11000006", key)
    assert r.status_code == 409 and r.json()["error"] == "conflict"
    # The same key from another kiosk is another request.
    assert b.checkin("11000005", key).json()["status"] == "locked_elsewhere"
    assert a.voted(first["checkin_token"]).json()["status"] == "recorded"
    assert a.voted(first["checkin_token"]).json()["status"] == "already_recorded"  # a lost acknowledgement
    assert a.checkin("11000005", key).json()["status"] == "already_voted"  # the retry after the voted mark
    assert a.checkin("11000005").json()["status"] == "already_voted"  # a new card insertion
    with office.db.transaction() as s:
        assert s.get_one(Voter, "11000006").state is VoterState.NOT_VOTED
        v = s.get_one(Voter, "11000005")
        assert (v.lock_kiosk, v.lock_token, v.lock_expires_at, v.lock_request) == (None, None, None, None)
    # The key is free again once the lock has ended (kiosks use a fresh key per check-in anyway).
    assert a.checkin("11000006", key).json()["status"] == "eligible"


def test_a_spent_token_is_known_only_to_the_kiosk_that_spent_it(kiosks: dict[str, SimKiosk]) -> None:
    a, b = kiosks[MU01], kiosks[UNIFIED]
    token = a.checkin("11000007").json()["checkin_token"]
    release = {"kiosk_id": a.kiosk_id, "reason": "voter_left"}
    assert a.post(f"/v1/checkins/{token}/release", release).json()["released"] is True
    assert a.post(f"/v1/checkins/{token}/release", release).json()["released"] is False  # retried: harmless
    assert a.voted(token).status_code == 404  # released, then a voted mark: refused
    r = b.voted(token)  # another kiosk: the office no longer knows whose the token was
    assert r.status_code == 404 and r.json()["error"] == "unknown_token"


def test_concurrent_double_vote_from_two_centres_counts_one_ballot(kiosks: dict[str, SimKiosk], office: Office) -> None:
    """Two centres race for the same voter on separate database connections: exactly one wins."""
    civil, contenders = "11000010", [KioskId(UNIFIED), KioskId(MU01)]
    for attempt in range(5):  # several rounds with fresh voters to make the race real
        civil = f"110000{10 + attempt}"
        barrier = threading.Barrier(len(contenders))
        outcomes: dict[str, pollbook.CheckIn] = {}

        def race(
            kiosk_id: KioskId, civil: str = civil, barrier: threading.Barrier = barrier, outcomes=outcomes
        ) -> None:
            with office.db.transaction() as s:
                barrier.wait()
                outcomes[kiosk_id] = pollbook.check_in(
                    s, office.manifest, civil_number=civil, kiosk_id=kiosk_id, now=office.clock(), lock_seconds=600
                )

        threads = [threading.Thread(target=race, args=(k,)) for k in contenders]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        winners = [k for k, o in outcomes.items() if o.outcome is CheckInOutcome.OK]
        assert len(winners) == 1, outcomes
        loser = next(k for k in contenders if k not in winners)
        assert outcomes[loser].outcome is CheckInOutcome.VOTING_ELSEWHERE
    # Over HTTP: both kiosks try to cast for one voter; only the lock holder's voted mark and ballot count.
    a, b = kiosks[UNIFIED], kiosks[MU01]
    ra, rb = a.checkin("11000020").json(), b.checkin("11000020").json()
    assert sorted([ra["status"], rb["status"]]) == ["eligible", "locked_elsewhere"]
    assert a.voted(ra["checkin_token"]).json()["status"] == "recorded"
    assert a.send(a.make_batch([a.encrypt("BS-MU-01")])).json()["accepted"] == 1
    assert b.checkin("11000020").json()["status"] == "already_voted"


def test_replayed_batch_is_answered_once_and_counted_once(kiosks: dict[str, SimKiosk], office: Office) -> None:
    k = kiosks[MU02]
    vote(k, "12000030")
    batch = k.make_batch()
    first = k.send(batch).json()
    with office.db.transaction() as s:
        before = s.get_one(TallyState, "shura-MU-02").ballots
    second = k.send(batch).json()
    assert second == {**first, "duplicate_batch": True}
    # The same ballots re-sent inside a new batch are refused whole: a ballot is a link of one batch only.
    root = k.head
    again = k.send(k.make_batch(batch.ballots))
    assert again.status_code == 409 and "an earlier batch linked" in again.json()["detail"], again.text
    k.head = root
    with office.db.transaction() as s:
        assert s.get_one(TallyState, "shura-MU-02").ballots == before


def test_tampered_batches_are_rejected_and_logged(kiosks: dict[str, SimKiosk], office: Office) -> None:
    k = kiosks[MU02]
    vote(k, "12000031")
    batch = k.make_batch()
    # 1. A ballot altered after signing: the signature no longer verifies.
    forged = batch.model_copy(update={"ballots": [k.encrypt("BS-MU-02", chain=False)]})
    r = k.send(forged)
    assert r.status_code == 422 and r.json()["error"] == "bad_signature"
    # 2. The same batch id with other content: conflict.
    k.send(batch)
    other = k.make_batch([k.encrypt("BS-MU-02")])
    clash = other.model_copy(update={"batch_id": batch.batch_id})
    r = k.send(clash)
    assert r.status_code == 409 and r.json()["error"] == "conflict"
    # 3. Signed by the kiosk but breaking the confirmation-code chain (a ballot dropped before it): the chain no
    #    longer ends at the batch's signed chain head, so the whole batch is refused, nothing stored or counted.
    k.encrypt("BS-MU-02")  # a ballot that never arrives
    broken = k.make_batch([k.encrypt("BS-MU-02")])
    r = k.send(broken)
    assert r.status_code == 409 and "signed chain head" in r.json()["detail"], r.text
    # 4. Sent with another kiosk's certificate: refused before anything is read.
    r = kiosks[MU01].send(broken)
    assert r.status_code == 403 and r.json()["error"] == "kiosk_mismatch"
    with office.db.transaction() as s:
        reasons = set(s.scalars(select(RejectedSubmission.reason)))
        assert any("signature" in x for x in reasons)
        assert "batch id reused with different content" in reasons
        assert s.get(Ballot, broken.ballots[0].ballot_id) is None
        assert any("signed chain head" in x for x in reasons)
        actions = [e.action for e in audit.entries(s, limit=10_000)]
        assert "batch.refused" in actions and "batch.received" in actions
        assert audit.verify_chain(s) == len(actions)


def test_provisional_ballot_of_a_voter_who_voted_goes_to_adjudication(
    kiosks: dict[str, SimKiosk], office: Office
) -> None:
    from central.models import EnvelopeStatus, ProvisionalEnvelope
    from central.provisional import Decision, decide, process_envelopes

    k = kiosks[MU01]
    with office.db.transaction() as s:
        before = s.get_one(TallyState, "shura-MU-01").ballots
    fresh, r1 = k.provisional("11000030", "BS-MU-01")  # has not voted anywhere
    assert r1.json()["duplicate"] is False
    assert k.post("/v1/provisional", fresh.model_dump(mode="json")).json()["duplicate"] is True
    twice, r2 = k.provisional("11000001", "BS-MU-01")  # voted earlier at the unified centre
    assert r2.status_code == 200
    counts = process_envelopes(office)
    assert counts["counted"] == 1 and counts["adjudication"] == 1
    with office.db.transaction() as s:
        assert s.get_one(Voter, "11000030").state is VoterState.VOTED
        assert s.get_one(TallyState, "shura-MU-01").ballots == before + 1
        counted = s.get_one(ProvisionalEnvelope, fresh.envelope_id)
        assert counted.sealed_identity is None  # decided: identity destroyed
        held = s.get_one(ProvisionalEnvelope, twice.envelope_id)
        assert held.status is EnvelopeStatus.ADJUDICATION and held.reason == "voter already voted elsewhere"
        assert held.sealed_identity is not None
    status = decide(office, twice.envelope_id, Decision.REJECT, "voted twice (Art. 6 sheet 12)", actor="committee-1")
    assert status is EnvelopeStatus.REJECTED
    with office.db.transaction() as s:
        held = s.get_one(ProvisionalEnvelope, twice.envelope_id)
        assert held.sealed_identity is None and held.decided_by == "committee-1"
        assert s.get_one(TallyState, "shura-MU-01").ballots == before + 1
        last = audit.entries(s, limit=10_000)[-1]
        assert last.action == "provisional.decided" and last.details["reason"] == "voted twice (Art. 6 sheet 12)"


def test_ballots_are_verified_in_worker_processes_that_end_with_the_app(
    election, office: Office, pg_database: str, tmp_path, clock
) -> None:
    """A batch is checked in the pool (a forged proof is still caught there); stopping the app (ASGI lifespan
    shutdown) stops every worker process."""
    import os

    from central.api import create_app
    from central.chains import last_head
    from central.models import Kiosk
    from devtools.central_office import make_office

    other = make_office(election, pg_database, tmp_path / "record", clock, workers=2)
    try:
        sim = SimKiosk(election, MU02, create_app(other))
        with other.db.transaction() as s:
            sim.head = bytes.fromhex(s.get_one(Kiosk, MU02).chain_head or "")
            before = last_head(s, MU02)  # the chain's links so far, for the signed chain head
            sim.links = list(before.counts) if before is not None else [0, 0, 0]
        with sim.http:  # runs the app's lifespan, as uvicorn does
            good = [sim.encrypt("BS-MU-02") for _ in range(3)]
            payload = dict(good[1].encrypted_ballot)
            payload["contests"] = [
                {**payload["contests"][0], "limit_proof": good[0].encrypted_ballot["contests"][0]["limit_proof"]}
            ]
            forged = good[1].model_copy(update={"encrypted_ballot": payload})
            receipt = sim.send(sim.make_batch([good[0], forged, good[2]])).json()
            assert (receipt["accepted"], receipt["rejected"]) == (2, 1), receipt
            pids = other.checker.worker_pids  # type: ignore[attr-defined]
            assert len(pids) == 2
            with other.db.transaction() as s:
                assert "proof check failed" in (s.get_one(Ballot, forged.ballot_id).reason or "")
        for pid in pids:
            with pytest.raises(ProcessLookupError):
                os.kill(pid, 0)
    finally:
        other.close()
