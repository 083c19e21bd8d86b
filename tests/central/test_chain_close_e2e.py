"""Issue 14 point 1: the end of a kiosk's chain is protected by the kiosk's signed chain close.

A real election day through the REAL office (``python -m central serve``: HTTPS with mutual TLS, PostgreSQL): the
kiosks' own ballot boxes store the ballots and sign their batches (each with its chain head) and, at polls close,
their chain close; the kiosks' real sync workers deliver them. Then a dishonest office appends one valid ballot to
a chain's end, or drops a chain's last ballot, recomputes its tally (and its poll book to match), the guardians
decrypt, the results are published: every other check of the verifier passes (the attack was real before this
change: ``--skip closes`` verifies), and the closes check fails naming the kiosk. A kiosk that never closed its
polls is reported by name with its last signed head, unless the observer passes ``--allow-unclosed KIOSK``.
"""

from __future__ import annotations

import io
import json
import os
import secrets
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pytest
from nacl.public import PrivateKey
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from central.api import create_app
from central.crypto import CheckRequest
from central.ingest import add_to_tally
from central.models import Ballot, BallotStatus, KioskChainClose, KioskChainHead, TallyState, Voter, VoterState
from central.office import Office
from devtools.central_office import Clock, make_office
from devtools.kiosksim import Election, client_for
from devtools.pg import PostgresServer
from devtools.real_office import CentralOffice, RealElection, chained
from devtools.sample_election import random_plaintext
from election.ballot import PlaintextBallot, encrypt_ballot
from election.benaloh import challenge_ballot
from election.confirmation import confirmation_code
from election.manifest import BallotStyleId, CandidateId, ContestId
from election.verify.__main__ import verify_record
from kiosk.ballot_box import BallotBox
from kiosk.polls import PollsAction
from sync.client import SyncClient
from sync.protocol import CheckinRequest, CheckinStatus
from tests.ballot_box.kit import CHAIR
from tests.central.staffsim import login, publish_results
from tests.sync.worker_kit import make_worker, wait_until_drained

pytestmark = pytest.mark.integration

CLOSED = "K-PC-001-1"  # closes its polls at the end of the day
UNCLOSED = "K-PC-001-2"  # same centre; takes one ballot, syncs it, never closes (destroyed, stolen)
CENTRE = "PC-001"
STYLE = "BS-MU-01"
FIRST_VOTER = 93_000_000


@dataclass
class Day:
    office: Office
    central: CentralOffice
    http: Any
    admin: dict[str, str]
    boxes: dict[str, BallotBox]


def _real(election: Election) -> RealElection:
    envelope = PrivateKey(bytes.fromhex((election.root / "envelope.key").read_text(encoding="ascii")))
    return RealElection(election.manifest, election.context, election.pki, envelope, election.root)


def _vote(real: RealElection, box: BallotBox, client: SyncClient, civil: int) -> None:
    answer = client.checkin(
        CheckinRequest(
            kiosk_id=box.kiosk_id, centre_id=CENTRE, civil_number=str(civil), idempotency_key=secrets.token_hex(16)
        )
    )
    assert answer.status is CheckinStatus.ELIGIBLE and answer.checkin_token and answer.ballot_style_id
    box.record_checkin(answer.checkin_token, answer.ballot_style_id)
    box.cast(answer.checkin_token, chained(box, real.encrypt(STYLE), box.kiosk_id))


def _challenge(real: RealElection, box: BallotBox) -> None:
    """A Benaloh challenge: the spoiled ballot, with its revealed seed, chained like any other."""
    seed = secrets.token_bytes(32)
    plain = random_plaintext(real.manifest, BallotStyleId(STYLE), os.urandom)
    ballot = encrypt_ballot(real.context, real.manifest, plain, ballot_id=secrets.token_hex(16), seed=seed)
    link = chained(box, ballot, box.kiosk_id)
    box.record_challenge(replace(link, encrypted_ballot=challenge_ballot(ballot, seed).to_dict()))


