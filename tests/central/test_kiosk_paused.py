"""A kiosk switched to the manual method (Art. 8) reports its ballot box paused in its heartbeat; the office's
dashboard says so in both languages, so the central office knows to expect that centre's paper result sheet."""

from __future__ import annotations

import pytest

from central.office import Office
from devtools.kiosksim import SimKiosk, client_for

pytestmark = pytest.mark.integration


def _heartbeat(kiosk: SimKiosk, clock, polls_state: str) -> None:
    answer = kiosk.post(
        "/v1/heartbeat",
        {
            "kiosk_id": kiosk.kiosk_id,
            "centre_id": kiosk.centre_id,
            "polls_state": polls_state,
            "kiosk_clock": clock.now.isoformat(),
            "software_version": "0.1",
            "package_hash": "0" * 64,
            "audit_count": 3,
            "backlog": {"unbatched_ballots": 0, "outbox_items": 0, "pending_voted_marks": 0, "pending_releases": 0},
        },
    )
    assert answer.status_code == 200, answer.text


def test_a_kiosk_on_paper_shows_as_paused_for_the_manual_method(office: Office, kiosks, app, clock) -> None:
    on_paper, open_one = sorted(kiosks)[:2]
    _heartbeat(kiosks[on_paper], clock, "paused")
    _heartbeat(kiosks[open_one], clock, "open")
    http = client_for(app, None)
    states = {k["kiosk_id"]: k["polls_state"] for k in http.get("/api/public/kiosks").json()}
    assert states[on_paper] == "paused" and states[open_one] == "open"
    english = http.get("/en").text
    assert "paused: voting on paper (Art. 8)" in english
    assert english.count("paused: voting on paper") == 1
    assert "متوقف: التصويت اليدوي (المادة 8)" in http.get("/ar").text
