"""The office serves the guardians the pre-decryption record (``GET /api/guardian/record``, a tar archive) and the
real guardian CLI decrypts only the tally it recomputes from that record's ballots: a compromised office database
whose tally is one voter's ballot is refused with its reason; the genuine record gives shares the office accepts
and results that verify."""

from __future__ import annotations

import hashlib
import io
import json
import tarfile
from pathlib import Path
from typing import Any

import pytest

from central import pollbook
from central.office import Office
from devtools.kiosksim import Election, SimKiosk, client_for
from election.guardian.__main__ import main as guardian
from election.manifest import WilayatCode
from election.roll import CivilNumber, RollEntry
from tests.central.staffsim import login
from tests.election.ceremony_dir import SCRYPT_N, write_ceremony_dir

pytestmark = pytest.mark.integration

PASSPHRASE = "guardian record test (TEST MATERIAL)"  # a test vault passphrase


def decrypt(ceremony: Path, sequence: int, record: Path, out: Path, *extra: str) -> int:
    pw = ceremony.parent / "pw"
    pw.write_text(PASSPHRASE + "\n")
    return guardian(["--ceremony", str(ceremony), "decrypt-share" if not extra else "compensate", "--sequence",
                     str(sequence), "--passphrase-file", str(pw), "--scrypt-n", str(SCRYPT_N), "--jobs", "1",
                     str(record), "--out", str(out), *extra])  # fmt: skip


def vote_and_close(election: Election, office: Office, kiosks: dict[str, SimKiosk], app) -> tuple[Any, dict, dict]:
    """Three voters vote at one kiosk and one challenges; the batch goes through the real ingest; the kiosk signs
    its chain close and every centre closes. Returns (public client, admin headers, one cast ballot)."""
    with office.db.transaction() as s:
        pollbook.import_roll(
            s, office.manifest, [RollEntry(CivilNumber(f"3{i:07d}"), WilayatCode("MU-01"), True) for i in range(1, 5)]
        )
    k = kiosks["K-PC-002-1"]
    cast = []
    for i in range(1, 4):
        answer = k.checkin(f"3{i:07d}").json()
        cast.append(k.cast(answer["ballot_style_id"]).encrypted_ballot)
        assert k.voted(answer["checkin_token"]).status_code == 200
    k.challenge("BS-MU-01")
    receipt = k.send(k.make_batch()).json()
    assert (receipt["accepted"], receipt["rejected"]) == (4, 0), receipt
    http = client_for(app, None)  # no certificate, no login: anyone may read it
    early = http.get("/api/guardian/record")
    assert early.status_code == 409 and "not closed at every centre" in early.json()["detail"]
    admin = login(http, election.pki, "staff-admin-1")
    assert k.close().status_code == 200  # the kiosk's signed chain close, as when its polls close
    for centre in office.manifest.centres:
        assert http.post(f"/api/centres/{centre.id}/close", json={}, headers=admin).status_code == 200
    return http, admin, cast[1]


def ceremony_for(election: Election, tmp_path: Path) -> Path:
    return write_ceremony_dir(tmp_path / "ceremony", election.manifest.manifest_hash, election.context,
                              election.guardians, election.secrets, PASSPHRASE)  # fmt: skip


def test_guardians_decrypt_the_offices_pre_decryption_record_and_the_results_verify(
    election: Election, office: Office, kiosks: dict[str, SimKiosk], app, tmp_path: Path, capsys
) -> None:
    http, admin, _victim = vote_and_close(election, office, kiosks, app)
    ceremony = ceremony_for(election, tmp_path)
    shares = tmp_path / "shares"
    genuine = http.get("/api/guardian/record")
    assert genuine.status_code == 200, genuine.text
    assert genuine.headers["content-type"] == "application/x-tar"
    with tarfile.open(fileobj=io.BytesIO(genuine.content)) as tar:
        names = tar.getnames()
    assert {"record/tally/encrypted_tally.json", "record/manifest.json", "record/kiosks/K-PC-002-1.json"} <= set(names)
    assert sum(n.startswith("record/ballots/cast/") for n in names) == 3
    assert not any(n.startswith(("record/tally/shares", "record/results.json", "record/office")) for n in names)
    record = tmp_path / "record.tar"
    record.write_bytes(http.get("/api/guardian/record").content)
    assert record.read_bytes() == genuine.content  # the same record gives the same archive, byte for byte
    digest = hashlib.sha256(genuine.content).hexdigest()
    assert genuine.headers["x-record-sha256"] == digest
    assert decrypt(ceremony, 1, record, shares) == 0
    assert decrypt(ceremony, 2, record, shares) == 0
    assert decrypt(ceremony, 1, record, shares, "--missing", "3") == 0
    assert decrypt(ceremony, 2, record, shares, "--missing", "3") == 0
    err = capsys.readouterr().err
    assert "encrypted tally" in err  # the checks' table
    assert f"record archive SHA-256 {digest}" in err  # what the guardians compare among themselves
    for path in sorted(shares.glob("*.json")):
        uploaded = http.post("/api/guardian-shares", json=json.loads(path.read_text()), headers=admin)
        assert uploaded.status_code == 200, uploaded.text
    published = http.post("/api/results", headers=admin)
    assert published.status_code == 200, published.text
    assert published.json()["verified"] is True
