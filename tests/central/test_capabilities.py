"""The office's services work with only the part of the office their signature names (``central.capabilities``),
not the whole ``Office``: each is called here with a small value holding just those members, so a service that
reached for anything else (the configuration, the staff CA, a CRL) would fail here as it fails mypy."""

from __future__ import annotations

import html
from dataclasses import dataclass

import pytest

from central import adjudication, closing, manual
from central.capabilities import Clock
from central.dashboard.sections import read_board, render_sections
from central.db import Database
from central.errors import ResultsError
from central.office import Office
from election.manifest import Manifest

pytestmark = pytest.mark.integration


@dataclass(frozen=True)
class JustRecords:
    db: Database
    clock: Clock


@dataclass(frozen=True)
class JustSheets(JustRecords):
    manifest: Manifest
    embassies: tuple[str, ...]


@dataclass(frozen=True)
class JustObserved(JustRecords):
    manifest: Manifest
    turnout_bucket_minutes: int


def test_the_committee_queue_and_the_counting_gate_need_only_the_database_and_clock(office: Office) -> None:
    view = JustRecords(office.db, office.clock)
    assert not adjudication.outstanding(view)
    assert adjudication.queue(view) == [] and adjudication.refused(view) == []
    with pytest.raises(ResultsError, match="polls are not closed"):
        closing.ready_for_counting(view)


def test_a_manual_sheet_is_checked_with_the_manifest_and_the_embassies_only(office: Office) -> None:
    view = JustSheets(office.db, office.clock, office.manifest, ("EMB-PARIS",))
    contest = office.manifest.contests[0]
    sheet = manual.SheetIn(manual.SourceKind.EMBASSY, "EMB-LONDON", contest.id, 1, 0, {})
    assert manual.check_sheet(view, sheet) == contest
    with office.db.transaction() as s:
        why = manual.entitlement(view, s, manual.SourceKind.EMBASSY, "EMB-LONDON", contest)
    assert why is not None and "not an embassy this office accepts" in why  # the view's list, not the config's


def test_the_dashboard_renders_from_records_manifest_and_bucket_width(office: Office) -> None:
    view = JustObserved(office.db, office.clock, office.manifest, office.turnout_bucket_minutes)
    sections = render_sections(view, read_board(view), "ar")
    assert all(html.escape(c.name.ar) in sections["centre-states"] for c in office.manifest.centres)
