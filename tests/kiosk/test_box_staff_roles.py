"""Staff functions in a polling-station kiosk use the staff card the card layer authenticated: the role on
the card decides whether the ballot box lets that person open the polls (never a role assumed by the kiosk)."""

from __future__ import annotations

import json
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from kiosk.adapters.local import BoxStaff
from kiosk.ballot_box import BallotBox
from kiosk.polls import StaffCard, StaffRole
from kiosk.session import events as ev
from kiosk.session.model import StaffIdentity
from sync.signing import Signer

WORKER = StaffCard("staff-pw-1", StaffRole.POLL_WORKER, "a" * 64)
MEMBER = StaffCard("staff-cm-1", StaffRole.COMMITTEE_MEMBER, "b" * 64)


def _staff(tmp_path: Path) -> tuple[BoxStaff, BallotBox]:
    box = BallotBox.create(
        tmp_path / "box.sqlite3", Signer(Ed25519PrivateKey.generate()), kiosk_id="K-1", centre_id="PC-1",
        chain_genesis="00" * 32,
    )  # fmt: skip
    cards = {c.staff_id: c for c in (WORKER, MEMBER)}
    return BoxStaff(box, lambda _sid: "", card_of=cards.get), box


def test_a_poll_worker_card_cannot_open_the_polls_a_committee_member_card_can(tmp_path: Path) -> None:
    staff, box = _staff(tmp_path)
    refused = staff.run(ev.StaffAction.OPEN_POLLS, StaffIdentity(WORKER.staff_id, "Poll Worker"))
    assert not refused.ok and "role_not_authorised" in refused.lines[0]
    assert box.polls_state.value == "setup"
    opened = staff.run(ev.StaffAction.OPEN_POLLS, StaffIdentity(MEMBER.staff_id, "Committee Member"))
    assert opened.ok
    assert box.polls_state.value == "open"
    box.close()


def test_a_staff_card_not_authenticated_on_this_kiosk_is_refused(tmp_path: Path) -> None:
    staff, box = _staff(tmp_path)
    done = staff.run(ev.StaffAction.OPEN_POLLS, StaffIdentity("someone-else", "?"))
    assert not done.ok and "not authenticated" in done.lines[0]
    assert box.polls_state.value == "setup"
    box.close()


def test_the_switch_to_paper_pauses_the_ballot_box_so_nothing_more_is_cast_and_the_office_is_told(
    tmp_path: Path,
) -> None:
    staff, box = _staff(tmp_path)
    member = StaffIdentity(MEMBER.staff_id, "Committee Member")
    refused = staff.run(ev.StaffAction.MANUAL_FALLBACK, member)  # polls not open yet: nothing to switch from
    assert not refused.ok and box.polls_state.value == "setup"
    assert staff.run(ev.StaffAction.OPEN_POLLS, member).ok
    switched = staff.run(ev.StaffAction.MANUAL_FALLBACK, StaffIdentity(WORKER.staff_id, "Poll Worker"))
    assert switched.ok and "office told" in switched.lines[0]
    assert box.polls_state.value == "paused"  # the heartbeat's polls_state, shown on the office's dashboard
    logged = [(e.kind, json.loads(e.payload)) for e in box.audit_entries_after(0, 100)]
    assert any(kind == "polls_pause" and p["staff"]["staff_id"] == WORKER.staff_id for kind, p in logged)
    box.close()


ADMIN = StaffCard("staff-ad-1", StaffRole.ADMINISTRATOR, "c" * 64)


def test_reopening_closed_polls_needs_an_administrator_card_and_is_in_the_signed_audit_log(tmp_path: Path) -> None:
    box = BallotBox.create(
        tmp_path / "box.sqlite3", Signer(Ed25519PrivateKey.generate()), kiosk_id="K-1", centre_id="PC-1",
        chain_genesis="00" * 32,
    )  # fmt: skip
    staff = BoxStaff(box, lambda _sid: "", card_of={c.staff_id: c for c in (WORKER, MEMBER, ADMIN)}.get)
    member, admin = StaffIdentity(MEMBER.staff_id, "Committee Member"), StaffIdentity(ADMIN.staff_id, "Admin")
    assert staff.run(ev.StaffAction.OPEN_POLLS, member).ok
    assert staff.run(ev.StaffAction.CLOSE_POLLS, member).ok and box.polls_state.value == "closed"
    for who in (StaffIdentity(WORKER.staff_id, "Poll Worker"), member):
        refused = staff.run(ev.StaffAction.REOPEN_POLLS, who)
        assert not refused.ok and "role_not_authorised" in refused.lines[0]
        assert box.polls_state.value == "closed"
    reopened = staff.run(ev.StaffAction.REOPEN_POLLS, admin)
    assert reopened.ok and box.polls_state.value == "open"
    entries = box.audit_entries_after(0, 1000)
    reopen = [json.loads(e.payload) for e in entries if e.kind == "polls_reopen"]
    assert len(reopen) == 1 and reopen[0]["staff"]["staff_id"] == ADMIN.staff_id and reopen[0]["from"] == "closed"
    # the next close is a second signed chain close (close_seq 2), for the whole chain
    assert staff.run(ev.StaffAction.CLOSE_POLLS, member).ok
    close = box.chain_close()
    assert close is not None and close.close_seq == 2
    box.close()


def test_the_staff_screens_status_counts_the_ballot_box(tmp_path: Path) -> None:
    """What the staff screen shows for a station kiosk: check-ins and ballots from the ballot box, the outbox, the
    office's reachability as the sync worker sees it, the time zone-aware."""
    from kiosk.bootstrap import box_status

    staff, box = _staff(tmp_path)
    assert staff.run(ev.StaffAction.OPEN_POLLS, StaffIdentity(MEMBER.staff_id, "Committee Member")).ok
    box.record_checkin("t" * 32, "BS-1")
    box.record_checkin("u" * 32, "BS-1")
    status = box_status(box, "K-1", lambda: False)
    assert (status.kiosk_id, status.check_ins, status.ballots_cast) == ("K-1", 2, 0)
    assert status.office_reachable is False and status.outbox is not None and status.at.tzinfo is not None
    standalone = box_status(box, "K-1")
    assert standalone.outbox is None and standalone.office_reachable is None
    box.close()
