"""Remote ballots in the guardians' archive, at the office: the vote collector hands its counted ballots over as a
kiosk-like source (check-ins, a signed batch, a signed close; here a simulated collector on the same kiosk routes)
and its record part ``remote/``, signed by its kiosk key, is copied into the office's election directory. The
office serves no pre-decryption record without it (409 saying what is missing), puts it in the archive it serves
(``GET /api/guardian/record``) and in the published record, and the real guardian CLI refuses an archive whose
``remote/`` the office changed to count a voided credential (not the file the collector signed)."""

from __future__ import annotations

import datetime as dt
import io
import json
import shutil
import tarfile
from pathlib import Path
from typing import Any

import pytest

from central import pollbook
from central.office import Office
from devtools.central_office import write_election
from devtools.demo_election.build import small_manifest
from devtools.kiosksim import Election, SimKiosk, client_for
from election.canonical import canonical_json
from election.manifest import Manifest, WilayatCode
from election.roll import CivilNumber, RollEntry
from tests.central.staffsim import login
from tests.central.test_guardian_record import ceremony_for, decrypt
from tests.collector.test_record_remote import COLLECTOR, write_remote

pytestmark = pytest.mark.integration

KIOSK = "K-PC-002-1"


@pytest.fixture(scope="module")
def election(tmp_path_factory: pytest.TempPathFactory) -> Election:
    """The small election with a vote collector (``REMOTE-01``, enrolled as a kiosk) and a home-voting window."""
    data = small_manifest().to_dict()
    centre = next(k["centre"] for k in data["kiosks"] if k["id"] == KIOSK)
    data["kiosks"].append({"id": COLLECTOR, "centre": centre})
    opens = dt.datetime.combine(small_manifest().date, dt.time(4), tzinfo=dt.UTC) - dt.timedelta(days=7)
    window = {"group": "home", "opens": opens.isoformat(), "closes": (opens + dt.timedelta(days=7)).isoformat()}
    data["remote_voting"] = {"collector_ids": [COLLECTOR], "windows": [window]}
    manifest = Manifest.from_dict(data)
    return write_election(tmp_path_factory.mktemp("remote-election"), manifest, [k.id for k in manifest.kiosks])


def vote(kiosk: SimKiosk, civil: str) -> Any:
    answer = kiosk.checkin(civil).json()
    cast = kiosk.cast(answer["ballot_style_id"])
    assert kiosk.voted(answer["checkin_token"]).status_code == 200
    return cast


def archive_names(http: Any) -> tuple[set[str], bytes]:
    answer = http.get("/api/guardian/record")
    assert answer.status_code == 200, answer.text
    with tarfile.open(fileobj=io.BytesIO(answer.content)) as tar:
        return set(tar.getnames()), answer.content


def test_the_collectors_remote_part_is_in_the_guardians_archive_and_checked(
    election: Election, office: Office, kiosks: dict[str, SimKiosk], app, tmp_path: Path, capsys
) -> None:
    with office.db.transaction() as s:
        pollbook.import_roll(
            s, office.manifest, [RollEntry(CivilNumber(f"4{i:07d}"), WilayatCode("MU-01"), True) for i in range(1, 6)]
        )
    kiosk, collector = kiosks[KIOSK], kiosks[COLLECTOR]
    vote(kiosk, "40000001")
    remote = [vote(collector, f"4000000{i}") for i in (2, 3)]  # the collector's handover: check-ins, then ballots
    for k in (kiosk, collector):
        assert k.send(k.make_batch()).json()["rejected"] == 0
        assert k.close().status_code == 200
    http = client_for(app, None)
    admin = login(http, election.pki, "staff-admin-1")
    for centre in office.manifest.centres:
        assert http.post(f"/api/centres/{centre.id}/close", json={}, headers=admin).status_code == 200

    early = http.get("/api/guardian/record")  # the collector's part is not at the office yet
    assert early.status_code == 409 and "the vote collector's record part is not in" in early.json()["detail"]

    # remote/ as the collector writes it for its counted ballots (one credential re-voted, one voided)
    scratch = tmp_path / "collector-out"
    (scratch / "ballots" / "cast").mkdir(parents=True)
    for b in remote:
        entry = {"kiosk": COLLECTOR, "ballot": b.encrypted_ballot}
        (scratch / "ballots" / "cast" / f"{b.ballot_id}.json").write_bytes(canonical_json(entry))
    made = write_remote(
        scratch, office.manifest, sign_with=collector.sign, chain=(collector.genesis.hex(), collector.head.hex())
    )
    part = election.root / "election" / "remote"
    shutil.copytree(scratch / "remote", part)

    names, content = archive_names(http)
    remote_files = ("credentials.json", "voided.json", "submissions.json", "counts.json", "statement.json")
    assert {f"record/remote/{n}" for n in remote_files} <= names
    ceremony, shares = ceremony_for(election, tmp_path), tmp_path / "shares"
    (tmp_path / "genuine.tar").write_bytes(content)

    # a dishonest office counts the voided credential's ballot: the guardian refuses, no share
    genuine = (part / "submissions.json").read_bytes()
    data = json.loads(genuine)
    for s in data["submissions"]:
        if s["credential"] == made["voided"]:
            s["status"] = "counted"
    (part / "submissions.json").write_bytes(canonical_json(data))
    _names, forged = archive_names(http)
    (tmp_path / "forged.tar").write_bytes(forged)
    assert decrypt(ceremony, 1, tmp_path / "forged.tar", tmp_path / "refused") == 1
    err = capsys.readouterr().err
    assert "remote ballots by credential" in err and "remote/submissions.json is not the file the collector" in err, err
    assert not (tmp_path / "refused").exists() or not any((tmp_path / "refused").iterdir())
    (part / "submissions.json").write_bytes(genuine)

    for sequence, extra in ((1, ()), (2, ()), (1, ("--missing", "3")), (2, ("--missing", "3"))):
        assert decrypt(ceremony, sequence, tmp_path / "genuine.tar", shares, *extra) == 0
    err = capsys.readouterr().err
    assert next(x for x in err.splitlines() if x.startswith("remote ballots by credential")).split()[-1] == "PASS"
    for path in sorted(shares.glob("*.json")):
        assert http.post("/api/guardian-shares", json=json.loads(path.read_text()), headers=admin).status_code == 200
    published = http.post("/api/results", headers=admin)
    assert published.status_code == 200, published.text
    assert published.json()["verified"] is True, published.json()
    record = Path(published.json()["record_dir"])
    assert (record / "remote" / "submissions.json").read_bytes() == genuine  # the same part, published
