"""A compromised office database: before the tally is frozen, the encrypted tally of a contest is replaced by one
voter's ballot. The office freezes and serves it in its pre-decryption record (``GET /api/guardian/record``);
the real guardian CLI recomputes the tally from the record's ballots and refuses, saying which ciphertext is not
the sum, and writes no share (before, the guardian decrypted the tally it was handed: that voter's choices)."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from central.models import TallyState
from central.office import Office
from devtools.kiosksim import Election, SimKiosk
from tests.central.test_guardian_record import ceremony_for, decrypt, vote_and_close

pytestmark = pytest.mark.integration


def test_a_tally_of_one_ballot_served_by_the_office_is_refused_by_the_guardians(
    election: Election, office: Office, kiosks: dict[str, SimKiosk], app, tmp_path: Path, capsys
) -> None:
    http, _admin, victim = vote_and_close(election, office, kiosks, app)
    contest = victim["contests"][0]
    with office.db.transaction() as s:
        row = s.scalars(select(TallyState).where(TallyState.contest_id == contest["contest_id"])).one()
        row.state = {
            **row.state,
            "selections": {x["candidate_id"]: x["ciphertext"] for x in contest["selections"]},
            "blank": contest["blank"],
        }
    served = http.get("/api/guardian/record")
    assert served.status_code == 200, served.text  # the office serves (and freezes) what its database says
    forged = tmp_path / "forged.tar"
    forged.write_bytes(served.content)
    shares = tmp_path / "shares"
    for extra in ((), ("--missing", "3")):
        assert decrypt(ceremony_for(election, tmp_path / f"c{len(extra)}"), 1, forged, shares, *extra) == 1
        err = capsys.readouterr().err
        assert "error: refused:" in err and f"encrypted tally of {contest['contest_id']}/" in err, err
        assert "is not the sum of the cast ballots" in err
    assert not shares.exists()
