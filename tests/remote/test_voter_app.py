"""The voter app end to end: the kiosk's session machine and driver over the remote ports, the virtual card in a
real pcscd (vpcd), the real collector over TLS pinned by the package; a lost answer after submitting; the
second-device check on the ballot the app submitted, its fetch limit and its window."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from devtools.fakes import ManualScheduler
from devtools.loop import InlineLoop
from devtools.virtual_card.card import VirtualCard
from devtools.virtual_card.harness import PcscHarness
from election.manifest import CandidateId, Language
from election.package import ElectionPackage
from election.roll import CivilNumber
from kiosk.card.profile import load_all_profiles, load_named_profile
from kiosk.driver import Ports, SessionDriver
from kiosk.ports import SilentSpeaker
from kiosk.session import SessionConfig, VoterSession, initial_state
from kiosk.session import events as ev
from kiosk.session.model import KioskMode, Phase
from remote import client as c
from remote.ballots import resend_pending
from remote.check import CannotCheck
from remote.compose import VoterPorts, voter_ports
from remote.payload import parse_payload
from remote.verify import check
from tests.collector.conftest import NOT_ON_ROLL, Served
from tests.remote.helpers import voter_package
from tests.remote.proxy import LossyProxy

pytestmark = pytest.mark.integration
PASSPHRASE = "correct horse battery"


@dataclass
class App:
    ports: VoterPorts
    driver: SessionDriver
    loop: InlineLoop
    package: ElectionPackage

    @property
    def phase(self) -> Phase:
        return self.driver.state.phase

    def send(self, *events: ev.Event) -> App:
        for event in events:
            self.driver.dispatch(event)
            self.loop.run_until_idle()
        return self


@pytest.fixture
def proxy(served: Served) -> Iterator[LossyProxy]:
    p = LossyProxy(int(served.base.rsplit(":", 1)[1]))
    yield p
    p.close()


_OPEN: list[c.CollectorClient] = []


@pytest.fixture(autouse=True)
def close_clients(served: Served) -> Iterator[None]:
    yield
    while _OPEN:
        _OPEN.pop().close()


def make_app(served: Served, pcsc: PcscHarness, data_dir: Path, url: str) -> App:
    package = voter_package(served.election)
    profiles = load_all_profiles()
    ports = voter_ports(
        package,
        collector_url=url,
        reader=pcsc.reader_name(),
        profile=load_named_profile("oman_ias"),
        profiles=tuple(profiles),
        data_dir=data_dir,
        passphrase=lambda: PASSPHRASE,
    )
    _OPEN.append(ports.collector)
    loop = InlineLoop()
    driver = SessionDriver(
        machine=VoterSession(SessionConfig(package.manifest)),
        state=initial_state(KioskMode(polls_open=True)),
        ports=Ports(ports.card, ports.poll_book, ports.ballots, ports.staff, ports.audit, SilentSpeaker(),
                    ManualScheduler()),
        marshal=loop.call_soon,
        run_blocking=loop.call_soon,
    )  # fmt: skip
    return App(ports, driver, loop, package)


def insert(pcsc: PcscHarness, served: Served, civil: str) -> None:
    pcsc.insert(VirtualCard.from_files(served.election.pki.voters[civil], load_named_profile("oman_ias")))


def vote(app: App, choose: int = 1) -> tuple[list[CandidateId], str]:
    """Card in, PIN, the voter's own ballot, the first ``choose`` candidates of the contest, review, seal."""
    app.send(ev.CardInserted())
    assert app.phase is Phase.PIN_ENTRY, app.driver.state
    app.send(*(ev.PinDigit(d) for d in "1234"), ev.PinSubmit())
    assert app.phase is Phase.ACCESSIBILITY, (app.phase, app.driver.state.notice)
    app.send(ev.ChooseLanguage(Language.ENGLISH), ev.Continue())
    assert app.phase is Phase.BALLOT
    ticket = app.driver.state.ticket
    assert ticket is not None
    contest = app.package.manifest.contests_of_style(ticket.style)[0]
    chosen = [k.id for k in contest.active_candidates[:choose]]
    app.send(*(ev.ToggleCandidate(k) for k in chosen), ev.GoToReview())
    assert app.phase is Phase.REVIEW
    app.send(ev.SealBallot())
    assert app.phase is Phase.CAST_OR_CHALLENGE
    return chosen, str(ticket.style)


