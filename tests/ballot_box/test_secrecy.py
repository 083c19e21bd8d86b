"""Ballot secrecy at the kiosk: with real encrypted ballots (the election core), 50 voters in a known order
vote; neither the kiosk database, nor the sync traffic, nor the office's poll book offers a join or an
ordering that links a ballot to a voter.

Ordering is measured with Spearman's rank correlation between the voters' order and the ballots' order in
(a) the kiosk's ballot table as stored and exported, (b) the transmitted batches (position within each
batch: batches themselves leave in time order by nature), (c) the order voted marks reached the office.
A linked order gives |rho| = 1; for 50 independent ranks the standard deviation of rho is 1/7, so the bound
0.6 (over 4 standard deviations) fails by chance about once in 30,000 runs.

It also checks (d) what is public by design: the confirmation codes chain no ballot to another (each binds only the
ballot, the kiosk and the election), and the batch chain's links, published sorted by code, and the kiosk's audit
log, which names ballots only in its ``batch_sealed`` entries, sorted by id, order a batch's ballots no better than
chance (docs/sync-protocol.md, "What an office that records its traffic can still link").
"""

from __future__ import annotations

import datetime as dt
import json
import secrets
import sqlite3
import time
from pathlib import Path

import pytest

from devtools.sample_election import run_key_ceremony
from devtools.sample_record import SeededRandom, build_test_manifest
from devtools.test_pki.model import TestPki
from devtools.tls_server import TlsServer
from election.ballot import EncryptedBallot, PlaintextBallot, encrypt_ballot, verify_ballot
from election.confirmation import confirmation_code, genesis_code
from election.manifest import BallotStyleId, CandidateId, ContestId
from kiosk.ballot_box import BallotBox, BallotToStore
from kiosk.polls import PollsAction
from sync.client import SyncClient, TlsIdentity
from sync.protocol import CheckinRequest
from sync.signing import Signer, load_cert_public_key
from sync.worker import SyncWorker, WorkerConfig
from tests.ballot_box.kit import CENTRE_ID, CHAIR, KIOSK_ID
from tests.sync.fake_office import FakeOfficeState, create_fake_office

VOTERS = 50
BOUND = 0.6
STYLE = BallotStyleId("style-W1")


def spearman(xs: list[int], ys: list[int]) -> float:
    n = len(xs)
    rx = {v: i for i, v in enumerate(sorted(xs))}
    ry = {v: i for i, v in enumerate(sorted(ys))}
    d2 = sum((rx[x] - ry[y]) ** 2 for x, y in zip(xs, ys, strict=True))
    return 1 - 6 * d2 / (n * (n * n - 1))


def test_the_rank_statistic_sees_a_linked_order() -> None:
    ranks = list(range(VOTERS))
    assert spearman(ranks, ranks) == 1.0
    assert spearman(ranks, ranks[::-1]) == -1.0


