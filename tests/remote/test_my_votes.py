"""The voter app's "my votes": the virtual card in a real pcscd signs the collector's fresh my-votes challenge, the
real collector (TLS pinned by the package) answers every ballot it holds under the card's identity, and the table
says it in Arabic and English, one row per ballot, with every number, time and code bidi-isolated; the app's parser
refuses an answer outside the protocol's rules."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from devtools.virtual_card.harness import PcscHarness
from election.manifest import Language
from election.remote_statement import MY_VOTES_LISTED, SubmissionStatus
from kiosk.session import events as ev
from kiosk.ui_text import FSI, LRI, PDI, plain
from remote import my_votes
from remote.my_votes_app import answer_text, ask, catalogue
from remote.protocol import BadAnswer, MyVotes, RecordedBallot, parse_my_votes
from tests.collector.conftest import Served
from tests.remote.test_voter_app import App, insert, make_app, vote

CAT = catalogue()
ARABIC = range(0x0600, 0x0700)
ISOLATED = re.compile(f"[{LRI}{FSI}][^{PDI}]*{PDI}")


@pytest.fixture
def device(served: Served, pcsc: PcscHarness, tmp_path: Path) -> Iterator[App]:
    """The voter app's session and ports on this test's device, its collector client closed after."""
    app = make_app(served, pcsc, tmp_path / "device", served.base)
    yield app
    app.ports.collector.close()


def _cast(app: App, pcsc: PcscHarness, served: Served) -> str:
    """One ballot cast through the app; its confirmation code."""
    insert(pcsc, served, "10000001")
    vote(app)
    app.send(ev.Cast())
    receipt = app.driver.state.receipt
    assert receipt is not None
    app.send(ev.CardRemoved())
    return receipt.code


@pytest.mark.integration
def test_a_voter_sees_each_ballot_with_the_code_the_receipt_showed_then_the_void(
    served: Served, pcsc: PcscHarness, device: App, clock: Any
) -> None:
    app = device
    insert(pcsc, served, "10000001")
    before = ask(app.ports.card, "1234")
    assert isinstance(before, MyVotes) and before.submissions == 0 and before.ballots == ()
    note, table = answer_text(before, CAT, Language.ENGLISH)
    assert note == "" and table is not None and table.ballots == ()
    assert table.summary[-1] == ("Status", "No remote ballot is recorded under your identity")

    codes = [_cast(app, pcsc, served)]
    clock.advance(minutes=5)
    codes.append(_cast(app, pcsc, served))  # a re-vote: the second replaces the first
    insert(pcsc, served, "10000001")
    after = ask(app.ports.card, "1234")
    assert isinstance(after, MyVotes) and after.submissions == 2 and not after.voided
    assert after.credential == app.ports.ballots.credential().public_hex
    assert [b.status for b in after.ballots] == [SubmissionStatus.COUNTS, SubmissionStatus.SUPERSEDED]
    for language in Language:
        note, table = answer_text(after, CAT, language)
        assert table is not None and note
        assert "10000001" not in str(table)  # the table shows no civil number
        newest, oldest = table.ballots
        # the newest first, with the code its confirmation screen showed; each cell isolated
        assert [plain(newest[2]), plain(oldest[2])] == codes[::-1]
        assert newest[1] == f"{LRI}2{PDI}" and oldest[1] == f"{LRI}1{PDI}"
        assert all(cell.startswith(LRI) and cell.endswith(PDI) for cell in newest[:3])
        assert newest[3] == CAT.text("remote.my_votes.ballot_counts", language)
        assert oldest[3] == CAT.text("remote.my_votes.ballot_superseded", language)
        assert dict(table.summary)[CAT.text("remote.my_votes.status", language)] == CAT.text(
            "remote.my_votes.status_counts", language
        )
    arabic = answer_text(after, CAT, Language.ARABIC)[1]
    assert arabic is not None and all(any(ord(ch) in ARABIC for ch in column) for column in arabic.columns)

    # the voter votes at a polling centre: every ballot of the credential is voided
    assert served.office().post("/internal/v1/void", json={"civil_number": "10000001"}).status_code == 200
    insert(pcsc, served, "10000001")
    voided = ask(app.ports.card, "1234")
    assert isinstance(voided, MyVotes) and voided.voided
    _, table = answer_text(voided, CAT, Language.ARABIC)
    assert table is not None
    assert [row[3] for row in table.ballots] == [CAT.text("remote.my_votes.ballot_voided", Language.ARABIC)] * 2

    insert(pcsc, served, "10000001")
    wrong = ask(app.ports.card, "9999")
    assert isinstance(wrong, ev.PinRejected)
    assert plain(answer_text(wrong, CAT, Language.ENGLISH)[0]) == f"Wrong PIN. Tries left: {wrong.tries_left}"


@pytest.mark.integration
def test_without_a_card_the_voter_is_told_so(device: App) -> None:
    answer = ask(device.ports.card, "1234")
    assert isinstance(answer, ev.Failed)
    assert answer_text(answer, CAT, Language.ENGLISH)[1] is None


# ---- the table's rows and the parser, without a collector ----------------------------------------------------

T = dt.datetime(2026, 12, 3, 5, 4, 3, tzinfo=dt.UTC)  # 09:04:03 in Muscat


def recorded(n: int, status: SubmissionStatus, minutes: int = 0) -> RecordedBallot:
    return RecordedBallot(T - dt.timedelta(minutes=minutes), n, f"ballot-{n}-{minutes}", f"{n:02x}ab" * 16, status)


def answer(*ballots: RecordedBallot, total: int | None = None, voided: bool = False) -> MyVotes:
    return MyVotes("ab" * 32, voided, len(ballots) if total is None else total, T if ballots else None, ballots)


def test_the_rows_one_per_ballot_in_arabic_and_english_isolated() -> None:
    a = answer(
        recorded(2, SubmissionStatus.COUNTS),
        recorded(1, SubmissionStatus.SUPERSEDED, 3),
        recorded(1, SubmissionStatus.REPLACED, 60),
    )
    english = my_votes.table(a, CAT, Language.ENGLISH)
    assert english.columns == ("Received (Oman time)", "No.", "Ballot code", "Status")
    assert english.ballots[0] == (
        f"{LRI}2026-12-03 09:04:03{PDI}", f"{LRI}2{PDI}", f"{LRI}02AB 02AB 02AB 02AB{PDI}", "Counts: your last ballot"
    )  # fmt: skip
    assert [row[3] for row in english.ballots[1:]] == [
        "Replaced by a later ballot", "Voided: sent with a credential since replaced"
    ]  # fmt: skip
    assert english.summary == (
        ("Ballots recorded under your identity", f"{LRI}3{PDI}"),
        ("Voting credential", f"{LRI}ABAB-ABAB-ABAB-ABAB{PDI}"),
        ("Status", "Only the last ballot counts"),
    )
    assert english.cut == ""
    arabic = my_votes.table(a, CAT, Language.ARABIC)
    assert arabic.ballots[0][:3] == english.ballots[0][:3]  # the same isolated tokens in either language
    assert arabic.ballots[0][3] == "تُحتسب: آخر ورقة أرسلتها"
    assert arabic.ballots[2][3] == "أُلغيت: أُرسلت ببيانات اعتماد استُبدلت"
    assert arabic.columns[0] == "وقت الاستلام (بتوقيت عُمان)"
    # every Latin letter or digit of an Arabic cell is inside an isolate
    for row in (*arabic.ballots, *arabic.summary, arabic.columns):
        for cell in row:
            assert not any(ch.isascii() and ch.isalnum() for ch in ISOLATED.sub("", cell)), cell


def test_a_cut_list_says_so_and_a_list_with_none_counting_says_so() -> None:
    cut = answer(*(recorded(1, SubmissionStatus.REPLACED, m) for m in range(MY_VOTES_LISTED)), total=52)
    for language in Language:
        sentence = my_votes.table(cut, CAT, language).cut
        assert f"{FSI}{MY_VOTES_LISTED}{PDI}" in sentence and f"{FSI}52{PDI}" in sentence
        assert not any(ch.isascii() and ch.isdigit() for ch in ISOLATED.sub("", sentence))
    english = my_votes.table(cut, CAT, Language.ENGLISH)
    assert plain(english.cut) == "The table lists only the 40 most recent of 52 ballots."
    assert english.summary[-1][1].startswith("None of them counts")
    voided = answer(recorded(1, SubmissionStatus.VOIDED), voided=True)
    assert my_votes.table(voided, CAT, Language.ARABIC).summary[-1][1] == "أُلغيت: حلّ محلّها تصويتك في مركز اقتراع"


def wire(*ballots: dict[str, Any], total: int | None = None, voided: bool = False) -> dict[str, Any]:
    last = ballots[0]["received_at"] if ballots else None
    count = len(ballots) if total is None else total
    return {"credential": "ab" * 32 if ballots else None, "voided": voided, "submissions": count,
            "last_received_at": last, "ballots": list(ballots)}  # fmt: skip


def entry(n: int, status: str = "superseded", minutes: int = 0, ballot_id: str | None = None) -> dict[str, Any]:
    at = (T - dt.timedelta(minutes=minutes)).isoformat()
    return {"received_at": at, "sequence": n, "ballot_id": ballot_id or f"b{n}-{minutes}", "ballot_hash": "cd" * 32,
            "status": status}  # fmt: skip


def test_the_parser_reads_a_good_answer() -> None:
    parsed = parse_my_votes(wire(entry(2, "counts"), entry(1, minutes=5)))
    assert [(b.sequence, b.status) for b in parsed.ballots] == [
        (2, SubmissionStatus.COUNTS),
        (1, SubmissionStatus.SUPERSEDED),
    ]
    assert parsed.last_received_at == T and parsed.submissions == 2
    assert parse_my_votes(wire()) == MyVotes(None, False, 0, None, ())
    many = [entry(1, "replaced", m) for m in range(MY_VOTES_LISTED)]
    assert len(parse_my_votes(wire(*many, total=70)).ballots) == MY_VOTES_LISTED


@pytest.mark.parametrize(
    "bad",
    [
        wire(entry(2, "counts"), entry(1, minutes=5)) | {"ballots": [entry(2, "counts")]},  # one missing
        wire(entry(1, minutes=5), entry(2, "counts")),  # not newest first
        wire(entry(2, "counts"), entry(1, "counts", 5)),  # two count
        wire(entry(1, "counts"), voided=True),  # counts under a voided credential
        wire(entry(1, "lost")),  # unknown status
        wire(entry(1), entry(1, minutes=5, ballot_id="b1-0")),  # the same ballot twice
        wire(entry(0)),  # sequence out of range
        wire(entry(1) | {"ballot_hash": "CD" * 32}),  # upper-case hex
        wire(entry(1) | {"extra": 1}),  # an unknown key
        wire(entry(1)) | {"last_received_at": (T - dt.timedelta(hours=1)).isoformat()},  # last is not the newest
        wire(*(entry(1, "replaced", m) for m in range(MY_VOTES_LISTED + 1))),  # more than the cap
        wire(entry(1)) | {"ballots": "b1"},  # not a list
        {k: v for k, v in wire(entry(1)).items() if k != "ballots"},  # the old answer, without the list
    ],
)
def test_the_parser_refuses_an_answer_outside_the_rules(bad: dict[str, Any]) -> None:
    with pytest.raises(BadAnswer):
        parse_my_votes(bad)
