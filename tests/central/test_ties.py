"""A tie for the last seat, end to end against PostgreSQL: results elect nobody for the tied seat and say it awaits
a drawing of lots by the committee (results JSON, NIST JSON, CSV, printable report, dashboard); a committee member
records the draw's outcome (staff card, audited, only among the tied candidates, only after results, once), after
which the drawn candidate is elected everywhere."""

from __future__ import annotations

import csv
import io
import json
import os
from pathlib import Path

import jsonschema
import pytest

from central import audit, pollbook
from central.closing import encrypted_tally
from central.office import Office
from central.results import winners
from devtools.kiosksim import Election, SimKiosk, client_for, close_chains
from devtools.sample_election import decrypt_with
from election.manifest import WilayatCode
from election.roll import CivilNumber, RollEntry
from tests.central.staffsim import login

pytestmark = pytest.mark.integration

UNIFIED = "K-PC-001-1"
MA04, MU01, MU02 = "shura-MA-04", "shura-MU-01", "shura-MU-02"
NIST_SCHEMA = Path(__file__).resolve().parents[2] / "config" / "standards" / "NIST_V2_election_results_reporting.json"


def test_winners_rule() -> None:
    assert winners(2, {"a": 5, "b": 4, "c": 1}) == (["a", "b"], None)
    assert winners(1, {"a": 5}) == (["a"], None)
    outright, tie = winners(2, {"a": 5, "b": 3, "c": 3, "d": 3, "e": 1})
    assert outright == ["a"] and tie is not None
    assert (tie["seats"], tie["candidates"], tie["votes"], tie["resolved"]) == (1, ["b", "c", "d"], 3, False)
    outright, tie = winners(2, {"a": 2, "b": 2, "c": 2})  # three tied for both seats
    assert outright == [] and tie is not None and tie["seats"] == 2
    assert winners(2, {"a": 3, "b": 3, "c": 1}) == (["a", "b"], None)  # tied, but both are elected