@pytest.fixture
def day(election: Election, pg_server: PostgresServer, tmp_path: Path, clock: Clock) -> Iterator[Day]:
    """Polls open at two kiosks of PC-001; K-PC-001-1 takes 3 ballots and a Benaloh challenge and closes its polls
    (its close delivered), K-PC-001-2 takes 1 ballot and never closes; the centres are then closed."""
    url = pg_server.create_database()
    real = _real(election)
    central = CentralOffice(real, url, tmp_path / "central")
    central.initialise([str(FIRST_VOTER + i) for i in range(20)])
    central.start()
    office = make_office(election, url, tmp_path / "record", clock)
    boxes: dict[str, BallotBox] = {}
    try:
        voter = FIRST_VOTER
        for kiosk, ballots in ((CLOSED, 3), (UNCLOSED, 1)):
            box = real.open_kiosk(tmp_path / f"{kiosk}.db", kiosk, min_batch=1 if kiosk == UNCLOSED else 2)
            boxes[kiosk] = box
            client = SyncClient(central.url, real.tls(kiosk))
            worker = make_worker(box, client)
            for n in range(ballots):
                _vote(real, box, client, voter)
                voter += 1
                if n == 0 and kiosk == CLOSED:
                    _challenge(real, box)
                worker.run_once()
            if kiosk == CLOSED:
                box.apply(PollsAction.CLOSE, CHAIR)
            while not worker.run_once():
                pass
            wait_until_drained(worker, box)
            client.close()
        http = client_for(create_app(office), None)
        admin = login(http, election.pki, "staff-admin-1")
        yield Day(office, central, http, admin, boxes)
    finally:
        for box in boxes.values():
            box.close()
        office.close()
        central.close()
        pg_server.drop_database(url)


def _publish(day: Day, election: Election) -> tuple[dict[str, Any], Path]:
    for centre in election.manifest.centres:
        r = day.http.post(f"/api/centres/{centre.id}/close", json={}, headers=day.admin)
        assert r.status_code == 200, r.text
    results = publish_results(day.http, day.office, election, day.admin, [1, 2])
    return results, Path(results["record_dir"])


def _verify(record: Path, **options: Any) -> tuple[bool, str]:
    out = io.StringIO()
    return verify_record(record, out, jobs=1, **options), out.getvalue()


def _closes_line(output: str) -> str:
    return next(line for line in output.splitlines() if "kiosk chain closes:" in line)


def test_the_record_publishes_each_kiosks_signed_close_and_names_the_kiosk_that_never_closed(
    day: Day, election: Election
) -> None:
    with day.office.db.transaction() as s:  # the office verified and stored the close the kiosk signed
        held = s.get_one(KioskChainClose, (CLOSED, 1)).statement
    own = day.boxes[CLOSED].chain_close()
    assert own is not None and held == own.model_dump(mode="json")
    assert (own.cast, own.challenged, own.provisional) == (3, 1, 0)

    results, record = _publish(day, election)
    published = json.loads((record / "kiosks" / f"{CLOSED}.json").read_text(encoding="utf-8"))
    assert published["close"] == held and published["last_head"]["root"] == own.root
    unclosed = json.loads((record / "kiosks" / f"{UNCLOSED}.json").read_text(encoding="utf-8"))
    assert unclosed["close"] is None and unclosed["last_head"]["cast"] == 1

    assert results["verified"] is False  # the office's own verifier run: a kiosk never closed
    ok, output = _verify(record)
    assert not ok
    line = _closes_line(output)
    assert line.startswith("FAIL") and f"kiosk {UNCLOSED} never closed its chain" in line, line
    head = unclosed["last_head"]["root"][:16]
    assert f"last signed head: 1 links (cast 1, challenged 0, provisional 0) ending at root {head}" in line
    ok, output = _verify(record, allow_unclosed=(UNCLOSED,))
    assert ok, output
    assert f"accepted by --allow-unclosed: {UNCLOSED}" in _closes_line(output)


def _last_batch(s: Session) -> str:
    """The batch id of the kiosk's last accepted batch (its signed head has the most links)."""
    return (
        s.scalars(
            select(KioskChainHead.batch_id)
            .where(KioskChainHead.kiosk_id == CLOSED)
            .order_by(KioskChainHead.links.desc())
        ).first()
        or ""
    )


