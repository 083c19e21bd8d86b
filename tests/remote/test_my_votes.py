"""The voter app's "my votes": the virtual card in a real pcscd signs the collector's fresh my-votes challenge, the
real collector (TLS pinned by the package) answers what it holds under the card's identity, and the screen's table
says it in Arabic and English with every number, time and code bidi-isolated."""

from __future__ import annotations

from pathlib import Path

import pytest

from devtools.virtual_card.harness import PcscHarness
from election.manifest import Language
from kiosk.session import events as ev
from kiosk.ui_text import LRI, PDI, plain
from remote.my_votes_app import answer_text, ask, catalogue
from remote.protocol import MyVotes
from tests.collector.conftest import Served
from tests.remote.test_voter_app import close_clients, insert, make_app, vote  # noqa: F401

pytestmark = pytest.mark.integration
CAT = catalogue()


def test_a_voter_sees_no_ballot_then_the_one_they_cast_then_a_wrong_pin_is_refused(
    served: Served, pcsc: PcscHarness, tmp_path: Path, clock: object
) -> None:
    app = make_app(served, pcsc, tmp_path / "device", served.base)
    insert(pcsc, served, "10000001")
    before = ask(app.ports.card, "1234")
    assert isinstance(before, MyVotes) and before.submissions == 0 and before.last_received_at is None
    note, rows = answer_text(before, CAT, Language.ENGLISH)
    assert note == "" and rows[-1] == ("Status", "No remote ballot is recorded under your identity")

    vote(app)
    app.send(ev.Cast())
    app.send(ev.CardRemoved())
    insert(pcsc, served, "10000001")
    after = ask(app.ports.card, "1234")
    assert isinstance(after, MyVotes) and after.submissions == 1 and not after.voided
    assert after.credential == app.ports.ballots.credential().public_hex
    for language in Language:
        note, rows = answer_text(after, CAT, language)
        assert "10000001" not in str(rows)  # the table shows no civil number
        count, last, credential, status = (value for _, value in rows)
        assert count == f"{LRI}1{PDI}" and last.startswith(LRI) and credential.startswith(LRI)
        assert status == CAT.text("remote.my_votes.status_counts", language) and note
    assert any("\u0600" <= ch <= "\u06ff" for ch in answer_text(after, CAT, Language.ARABIC)[1][0][0])

    wrong = ask(app.ports.card, "9999")
    assert isinstance(wrong, ev.PinRejected)
    assert plain(answer_text(wrong, CAT, Language.ENGLISH)[0]) == f"Wrong PIN. Tries left: {wrong.tries_left}"


def test_without_a_card_the_voter_is_told_so(served: Served, pcsc: PcscHarness, tmp_path: Path) -> None:
    app = make_app(served, pcsc, tmp_path / "device", served.base)
    answer = ask(app.ports.card, "1234")
    assert isinstance(answer, ev.Failed)
    assert answer_text(answer, CAT, Language.ENGLISH)[1] == []
