"""The handover survives a cut (issue #18): the REAL central office (``python -m central serve``, PostgreSQL, mutual
TLS) and the collector's handover through the real sync client, cut at each step with the office having applied
the request and its answer lost (the worst case: the collector cannot tell whether it landed), then run again. The
office's poll book and tally end exact: each counted remote voter checked in once, no remote ballot lost or
counted twice, no credential voided for the collector's own voted mark; a run after success sends nothing."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

import pytest

from central.pollbook import import_roll
from collector import handover
from collector.handover import Handover, describe, hand_over
from collector.record import STATEMENT
from collector.service import Collector
from devtools.pg import PostgresServer
from devtools.real_office import CentralOffice, RealElection, accepted_ids, central_view, expected_tally, tally_of
from election.ballot import EncryptedBallot
from sync.client import SyncClient, TlsIdentity, Unreachable
from sync.protocol import BallotDisposition, BatchBallot
from sync.protocol.fields import _Model
from sync.signing import Signer
from tests.collector.conftest import COLLECTOR_ID, RemoteElection, Served, VoterApp
from tests.collector.test_handover import office_election, vote_at_kiosk

pytestmark = pytest.mark.integration

M = TypeVar("M", bound=_Model)


class CuttingClient(SyncClient):
    """The real sync client, cut at the ``cut``-th request of a kind: the office applies it, its answer is lost."""

    def __init__(
        self, base_url: str, tls: TlsIdentity, cut: tuple[str, int] | None, on_cut: Callable[[], None]
    ) -> None:
        super().__init__(base_url, tls)
        self.cut, self.on_cut = cut, on_cut
        self.sent: list[str] = []

    def _post(self, name: str, body: bytes, response: type[M], token: str | None = None) -> M:
        answer = super()._post(name, body, response, token)
        self.sent.append(name)
        if self.cut == (name, self.sent.count(name)):
            self.on_cut()
            raise Unreachable(f"{name}: the line was cut")
        return answer


@dataclass
class Handing:
    """The office (roll imported, started), three remote voters who voted (voter 3 also at a kiosk), and the
    collector's handover, run with a cut client as often as a test likes."""

    central: CentralOffice
    real: RealElection
    collector: Collector
    remote: RemoteElection
    last: dict[str, EncryptedBallot]
    clients: list[CuttingClient] = field(default_factory=list)

    def run(self, cut: tuple[str, int] | None, on_cut: Callable[[], None] = lambda: None) -> Handover:
        pair = self.real.pki.kiosks[COLLECTOR_ID]
        tls = TlsIdentity(pair.cert_path, pair.key_path, self.real.pki.central_ca.cert_path)
        client = CuttingClient(f"https://127.0.0.1:{self.central.port}", tls, cut, on_cut)
        self.clients.append(client)
        try:
            return hand_over(
                self.collector.db,
                self.remote.manifest,
                self.remote.context.base_hash,
                COLLECTOR_ID,
                client,
                Signer.from_pem_file(pair.key_path),
                self.collector.now(),
            )
        finally:
            client.close()

    def sent(self) -> list[list[str]]:
        return [c.sent for c in self.clients]