def test_a_voter_votes_from_home_and_checks_the_vote_on_a_second_device(
    served: Served, pcsc: PcscHarness, tmp_path: Path, clock: object
) -> None:
    app = make_app(served, pcsc, tmp_path / "device", served.base)
    insert(pcsc, served, "10000001")
    chosen, style = vote(app)
    roll = served.election.roll[CivilNumber("10000001")]
    assert style == str(served.election.manifest.style_for_wilayat(roll.wilayat).id)  # the voter's own wilayat
    app.send(ev.Cast())
    assert app.phase is Phase.CONFIRMATION, app.driver.state.notice
    receipt = app.driver.state.receipt
    assert receipt is not None
    outcome = app.ports.ballots.last_outcome
    assert isinstance(outcome, c.Arrived) and not outcome.receipt.duplicate
    assert receipt.code.replace(" ", "").lower() == outcome.receipt.ballot_hash[:16]
    assert app.ports.outbox.held() is None
    # the credential key is on the device, encrypted (PKCS#8 with the passphrase), not readable without it
    key_file = next((tmp_path / "device").glob("credential-*.pem"))
    assert b"ENCRYPTED PRIVATE KEY" in key_file.read_bytes()

    # second device: the QR's payload, the ballot fetched from the collector and opened with the seed
    payload = parse_payload(receipt.qr_payload)
    assert payload.source == served.base and payload.ballot_id == outcome.receipt.ballot_id
    names = {k.id: k.name.en for k in served.election.manifest.contests_of_style(style)[0].candidates}  # type: ignore[arg-type]
    for left in (2, 1, 0):
        result = check(app.package, payload, record=None)
        assert f"  1: {names[chosen[0]]}" in result.lines and result.fetches_left == left
    with pytest.raises(CannotCheck, match="at most 3 times"):
        check(app.package, payload, record=None)


def test_the_check_window_closes_30_minutes_after_the_submission(
    served: Served, pcsc: PcscHarness, tmp_path: Path, clock: object
) -> None:
    app = make_app(served, pcsc, tmp_path / "device", served.base)
    insert(pcsc, served, "10000002")
    vote(app)
    app.send(ev.Cast())
    assert app.phase is Phase.CONFIRMATION
    receipt = app.driver.state.receipt
    assert receipt is not None
    clock.advance(minutes=31)  # type: ignore[attr-defined]
    with pytest.raises(CannotCheck, match="within 30 minutes"):
        check(app.package, parse_payload(receipt.qr_payload), record=None)


def test_a_lost_answer_after_submitting_is_resolved_the_voter_is_told_it_arrived(
    served: Served, pcsc: PcscHarness, tmp_path: Path, proxy: LossyProxy
) -> None:
    app = make_app(served, pcsc, tmp_path / "device", proxy.url)
    app.ports.ballots.submit = lambda cl, s: c.submit_until_known(cl, s, sleep=lambda _s: None)
    insert(pcsc, served, "10000003")
    vote(app, choose=1)
    proxy.lose_answers = True
    original = app.ports.collector.submit
    tries: list[str] = []

    def submit_once_lost(submission: c.Submission) -> object:
        tries.append(submission.submission_id)
        if len(tries) > 1:
            proxy.lose_answers = False  # the network is back for the resend
        return original(submission)

    app.ports.collector.submit = submit_once_lost  # type: ignore[method-assign,assignment]
    app.send(ev.Cast())
    assert proxy.lost == 1 and len(tries) == 2 and len(set(tries)) == 1  # the same submission sent again
    assert app.phase is Phase.CONFIRMATION
    outcome = app.ports.ballots.last_outcome
    assert isinstance(outcome, c.Arrived) and outcome.receipt.duplicate  # the collector had it: its first receipt


