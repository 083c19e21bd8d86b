"""The REAL central office (central/) for the kiosk's integration tests and benchmark: not a stand-in.

- ``build_election``: the small demo election (``devtools.demo_election``), a real key ceremony, a test PKI with a
  certificate for every kiosk of the manifest, the office's X25519 envelope key; written where the office's
  configuration expects them.
- ``CentralOffice``: initialises the office's database (Alembic migrations, ``Office.prepare``, kiosk enrolment
  with the test-PKI certificates, the roll) and runs the office with its own command line,
  ``python -m central serve --config central.toml``: uvicorn with mutual TLS (``central.tls.TlsH11Protocol``)
  on 127.0.0.1, ballots verified by ``ElectionChecker`` in its process pool. The office is a child process, so
  an outage is real: ``stop()`` kills it (the kiosk then gets refused connections), ``start()`` brings it
  back on the same port. Its output (uvicorn's log) is kept in ``log_path``.
- ``BallotPool``: real encrypted ballots made once up front, chained at cast time (a confirmation code is a
  hash of the previous code and the ballot, so a pooled ballot can be cast after any head).
- ``central_view`` / ``expected_tally``: what the office holds, read from its own database, and the
  homomorphic sums the office's tally must equal, computed independently with ``election.tally``.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from nacl.public import PrivateKey
from sqlalchemy import func, select

from central.config import CentralConfig
from central.db import Database, migrate
from central.models import Ballot, BallotStatus, Kiosk, ProvisionalEnvelope, TallyState, Voter, VoterState
from central.office import Office, enrol_kiosk
from central.pollbook import import_roll
from devtools.demo_election.build import small_manifest
from devtools.sample_election import random_plaintext, run_key_ceremony
from devtools.test_pki import generate as generate_pki
from devtools.test_pki.model import TestPki
from election.ballot import EncryptedBallot, encrypt_ballot
from election.confirmation import confirmation_code, genesis_code
from election.context import ElectionContext
from election.manifest import BallotStyleId, Manifest, WilayatCode
from election.roll import CivilNumber, RollEntry
from election.tally import TallyAccumulator
from kiosk.ballot_box import BallotBox, BallotToStore
from kiosk.polls import PollsAction, StaffCard, StaffRole
from sync.client import TlsIdentity
from sync.protocol import BallotDisposition, BatchBallot
from sync.signing import Signer

ROOT = Path(__file__).resolve().parents[1]
# The committee member who opens the polls (the same card as tests/ballot_box/kit.py's CHAIR).
CHAIR = StaffCard("staff-chair", StaffRole.COMMITTEE_MEMBER, "a" * 64)

KIOSK_ID = "K-PC-001-1"
"""The kiosk at the unified centre PC-001 (it serves every wilayat)."""
CENTRE_ID = "PC-001"
WILAYAT = "MU-01"
STYLE = "BS-MU-01"
"""One contest, three candidates: the cheapest real ballot of the small demo election."""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass(frozen=True)
class RealElection:
    manifest: Manifest
    context: ElectionContext
    pki: TestPki
    envelope: PrivateKey
    root: Path

    @property
    def election_dir(self) -> Path:
        return self.root / "election"

    @property
    def envelope_key_path(self) -> Path:
        return self.root / "envelope.key"

    def genesis(self, kiosk_id: str = KIOSK_ID) -> str:
        return genesis_code(self.context.base_hash, kiosk_id).hex()

    def tls(self, kiosk_id: str = KIOSK_ID) -> TlsIdentity:
        pair = self.pki.kiosks[kiosk_id]
        return TlsIdentity(pair.cert_path, pair.key_path, self.pki.central_ca.cert_path)

    def signer(self, kiosk_id: str = KIOSK_ID) -> Signer:
        return Signer.from_pem_file(self.pki.kiosks[kiosk_id].key_path)

    def centre_of(self, kiosk_id: str) -> str:
        return str(self.manifest.kiosks_by_id[kiosk_id].centre)  # type: ignore[index]

    def open_kiosk(self, db: Path, kiosk_id: str = KIOSK_ID, *, min_batch: int = 10) -> BallotBox:
        """A new kiosk database, chained from the election's genesis code for this kiosk, polls open."""
        box = BallotBox.create(
            db,
            self.signer(kiosk_id),
            kiosk_id=kiosk_id,
            centre_id=self.centre_of(kiosk_id),
            chain_genesis=self.genesis(kiosk_id),
            min_batch=min_batch,
        )
        box.apply(PollsAction.OPEN, CHAIR)
        return box

    def encrypt(self, style: str = STYLE) -> EncryptedBallot:
        plain = random_plaintext(self.manifest, BallotStyleId(style), os.urandom)
        return encrypt_ballot(
            self.context, self.manifest, plain, ballot_id=secrets.token_hex(16), seed=secrets.token_bytes(32)
        )


