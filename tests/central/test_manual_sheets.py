"""Manual result sheets (Decision 128/2003 Art. 8, 9; issue 14 point 8), through the real office over HTTPS: a
sheet is accepted only from a source entitled to the contest (a centre switched to paper that serves the
wilayat, a listed embassy, a centre's committee for its own wilayat), with counts that add up; a pending sheet can
be withdrawn (by the member who entered it) or rejected (by another), with a reason; a corrected sheet replaces
it; a second sheet for the same source is a clear 409, never a server error."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from central.models import AuditEntry, ManualSheet, SheetStatus
from central.office import Office
from devtools.kiosksim import Election, SimKiosk
from tests.central.https import https_office
from tests.central.staffsim import login

pytestmark = pytest.mark.integration


def _sheet(source_kind: str, source_id: str, contest: str, voters: int, counts: dict[str, int], **extra: Any) -> Any:
    return {"source_kind": source_kind, "source_id": source_id, "contest_id": contest, "voters": voters,
            "counts": counts, **extra}  # fmt: skip


def test_manual_sheets_only_from_entitled_sources_with_consistent_counts(
    election: Election, office: Office, kiosks: dict[str, SimKiosk], app
) -> None:
    m = office.manifest
    ma04 = [c.id for c in m.contests_by_id["shura-MA-04"].active_candidates]  # type: ignore[index]
    mu02 = [c.id for c in m.contests_by_id["shura-MU-02"].active_candidates]  # type: ignore[index]
    with https_office(app, election) as h:
        http = h.staff()
        admin = login(http, election.pki, "staff-admin-1")
        cm1, cm2 = login(http, election.pki, "staff-cm-1"), login(http, election.pki, "staff-cm-2")

        def enter(sheet: Any, who: dict[str, str] = cm1) -> Any:
            return http.post("/api/manual-sheets", json=sheet, headers=who)

        def refused(answer: Any, status: int, words: str) -> None:
            assert answer.status_code == status and words in answer.json()["detail"], answer.text

        # Khasab's centre switched to paper: it does not serve Musandam's MA-04 (the attack flipped both seats).
        assert http.post("/api/centres/PC-002/close", json={"manual": True}, headers=admin).status_code == 200
        refused(enter(_sheet("centre", "PC-002", "shura-MA-04", 40, {ma04[0]: 40, ma04[1]: 40})), 422,
                "does not serve wilayat MA-04")  # fmt: skip
        # Bukha's centre never switched to paper.
        refused(enter(_sheet("centre", "PC-003", "shura-MU-02", 5, {mu02[0]: 5})), 422, "not switched to the manual")
        refused(enter(_sheet("embassy", "EMB-NOWHERE", "shura-MU-02", 5, {mu02[0]: 5})), 422, "not an embassy")
        refused(enter(_sheet("committee", "PC-003", "shura-MA-04", 2, {ma04[0]: 2})), 422, "does not vote in")
        # Counts that do not add up: 3 votes from 2 non-blank ballots in a one-seat contest.
        assert http.post("/api/centres/PC-003/close", json={"manual": True}, headers=admin).status_code == 200
        refused(enter(_sheet("centre", "PC-003", "shura-MU-02", 3, {mu02[0]: 2, mu02[1]: 1}, blank=1)), 422,
                "exceed 2 non-blank ballot(s) x 1 seat(s)")  # fmt: skip

        # An entitled, consistent sheet; a second one for the same source and contest is a conflict.
        first = enter(_sheet("centre", "PC-003", "shura-MU-02", 6, {mu02[0]: 4, mu02[1]: 1}, blank=1))
        assert first.status_code == 200, first.text
        first_id = first.json()["sheet_id"]
        refused(enter(_sheet("centre", "PC-003", "shura-MU-02", 6, {mu02[0]: 5}, blank=1)), 409, "is pending")
        # The corrected sheet replaces it; the replaced one can no longer be approved.
        corrected = enter(_sheet("centre", "PC-003", "shura-MU-02", 6, {mu02[0]: 3, mu02[1]: 2}, blank=1,
                                 replaces=first_id))  # fmt: skip
        assert corrected.status_code == 200, corrected.text
        second_id = corrected.json()["sheet_id"]
        refused(http.post(f"/api/manual-sheets/{first_id}/approve", headers=cm2), 409, "not awaiting approval")
        # Withdrawn by the member who entered it (not by another), with a reason.
        why = {"reason": "the polling committee recounted: sheet 2 of 2 was missing"}
        refused(http.post(f"/api/manual-sheets/{second_id}/withdraw", json=why, headers=cm2), 409, "only the")
        withdraw = f"/api/manual-sheets/{second_id}/withdraw"
        assert http.post(withdraw, json={"reason": ""}, headers=cm1).status_code == 422
        assert http.post(withdraw, json=why, headers=cm1).status_code == 200
        # Rejected twice (the old schema's unique constraint made the second rejection an HTTP 500).
        ids = []
        for voters in (7, 8):
            entered = enter(_sheet("centre", "PC-003", "shura-MU-02", voters, {mu02[0]: voters}))
            assert entered.status_code == 200, entered.text
            ids.append(entered.json()["sheet_id"])
            refused(http.post(f"/api/manual-sheets/{ids[-1]}/reject", json=why, headers=cm1), 409, "another member")
            rejected = http.post(f"/api/manual-sheets/{ids[-1]}/reject", json=why, headers=cm2)
            assert rejected.status_code == 200, rejected.text
        # Then the right sheet is entered and approved; the source's contest is settled.
        final = enter(_sheet("centre", "PC-003", "shura-MU-02", 6, {mu02[0]: 3, mu02[1]: 2}, blank=1))
        final_id = final.json()["sheet_id"]
        assert http.post(f"/api/manual-sheets/{final_id}/approve", headers=cm2).status_code == 200
        refused(enter(_sheet("centre", "PC-003", "shura-MU-02", 6, {mu02[0]: 6})), 409, "approved already")
        # An embassy (voters abroad) and the unified centre's committee (Art. 9b) for its own wilayat.
        assert enter(_sheet("embassy", "EMB-LONDON", "shura-MA-04", 2, {ma04[0]: 2, ma04[1]: 1})).status_code == 200
        assert enter(_sheet("committee", "PC-001", "shura-MA-04", 3, {ma04[2]: 3})).status_code == 200

    with office.db.transaction() as s:
        sheets = {r.id: r for r in s.scalars(select(ManualSheet))}
        decided = {
            e.action: e.details for e in s.scalars(select(AuditEntry).where(AuditEntry.action.like("manual_sheet.%")))
        }
    assert sheets[first_id].status is SheetStatus.REPLACED and sheets[first_id].replaced_by == second_id
    assert sheets[second_id].status is SheetStatus.WITHDRAWN and sheets[second_id].reason == why["reason"]
    assert [sheets[i].status for i in ids] == [SheetStatus.REJECTED, SheetStatus.REJECTED]
    assert sheets[final_id].status is SheetStatus.APPROVED
    assert decided["manual_sheet.withdrawn"]["reason"] == why["reason"]
    assert decided["manual_sheet.rejected"]["reason"] == why["reason"]