@pytest.mark.integration
def test_no_join_or_order_links_a_ballot_to_a_voter(tmp_path: Path, pki: TestPki) -> None:
    manifest = build_test_manifest()
    context = run_key_ceremony(manifest.manifest_hash, 3, 2, SeededRandom(7))[0]
    pair = pki.kiosks[KIOSK_ID]
    civil = [str(20_000_000 + i) for i in range(VOTERS)]  # voter i came i-th
    state = FakeOfficeState(
        kiosk_keys={KIOSK_ID: load_cert_public_key(pair.cert_path)}, roll=dict.fromkeys(civil, STYLE)
    )
    server = TlsServer(
        create_fake_office(state),
        cert=pki.central_server.cert_path,
        key=pki.central_server.key_path,
        client_ca=pki.kiosk_ca.cert_path,
    )
    server.start()
    signer = Signer.from_pem_file(pair.key_path)
    genesis = genesis_code(context.base_hash, KIOSK_ID)
    box = BallotBox.create(
        tmp_path / "kiosk.db", signer, kiosk_id=KIOSK_ID, centre_id=CENTRE_ID, chain_genesis=genesis.hex(), min_batch=10
    )
    box.apply(PollsAction.OPEN, CHAIR)
    client = SyncClient(server.url, TlsIdentity(pair.cert_path, pair.key_path, pki.central_ca.cert_path))
    worker = SyncWorker(
        box, client, WorkerConfig("t", "0" * 64), monotonic=time.monotonic, wall_clock=lambda: dt.datetime.now(dt.UTC)
    )

    voter_of_ballot: dict[str, int] = {}  # ground truth, known only to the test
    tokens: list[str] = []
    for i, number in enumerate(civil):
        answer = client.checkin(
            CheckinRequest(
                kiosk_id=KIOSK_ID, centre_id=CENTRE_ID, civil_number=number, idempotency_key=secrets.token_hex(16)
            )
        )
        assert answer.checkin_token is not None
        box.record_checkin(answer.checkin_token, STYLE)
        tokens.append(answer.checkin_token)
        plain = PlaintextBallot(STYLE, {ContestId("shura-W1"): frozenset({CandidateId(f"W1-C{1 + i % 2}")})})
        ballot_id = secrets.token_hex(16)
        encrypted = encrypt_ballot(context, manifest, plain, ballot_id=ballot_id, seed=secrets.token_bytes(32))
        code = confirmation_code(genesis, KIOSK_ID, encrypted)
        box.cast(answer.checkin_token, BallotToStore(ballot_id, STYLE, code.hex(), encrypted.to_dict()))
        voter_of_ballot[ballot_id] = i
        box.seal_batches()
    box.apply(PollsAction.CLOSE, CHAIR)
    assert worker.run_once()
    client.close()
    server.stop()

    # Every ballot reached the office intact: it verifies with the election core.
    assert set(state.ballots) == set(voter_of_ballot)
    for data in state.ballots.values():
        verify_ballot(context, manifest, EncryptedBallot.from_dict(data["encrypted_ballot"]))

    voter_rank = list(range(VOTERS))
    db = sqlite3.connect(tmp_path / "kiosk.db")

    # (a) the kiosk database: stored (physical) order and the export order
    # The table's own B-tree (a column outside the batch_id index forces a table scan: a plain SELECT of the id
    # scans that index, ordered by batch, i.e. the grouping the office sees anyway and too coarse to rank).
    stored = [voter_of_ballot[b] for (b, _) in db.execute("SELECT ballot_id, disposition FROM ballots")]
    exported = [voter_of_ballot[b.ballot_id] for b in box.export_ballots()]
    assert abs(spearman(voter_rank, stored)) < BOUND
    assert abs(spearman(voter_rank, exported)) < BOUND

    # (b) the traffic: within each batch, position against voter order (pooled over batches); (d) the same for the
    # batch's links in code order (as the record publishes them) and for the ballots in audit-log order
    def within_batches(orders: list[list[str]]) -> float:
        position, rank_in_batch = [], []
        for batch_ids in orders:
            voters_here = [voter_of_ballot[b] for b in batch_ids]
            order = sorted(voters_here)
            position += list(range(len(batch_ids)))
            rank_in_batch += [order.index(v) for v in voters_here]
        assert len(position) == VOTERS
        return pearson(position, rank_in_batch)

    assert abs(within_batches(state.batch_log)) < BOUND
    code_of = {b: d["confirmation_code"] for b, d in state.ballots.items()}
    assert abs(within_batches([sorted(ids, key=code_of.__getitem__) for ids in state.batch_log])) < BOUND
    in_log: list[list[str]] = []
    for kind, payload in db.execute("SELECT kind, payload FROM audit_log ORDER BY seq"):
        named = json.loads(payload)
        if kind == "batch_sealed":
            in_log.append([b["ballot_id"] for b in named["ballots"]])
        else:
            assert not any(b in payload for b in voter_of_ballot), kind  # no other entry names a ballot
    assert abs(within_batches(in_log)) < BOUND

    # (c) the check-in rows as stored, and the order voted marks reached the office
    token_rank = {t: i for i, t in enumerate(tokens)}
    checkin_order = [token_rank[t] for (t,) in db.execute("SELECT token FROM checkins")]
    assert abs(spearman(voter_rank, checkin_order)) < BOUND
    assert abs(spearman(voter_rank, [token_rank[t] for t in state.voted_order])) < BOUND

    # No shared column, and no value of one side appears on the other.
    ballot_cols = {r[1] for r in db.execute("PRAGMA table_info(ballots)")}
    checkin_cols = {r[1] for r in db.execute("PRAGMA table_info(checkins)")}
    assert ballot_cols.isdisjoint(checkin_cols)
    ballot_bytes = b"".join(body for (body,) in db.execute("SELECT body FROM ballots"))
    audit_text = "".join(p for (p,) in db.execute("SELECT payload FROM audit_log"))
    for token, number in zip(tokens, civil, strict=True):
        assert token.encode() not in ballot_bytes and token not in audit_text
        assert number.encode() not in ballot_bytes and number not in audit_text
    poll_book = repr(state.checkins).encode()
    for ballot_id in voter_of_ballot:
        assert ballot_id.encode() not in poll_book
    for batch in state.batches:
        assert batch not in repr(state.checkins)
    db.close()

    # No ballot names another (no previous code): nothing chains one voter's ballot to the next one's.
    assert all(set(d) == {"ballot_id", "ballot_style_id", "disposition", "confirmation_code", "encrypted_ballot"}
               for d in state.ballots.values())  # fmt: skip


def pearson(xs: list[int], ys: list[int]) -> float:
    n = len(xs)
    mx, my = sum(xs) / n, sum(ys) / n
    cov = sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True))
    vx = sum((x - mx) ** 2 for x in xs) ** 0.5
    vy = sum((y - my) ** 2 for y in ys) ** 0.5
    return float(cov / (vx * vy))