@pytest.fixture
def handing(
    served: Served,
    collector: Collector,
    remote_election: RemoteElection,
    pg_server: PostgresServer,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[Handing]:
    monkeypatch.setattr(handover, "MAX_BATCH", 1)  # two remote ballots, two batches: a cut between them
    real = office_election(remote_election, tmp_path / "office-election")
    database = pg_server.create_database()  # the office's own, fresh for each test
    central = CentralOffice(real, database, tmp_path / "office")
    central.initialise([])
    office = central.in_process()
    try:
        with office.db.transaction() as s:
            import_roll(s, office.manifest, list(remote_election.roll.values()))
    finally:
        office.close()
    last: dict[str, EncryptedBallot] = {}
    for civil in ("10000001", "10000002", "10000003"):
        app = VoterApp(served.client(), remote_election, civil)
        assert app.register().status_code == 200
        ballot, _ = app.ballot()
        assert app.submit(app.submission(ballot)).status_code == 200
        last[civil] = ballot
    central.start()
    try:
        vote_at_kiosk(central.port, real, "10000003")  # voter 3 also votes at a kiosk
        yield Handing(central, real, collector, remote_election, last)
    finally:
        central.close()
        pg_server.drop_database(database)


def assert_exact(handing: Handing, done: Handover) -> None:
    """The office's poll book and tally, and the collector's remote/, as after one uninterrupted handover."""
    view = central_view(handing.central.db)
    last = handing.last
    for sent in handing.sent():  # on every run, every check-in before any ballot leaves
        after = sent[sent.index("batch") :] if "batch" in sent else []
        assert "checkin" not in after and "voted" not in after
    assert done.last_root == view.chain_heads[COLLECTOR_ID]
    # three voted (two remote, once each; one in person), the two remote ballots once each
    assert view.voted == 3
    assert accepted_ids(view, COLLECTOR_ID) == {last["10000001"].ballot_id, last["10000002"].ballot_id}
    assert view.accepted_per_kiosk[COLLECTOR_ID] == 2
    counted = [
        BatchBallot(
            ballot_id=c.ballot_id, ballot_style_id=c.style_id, disposition=BallotDisposition.CAST,
            confirmation_code="0" * 64, encrypted_ballot=c.ballot,
        )
        for c in done.part.counted
    ]  # fmt: skip
    assert tally_of(view) == expected_tally(handing.real, counted)
    # the collector: only the in-person voter's credential voided
    statuses = {s["ballot_id"]: s["status"] for s in done.part.files["remote/submissions.json"]["submissions"]}
    assert statuses == {
        last["10000001"].ballot_id: "counted",
        last["10000002"].ballot_id: "counted",
        last["10000003"].ballot_id: "voided",
    }
    assert done.part.files["remote/counts.json"]["voided"] == 1


def test_a_handover_cut_at_each_step_resumes_and_ends_exact(handing: Handing) -> None:
    for cut in (("voted", 1), ("batch", 1), ("chain_close", 1)):
        with pytest.raises(Unreachable):
            handing.run(cut)
    done = handing.run(None)
    again = handing.run(None)

    first, second, third, fourth, fifth = handing.sent()
    # cut after the first voted mark landed: the rerun resends that mark (the office: "already recorded"), it does
    # not check that voter in again (the office would answer "already voted" and the credential be voided)
    assert first[-1] == "voted" and "batch" not in first
    assert second[0] == "voted" and second.count("batch") == 1
    assert third == ["batch", "batch", "chain_close"]  # batch 1's answer was lost: resent, same bytes, a replay
    assert fourth == ["chain_close"] and fifth == []
    assert done.resumed and not done.already_complete and done.batches == 2
    assert again.already_complete and "already complete: nothing sent" in describe(again)
    assert again.last_root == done.last_root
    assert sum(h.already_voted for h in (done, again)) == 0  # the in-person voter was found by a run that was cut
    assert_exact(handing, again)
    assert {k: v for k, v in again.part.files.items() if k != STATEMENT} == {
        k: v for k, v in done.part.files.items() if k != STATEMENT
    }


def test_the_office_killed_between_batches_then_restarted_the_rerun_completes(handing: Handing) -> None:
    """A real crash: the office's process is SIGKILLed after it stored the first batch, before the collector reads
    its answer; it restarts from its database and the rerun sends the rest."""
    with pytest.raises(Unreachable):
        handing.run(("batch", 1), on_cut=handing.central.stop)
    handing.central.start()
    done = handing.run(None)
    first, second = handing.sent()
    assert first.count("checkin") == 3 and first.count("voted") == 2
    assert second == ["batch", "batch", "chain_close"]  # no check-in again: all were answered before the cut
    assert done.resumed and not done.already_complete and done.already_voted == 0
    assert_exact(handing, done)