def test_with_the_network_gone_the_submission_is_kept_and_resent_until_known(
    served: Served, pcsc: PcscHarness, tmp_path: Path, proxy: LossyProxy
) -> None:
    app = make_app(served, pcsc, tmp_path / "device", proxy.url)
    app.ports.ballots.submit = lambda cl, s: c.submit_until_known(cl, s, attempts=2, sleep=lambda _s: None)
    insert(pcsc, served, "10000001")
    vote(app)
    proxy.lose_answers = True
    app.send(ev.Cast())
    assert isinstance(app.ports.ballots.last_outcome, c.NotYetKnown)
    assert app.phase is Phase.NOTICE  # not a confirmation, and not "no vote recorded" either
    assert app.driver.state.failure is ev.Failure.POLL_BOOK_UNAVAILABLE
    held = app.ports.outbox.held()
    assert held is not None
    proxy.lose_answers = False
    outcome = resend_pending(app.ports.outbox, app.ports.collector)
    assert (
        isinstance(outcome, c.Arrived)
        and outcome.receipt.duplicate
        and outcome.receipt.submission_id == held.submission_id
    )
    assert app.ports.outbox.held() is None


def test_a_voter_not_on_the_roll_is_told_so_and_nothing_is_registered(
    served: Served, pcsc: PcscHarness, tmp_path: Path
) -> None:
    app = make_app(served, pcsc, tmp_path / "device", served.base)
    insert(pcsc, served, NOT_ON_ROLL)
    app.send(ev.CardInserted(), *(ev.PinDigit(d) for d in "1234"), ev.PinSubmit())
    assert app.phase is Phase.NOTICE
    assert app.ports.card.refusal is not None and app.ports.card.refusal.error == "not_on_roll"
    assert app.driver.state.failure is ev.Failure.NOT_ON_ROLL


def test_a_collector_without_the_pinned_certificate_is_not_talked_to(
    served: Served, pcsc: PcscHarness, tmp_path: Path
) -> None:
    from tests.remote.helpers import tls_material

    package = voter_package(served.election)
    other = tls_material("impostor").cert
    client = c.CollectorClient(
        served.base, other, collector_id="REMOTE-01", election_id=str(package.manifest.election_id)
    )
    _OPEN.append(client)
    with pytest.raises(c.Unreachable):
        client.challenge()


def test_a_challenged_ballot_is_saved_not_sent_and_opened_on_another_device(
    served: Served, pcsc: PcscHarness, tmp_path: Path
) -> None:
    import json

    from remote.check import CheckFailed, open_challenged_file

    app = make_app(served, pcsc, tmp_path / "device", served.base)
    insert(pcsc, served, "10000002")
    chosen, style = vote(app)
    sealed = app.driver.state.sealed
    assert sealed is not None
    code_before = sealed.code  # what the app committed to before the voter chose to challenge
    app.send(ev.Challenge())
    assert app.phase is Phase.CHALLENGE_RESULT
    saved = list((tmp_path / "device").glob("challenged-*.json"))
    assert len(saved) == 1
    assert app.ports.outbox.held() is None  # nothing was sent for it

    # the second device's check of the file (the CLI around it: test_verify_cli.py)
    opened = open_challenged_file(served.election.context, served.election.manifest, saved[0])
    assert opened.code == code_before
    assert opened.choices.chosen(served.election.manifest.contests_of_style(style)[0].id) == frozenset(chosen)  # type: ignore[arg-type]
    # a file whose seed was changed does not open
    data = json.loads(saved[0].read_text())
    data["seed"] = "00" * 32
    saved[0].write_text(json.dumps(data))
    with pytest.raises(CheckFailed):
        open_challenged_file(served.election.context, served.election.manifest, saved[0])