def test_a_tie_for_the_last_seat_waits_for_the_committees_draw(
    election: Election, office: Office, kiosks: dict[str, SimKiosk], app
) -> None:
    m = office.manifest
    a, b, c, d, *_ = m.contests_by_id[MA04].selection_ids  # type: ignore[index]
    # Al Mudhaibi (2 seats): a 3 votes, b 2, c 2, d 1 -> a elected, b and c tied for the second seat.
    plan = {
        "BS-MA-04": [{MA04: [a, b]}, {MA04: [a, c]}, {MA04: [a, d]}, {MA04: [b, c]}],
        "BS-MU-01": [{MU01: [m.contests_by_id[MU01].selection_ids[0]]}],  # type: ignore[index]
        "BS-MU-02": [{MU02: [m.contests_by_id[MU02].selection_ids[0]]}],  # type: ignore[index]
    }
    wilayat = {"BS-MA-04": "MA-04", "BS-MU-01": "MU-01", "BS-MU-02": "MU-02"}
    civil = {style: [f"7{n}{i:06d}" for i in range(len(votes))] for n, (style, votes) in enumerate(plan.items())}
    with office.db.transaction() as s:
        pollbook.import_roll(
            s, m, [RollEntry(CivilNumber(x), WilayatCode(wilayat[st]), True) for st, xs in civil.items() for x in xs]
        )
    kiosk = kiosks[UNIFIED]
    for style, votes in plan.items():
        for x, choices in zip(civil[style], votes, strict=True):
            answer = kiosk.checkin(x).json()
            assert answer["ballot_style_id"] == style, answer
            kiosk.pending.append(kiosk.encrypt(style, choices={k: list(v) for k, v in choices.items()}))
            assert kiosk.voted(answer["checkin_token"]).json()["status"] == "recorded"
    assert kiosk.send(kiosk.make_batch()).json()["accepted"] == 6

    http = client_for(app, None)
    admin = login(http, election.pki, "staff-admin-1")
    cm1, cm2 = login(http, election.pki, "staff-cm-1"), login(http, election.pki, "staff-cm-2")
    draw = f"/api/results/contests/{MA04}/lot-draw"
    body = {"winners": [c], "note": "drawn at the committee's session, 3 witnesses, sheet 7"}
    early = http.post(draw, json=body, headers=cm1)
    assert early.status_code == 409 and "no results published" in early.json()["detail"]  # only after results

    close_chains(kiosks)  # each kiosk's signed chain close, sent when its polls close
    for centre in m.centres:
        assert http.post(f"/api/centres/{centre.id}/close", json={}, headers=admin).status_code == 200
    _, shares = decrypt_with(election.context, m, encrypted_tally(office), election.secrets, [2, 3], os.urandom)
    for share in shares:
        assert http.post("/api/guardian-shares", json=share.to_dict(), headers=admin).status_code == 200
    published = http.post("/api/results", headers=admin)
    assert published.status_code == 200 and published.json()["verified"] is True, published.text

    # Results: a elected; b and c tied for the last seat, neither elected; the other contests have no tie.
    r = http.get("/api/public/results").json()["contests"]
    assert r[MA04]["elected"] == [a]
    tie = r[MA04]["tie"]
    assert (tie["candidates"], tie["seats"], tie["votes"], tie["resolved"]) == (sorted([b, c]), 1, 2, False)
    assert "drawing lots" in tie["rule"]
    assert r[MU01]["tie"] is None and len(r[MU01]["elected"]) == 1
    nist = http.get("/api/public/results/nist.json").json()
    jsonschema.validate(nist, json.loads(NIST_SCHEMA.read_text(encoding="utf-8")))
    status = {x["@id"]: x.get("PostElectionStatus") for x in nist["Election"][0]["Candidate"]}
    assert status[f"cand-{a}"] == "winner" and status[f"cand-{b}"] is None and status[f"cand-{c}"] is None
    contest = next(x for x in nist["Election"][0]["Contest"] if x["@id"] == f"contest-{MA04}")
    assert contest["ExternalIdentifier"][0]["Value"].startswith("undecided, lots to be drawn")
    rows = {row["candidate"]: row for row in csv.DictReader(io.StringIO(http.get("/api/public/results.csv").text))}
    assert (rows[a]["elected"], rows[b]["elected"], rows[c]["elected"], rows[d]["elected"]) == (
        "yes",
        "tie: lots to be drawn",
        "tie: lots to be drawn",
        "no",
    )
    report = http.get("/api/public/reports/MA-04").text
    assert "to be decided by the committee by drawing lots" in report and "تحسمه اللجنة بالقرعة" in report
    assert "drawing lots" in http.get("/en").text and "بالقرعة" in http.get("/ar").text

    # The draw: committee members only; only among the tied candidates; as many as the tied seats; once.
    assert http.post(draw, json=body, headers=admin).status_code == 403
    assert http.post(draw, json={**body, "winners": [a]}, headers=cm1).status_code == 422
    assert http.post(draw, json={**body, "winners": [d]}, headers=cm1).status_code == 422
    assert http.post(draw, json={**body, "winners": [b, c]}, headers=cm1).status_code == 422
    assert http.post(f"/api/results/contests/{MU01}/lot-draw", json=body, headers=cm1).status_code == 409
    done = http.post(draw, json=body, headers=cm1)
    assert done.status_code == 200, done.text
    assert done.json()["elected"] == [a, c] and done.json()["tie"]["resolved"] is True
    assert http.post(draw, json={**body, "winners": [b]}, headers=cm2).status_code == 409

    r = http.get("/api/public/results").json()["contests"][MA04]
    assert r["elected"] == [a, c] and r["tie"]["drawn"] == [c] and "drawing lots" in r["tie"]["rule"]
    nist = http.get("/api/public/results/nist.json").json()
    jsonschema.validate(nist, json.loads(NIST_SCHEMA.read_text(encoding="utf-8")))
    status = {x["@id"]: x.get("PostElectionStatus") for x in nist["Election"][0]["Candidate"]}
    assert status[f"cand-{c}"] == "winner" and status[f"cand-{b}"] is None
    rows = {row["candidate"]: row for row in csv.DictReader(io.StringIO(http.get("/api/public/results.csv").text))}
    assert (rows[b]["elected"], rows[c]["elected"]) == ("no, by lot", "yes, by lot")
    assert "decided by the committee by drawing lots" in http.get("/api/public/reports/MA-04").text
    with office.db.transaction() as s:
        drawn = [e for e in audit.entries(s, limit=10_000) if e.action == "results.lot_drawn"]
        assert len(drawn) == 1 and drawn[0].details["winners"] == [c] and drawn[0].details["tied"] == sorted([b, c])
        assert drawn[0].actor != "unknown" and "sheet 7" in drawn[0].details["note"]
        assert audit.verify_chain(s) > 0