def build_election(root: Path) -> RealElection:
    manifest = small_manifest()
    context = run_key_ceremony(manifest.manifest_hash, 3, 2, os.urandom)[0]
    pki = generate_pki(root / "pki", [], [k.id for k in manifest.kiosks], now=dt.datetime.now(dt.UTC))
    envelope = PrivateKey.generate()
    (root / "election").mkdir(parents=True)
    (root / "election" / "manifest.json").write_text(json.dumps(manifest.to_dict()), encoding="utf-8")
    (root / "election" / "election-context.json").write_text(json.dumps(context.to_dict()), encoding="utf-8")
    (root / "envelope.key").write_text(bytes(envelope).hex(), encoding="ascii")
    return RealElection(manifest, context, pki, envelope, root)


def chained(box: BallotBox, ballot: EncryptedBallot, kiosk_id: str = KIOSK_ID) -> BallotToStore:
    """``ballot`` with its confirmation code (from the kiosk's genesis), as the voting session hands it to the
    ballot box."""
    code = confirmation_code(bytes.fromhex(box.genesis), kiosk_id, ballot)
    return BallotToStore(ballot.ballot_id, ballot.style_id, code.hex(), ballot.to_dict())


def roll(count: int, first: int = 90_000_000, wilayat: str = WILAYAT) -> list[str]:
    return [str(first + i) for i in range(count)]


