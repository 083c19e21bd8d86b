"""The guardians' public export of the encrypted tally: refused (409, saying why) while polls are open, then
the tally and the pre-decryption record, which the guardian tool checks and accepts (a bare tally it refuses)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from nacl.public import PrivateKey

from central.api import create_app
from central.config import CentralConfig
from central.db import migrate
from central.office import Office
from devtools.central_office import NOW, Clock
from devtools.demo_election.build import small_manifest
from devtools.kiosksim import Election, client_for
from election.guardian.__main__ import main as guardian
from election.tally import EncryptedTally
from tests.central.staffsim import login

PASSPHRASE = "guardian export test (TEST MATERIAL)"  # a test vault passphrase


def ceremony(tmp: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A real key ceremony with the guardians' CLI: 3 guardians, any 2 decrypt."""
    monkeypatch.setenv("SANDUQ_GUARDIAN_PASSPHRASE", PASSPHRASE)
    manifest = tmp / "manifest.json"
    manifest.write_text(json.dumps(small_manifest().to_dict()), encoding="utf-8")
    where = tmp / "ceremony"
    g = ["--ceremony", str(where)]
    assert guardian([*g, "init", "--manifest", str(manifest), "--guardians", "3", "--quorum", "2"]) == 0
    for step in ("commit", "share", "verify-shares"):
        for i in (1, 2, 3):
            extra = ["--name", f"Guardian {i} (TEST)"] if step == "commit" else []
            assert guardian([*g, step, "--sequence", str(i), *extra]) == 0
    assert guardian([*g, "publish-key"]) == 0
    return where


def office_for(tmp: Path, election: Election, ceremony_dir: Path) -> Office:
    """An office (SQLite) loading the ceremony's election context and guardian records."""
    edir = tmp / "office-election"
    (edir / "guardians").mkdir(parents=True)
    (edir / "manifest.json").write_text(json.dumps(small_manifest().to_dict()), encoding="utf-8")
    shutil.copy(ceremony_dir / "context.json", edir / "election-context.json")
    for path in (ceremony_dir / "guardians").glob("guardian-*.json"):
        shutil.copy(path, edir / "guardians" / path.name)
    (edir / "envelope.key").write_text(bytes(PrivateKey.generate()).hex(), encoding="ascii")
    url = f"sqlite:///{tmp / 'central.sqlite3'}"
    migrate(url)
    office = Office.open(
        CentralConfig(
            database_url=url,
            election_dir=edir,
            record_dir=tmp / "record",
            staff_ca=election.pki.staff_ca.cert_path,
            kiosk_ca=election.pki.kiosk_ca.cert_path,
            envelope_private_key=edir / "envelope.key",
        ),
        clock=Clock(NOW),
    )
    office.prepare()
    return office


def test_tally_is_served_only_once_final_and_the_guardian_tool_takes_it(
    election: Election, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    where = ceremony(tmp_path, monkeypatch)
    office = office_for(tmp_path, election, where)
    try:
        http = client_for(create_app(office), None)  # no certificate, no login: anyone may read it
        for path in ("/api/guardian/tally", "/api/guardian/election", "/api/guardian/record"):
            early = http.get(path)
            assert early.status_code == 409, early.text
            assert "not closed at every centre" in early.json()["detail"]
            assert early.json()["error"] == "conflict"

        admin = login(http, election.pki, "staff-admin-1")
        for centre in office.manifest.centres:
            assert http.post(f"/api/centres/{centre.id}/close", json={}, headers=admin).status_code == 200

        answer = http.get("/api/guardian/tally")
        assert answer.status_code == 200, answer.text
        tally = EncryptedTally.from_dict(answer.json())
        context = json.loads((where / "context.json").read_text(encoding="utf-8"))
        assert tally.base_hash.hex() == context["base_hash"]
        assert {str(c) for c in tally.contests} == {c.id for c in office.manifest.contests}
        facts = http.get("/api/guardian/election").json()
        assert facts["election_context"]["base_hash"] == context["base_hash"]
        assert sorted(g["sequence"] for g in facts["guardians"]) == [1, 2, 3]

        # The guardian, offline, checks the downloaded pre-decryption record and computes a share from it; the
        # bare tally file alone is no longer enough.
        record = http.get("/api/guardian/record")
        assert record.status_code == 200, record.text
        record_file = tmp_path / "downloaded-record.tar"
        record_file.write_bytes(record.content)
        tally_file = tmp_path / "downloaded-tally.json"
        tally_file.write_text(answer.text, encoding="utf-8")
        shares = tmp_path / "shares"
        shares.mkdir()
        g = ["--ceremony", str(where), "decrypt-share", "--sequence", "1", "--jobs", "1", "--out", str(shares)]
        assert guardian([*g, str(tally_file)]) == 1
        assert guardian([*g, str(record_file)]) == 0
        share = json.loads((shares / "guardian-1.json").read_text(encoding="utf-8"))
        assert share["guardian"] == 1 and share["missing"] is None
        assert {v["contest"] for v in share["values"]} == {c.id for c in office.manifest.contests}
    finally:
        office.close()