def _forge_appended_ballot(office: Office, election: Election) -> None:
    """The office adds a valid ballot for candidate 1 to the kiosk's last batch, counts it and marks one more voter
    voted: the record's batch chain (its roots recomputed by the writer), the tally and the poll book all agree."""
    with office.db.transaction() as s:
        first = election.manifest.styles_by_id[BallotStyleId(STYLE)].contests[0]
        plain = PlaintextBallot(
            BallotStyleId(STYLE), {ContestId(first.contest): frozenset({CandidateId(first.candidates[0])})}
        )
        forged = encrypt_ballot(election.context, election.manifest, plain, ballot_id=secrets.token_hex(16),
                                seed=os.urandom(32))  # fmt: skip
        genesis = office.checker.genesis(CLOSED)
        code = confirmation_code(bytes.fromhex(genesis), CLOSED, forged)
        checked = office.checker.check(CheckRequest(payload=forged.to_dict(), kiosk_id=CLOSED, genesis=genesis))
        assert checked.code == code.hex()
        s.add(
            Ballot(
                ballot_id=forged.ballot_id, kiosk_id=CLOSED, batch_id=_last_batch(s), style_id=STYLE,
                confirmation_code=code.hex(), status=BallotStatus.ACCEPTED, reason=None,
                provisional=False, spoiled=False, payload=forged.to_dict(),
            )
        )  # fmt: skip
        add_to_tally(s, office.checker, [checked])
        spare = s.scalars(select(Voter).where(Voter.state == VoterState.NOT_VOTED).limit(1)).one()
        spare.state = VoterState.VOTED


def _drop_last_ballot(office: Office) -> None:
    """The office deletes a cast ballot of the kiosk's last batch, recomputes its tally from the ballots left and
    unmarks one voter: the tally, the poll book and the (shorter) batch chain agree."""
    with office.db.transaction() as s:
        last = next(
            b
            for b in s.scalars(select(Ballot).where(Ballot.kiosk_id == CLOSED, Ballot.batch_id == _last_batch(s)))
            if not b.spoiled
        )
        s.delete(last)
        s.flush()
        for row in s.scalars(select(TallyState)):  # the tally recomputed from nothing
            row.state, row.ballots = office.checker.empty_tally(row.contest_id), 0
        s.flush()
        counted = s.scalars(
            select(Ballot).where(Ballot.status == BallotStatus.ACCEPTED, Ballot.spoiled.is_(False))
        ).all()
        checked = [
            office.checker.check(
                CheckRequest(payload=b.payload, kiosk_id=b.kiosk_id, genesis=office.checker.genesis(b.kiosk_id))
            )
            for b in counted
        ]
        add_to_tally(s, office.checker, checked)
        voted = s.scalars(select(Voter).where(Voter.state == VoterState.VOTED).limit(1)).one()
        voted.state = VoterState.NOT_VOTED
        assert (s.scalar(select(func.count()).select_from(Voter).where(Voter.state == VoterState.VOTED)) or 0) == 3


@pytest.mark.parametrize("attack", ["append", "drop"])
def test_a_ballot_appended_to_or_dropped_from_a_chain_end_fails_the_closes_check_naming_the_kiosk(
    day: Day, election: Election, attack: str
) -> None:
    if attack == "append":
        _forge_appended_ballot(day.office, election)
    else:
        _drop_last_ballot(day.office)
    results, record = _publish(day, election)
    cast = results["contests"]["shura-MU-01"]["electronic"]["ballots"]
    assert cast == (5 if attack == "append" else 3)  # the guardians decrypted the altered tally

    # The attack is real: every check but the closes check passes on the altered record.
    ok, output = _verify(record, allow_unclosed=(UNCLOSED,), skip=("closes",))
    assert ok, output
    # The kiosk's signed close catches it, naming the kiosk.
    ok, output = _verify(record, allow_unclosed=(UNCLOSED,))
    assert not ok
    line = _closes_line(output)
    assert line.startswith("FAIL") and f"kiosk {CLOSED}: its chain does not end at its signed close" in line, line
    assert "4 links (cast 3, challenged 1, provisional 0)" in line
    assert results["verified"] is False