class CentralOffice:
    """The central office's own server process (``python -m central serve``) on a PostgreSQL database."""

    def __init__(self, election: RealElection, database_url: str, work: Path, *, workers: int = 2) -> None:
        self.election = election
        self.database_url = database_url
        self.work = work
        self.port = free_port()
        self.workers = workers
        self.log_path = work / "central.log"
        self.config_path = work / "central.toml"
        self._process: subprocess.Popen[bytes] | None = None
        self.db = Database(database_url)
        work.mkdir(parents=True, exist_ok=True)
        pki = election.pki
        self.config_path.write_text(
            "\n".join(
                [
                    "[database]",
                    f'url = "{database_url}"',
                    "[election]",
                    f'dir = "{election.election_dir}"',
                    f'record_dir = "{work / "record"}"',
                    f'envelope_private_key = "{election.envelope_key_path}"',
                    f'office_signing_key = "{pki.central_server.key_path}"',  # signs the audit heads it publishes
                    f'office_certificate = "{pki.central_server.cert_path}"',
                    "[server]",
                    'host = "127.0.0.1"',
                    f"port = {self.port}",
                    f'tls_cert = "{pki.central_server.cert_path}"',
                    f'tls_key = "{pki.central_server.key_path}"',
                    f'kiosk_ca = "{pki.kiosk_ca.cert_path}"',
                    f'staff_ca = "{pki.staff_ca.cert_path}"',
                    "[ingest]",
                    f"workers = {workers}",
                    "",
                ]
            ),
            encoding="utf-8",
        )

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self.port}"

    def in_process(self) -> Office:
        """The same office, opened in this process (proofs checked inline): for set-up and committee steps."""
        config = CentralConfig(
            database_url=self.database_url,
            election_dir=self.election.election_dir,
            record_dir=self.work / "record",
            staff_ca=self.election.pki.staff_ca.cert_path,
            kiosk_ca=self.election.pki.kiosk_ca.cert_path,
            envelope_private_key=self.election.envelope_key_path,
            ingest_workers=0,
            office_signing_key=self.election.pki.central_server.key_path,
            office_certificate=self.election.pki.central_server.cert_path,
        )
        return Office.open(config)

    def initialise(self, voters: Iterable[str], wilayat: str = WILAYAT) -> None:
        """Schema, the per-kiosk/centre/contest rows, every kiosk of the manifest enrolled, the roll."""
        migrate(self.database_url)
        office = self.in_process()
        try:
            office.prepare()
            now = dt.datetime.now(dt.UTC)
            with office.db.transaction() as s:
                for k in self.election.manifest.kiosks:
                    enrol_kiosk(s, office, self.election.pki.kiosks[k.id].cert(), actor="test-setup", now=now)
                import_roll(
                    s,
                    office.manifest,
                    [RollEntry(CivilNumber(c), WilayatCode(wilayat), True) for c in voters],
                )
        finally:
            office.close()

    def start(self, timeout: float = 120.0) -> None:  # a deadline: the import alone takes seconds under load
        if self._process is not None:
            raise RuntimeError("the central office is already running")
        log = self.log_path.open("ab")
        self._process = subprocess.Popen(
            [sys.executable, "-m", "central", "serve", "--config", str(self.config_path)],
            cwd=ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        log.close()
        deadline = time.monotonic() + timeout
        while True:
            if self._process.poll() is not None:
                raise RuntimeError(f"the central office exited: {self.log_path.read_text(errors='replace')[-2000:]}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    return
            except OSError:
                if time.monotonic() > deadline:
                    self.stop()
                    raise RuntimeError("the central office did not start listening") from None
                time.sleep(0.05)

    def stop(self, *, kill: bool = True) -> None:
        """End the office's process (SIGKILL by default: a crash or a cut cable, not a polite shutdown)."""
        process, self._process = self._process, None
        if process is None:
            return
        process.send_signal(signal.SIGKILL if kill else signal.SIGTERM)
        process.wait(30)

    def close(self) -> None:
        self.stop(kill=False)
        self.db.dispose()


# ---- real ballots made once ---------------------------------------------------------------------------


def encrypt_pool(election: RealElection, count: int, style: str = STYLE) -> list[EncryptedBallot]:
    return [election.encrypt(style) for _ in range(count)]


def write_pool(path: Path, ballots: Sequence[EncryptedBallot]) -> None:
    path.write_text("\n".join(json.dumps(b.to_dict()) for b in ballots) + "\n", encoding="utf-8")


def read_pool(path: Path) -> list[EncryptedBallot]:
    return [EncryptedBallot.from_dict(json.loads(line)) for line in path.read_text(encoding="utf-8").splitlines()]


# ---- what the office holds --------------------------------------------------------------------------------


@dataclass(frozen=True)
class CentralView:
    """The office's own record, read from its database."""

    ballots: dict[str, tuple[str, BallotStatus, bool]]
    """ballot id -> (kiosk, status, spoiled), every ballot row the office stored."""
    envelopes: dict[str, str]
    """envelope id -> ballot id inside."""
    tally: dict[str, dict[str, Any]]
    """contest -> the running encrypted tally (``tally_state.state``)."""
    voted: int
    chain_heads: dict[str, str | None]
    accepted_per_kiosk: dict[str, int]


def central_view(db: Database) -> CentralView:
    with db.transaction() as s:
        ballots = {
            b: (k, st, sp)
            for b, k, st, sp in s.execute(select(Ballot.ballot_id, Ballot.kiosk_id, Ballot.status, Ballot.spoiled))
        }
        envelopes = {
            e: str(ballot["ballot_id"])
            for e, ballot in s.execute(select(ProvisionalEnvelope.envelope_id, ProvisionalEnvelope.ballot))
        }
        tally = {c: dict(st) for c, st in s.execute(select(TallyState.contest_id, TallyState.state))}
        voted = s.scalar(select(func.count()).select_from(Voter).where(Voter.state == VoterState.VOTED)) or 0
        kiosks = list(s.execute(select(Kiosk.kiosk_id, Kiosk.chain_head, Kiosk.ballots_accepted)))
    return CentralView(
        ballots,
        envelopes,
        tally,
        int(voted),
        {k: h for k, h, _ in kiosks},
        {k: int(n) for k, _, n in kiosks},
    )


def expected_tally(election: RealElection, ballots: Iterable[BatchBallot]) -> dict[str, dict[str, Any]]:
    """Per contest, the homomorphic sums of the cast ballots' ciphertexts (``election.tally``), in the shape of
    the office's ``tally_state.state``."""
    acc = TallyAccumulator(election.context, election.manifest)
    for b in ballots:
        if b.disposition is BallotDisposition.CAST:
            acc.add(EncryptedBallot.from_dict(b.encrypted_ballot))
    result = acc.result()
    out: dict[str, dict[str, Any]] = {}
    for contest, row in result.contests.items():
        selections = {c: ct.to_dict() for c, ct in row.items() if c != "#blank"}
        out[str(contest)] = {
            "ballots": result.ballots_per_contest[contest],
            "selections": selections,
            "blank": row["#blank"].to_dict(),
        }
    return out


def tally_of(view: CentralView) -> dict[str, dict[str, Any]]:
    """The office's tally in the same shape as ``expected_tally``."""
    return {
        c: {"ballots": int(st["ballots"]), "selections": st["selections"], "blank": st["blank"]}
        for c, st in view.tally.items()
    }


def accepted_ids(view: CentralView, kiosk_id: str = KIOSK_ID) -> set[str]:
    return {
        b
        for b, (k, st, spoiled) in view.ballots.items()
        if k == kiosk_id and st is BallotStatus.ACCEPTED and not spoiled
    }
