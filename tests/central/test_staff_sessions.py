"""Staff roles come only from a card (issue 14 points 9 and 10), through the real office over HTTPS and the real
``python -m central issue-token``: the console mints no committee or administrator token (refused and audited)
and its observer token is marked as a console token; a staff card revoked on the office's CRL stops working at
its next request once the office has the new CRL file; logout ends a session at once."""

from __future__ import annotations

import datetime as dt
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.serialization import Encoding
from sqlalchemy import select

from central.models import AuditEntry, StaffToken
from central.office import Office
from devtools.central_office import NOW, Clock, make_office
from devtools.kiosksim import Election
from devtools.test_pki import issue_crl
from tests.central.https import https_office
from tests.central.staffsim import attempt_login, login

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def crl_path(election: Election, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("crl") / "staff-ca.crl"
    shutil.copyfile(election.pki.staff_crl_path, path)
    return path


@pytest.fixture(scope="module")
def office(
    election: Election, pg_database: str, tmp_path_factory: pytest.TempPathFactory, clock: Clock, crl_path: Path
) -> Iterator[Office]:
    office = make_office(election, pg_database, tmp_path_factory.mktemp("record"), clock, workers=0, staff_crl=crl_path)
    yield office
    office.close()


def _cli(config: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "central", "issue-token", "--config", str(config), *args],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
        cwd=REPO,
    )


def test_console_tokens_carry_no_role_that_needs_a_second_person(
    election: Election, office: Office, app, tmp_path: Path
) -> None:
    c = office.config
    config = tmp_path / "central.toml"
    config.write_text(
        f'[database]\nurl = "{c.database_url}"\n'
        f'[election]\ndir = "{c.election_dir}"\nrecord_dir = "{tmp_path / "record"}"\n'
        f'[server]\nstaff_ca = "{c.staff_ca}"\nkiosk_ca = "{c.kiosk_ca}"\n'
        "[ingest]\nworkers = 0\n",
        encoding="utf-8",
    )
    for role in ("committee_member", "administrator"):
        refused = _cli(config, "--role", role, "--subject", "night operator")
        assert refused.returncode == 2, refused.stdout + refused.stderr
        assert f"refused: the role {role} comes only from a staff card login" in refused.stdout
    minted = _cli(config, "--role", "observer", "--subject", "night operator")
    assert minted.returncode == 0, minted.stderr
    token = {"Authorization": f"Bearer {minted.stdout.strip()}"}
    with https_office(app, election) as h:
        http = h.staff()
        audit = http.get("/api/audit", headers=token)
        assert audit.status_code == 200, audit.text
        # An observer can read, not act: no sheet, no approval, no publication.
        sheet = {"source_kind": "embassy", "source_id": "EMB-LONDON", "contest_id": "shura-MU-01", "voters": 1}
        assert http.post("/api/manual-sheets", json={**sheet, "counts": {}}, headers=token).status_code == 403
        assert http.post("/api/manual-sheets/1/approve", headers=token).status_code == 403
        assert http.post("/api/results", headers=token).status_code == 403
    entries = [(e["action"], e["actor"], e["details"]) for e in audit.json()]
    assert ("staff.console_token_refused", "console:night operator", {"role": "committee_member"}) in entries
    assert ("staff.console_token_refused", "console:night operator", {"role": "administrator"}) in entries
    issued = next(d for a, _, d in entries if a == "staff.console_token_issued")
    assert issued["console"] is True and issued["role"] == "observer"
    with office.db.transaction() as s:
        rows = list(s.scalars(select(StaffToken).where(StaffToken.console.is_(True))))
    assert [(r.role, r.subject, r.cert_serial) for r in rows] == [("observer", "console:night operator", None)]


def test_a_revoked_card_stops_at_its_next_request_and_logout_ends_a_session(
    election: Election, office: Office, app, crl_path: Path
) -> None:
    with https_office(app, election) as h:
        http = h.staff()
        cm1, cm2 = login(http, election.pki, "staff-cm-1"), login(http, election.pki, "staff-cm-2")
        assert http.get("/api/adjudication", headers=cm1).status_code == 200
        # The staff CA revokes the first member's card; the office is handed the new CRL file.
        crl = issue_crl(
            election.pki,
            this_update=NOW - dt.timedelta(hours=1),
            next_update=NOW + dt.timedelta(days=7),
            revoke=["staff-cm-1"],
            issuer="staff_ca",
            number=200,
        )
        crl_path.write_bytes(crl.public_bytes(Encoding.DER))
        stopped = http.get("/api/adjudication", headers=cm1)
        assert stopped.status_code == 401 and "revoked" in stopped.json()["detail"], stopped.text
        again = http.get("/api/adjudication", headers=cm1)
        assert again.status_code == 401 and "unknown token" in again.json()["detail"]  # the session is gone
        relogin = attempt_login(http, election.pki, "staff-cm-1")
        assert relogin.status_code == 401 and "revoked" in relogin.json()["detail"]
        assert http.get("/api/adjudication", headers=cm2).status_code == 200  # other cards keep working

        # Logout.
        out = http.post("/api/staff/logout", headers=cm2)
        assert out.json() == {"logged_out": True}
        gone = http.get("/api/adjudication", headers=cm2)
        assert gone.status_code == 401 and "unknown token" in gone.json()["detail"]
    with office.db.transaction() as s:
        actions = list(s.scalars(select(AuditEntry.action).order_by(AuditEntry.seq)))
    assert "staff.session_revoked" in actions and "staff.logout" in actions and "staff.login_refused" in actions
