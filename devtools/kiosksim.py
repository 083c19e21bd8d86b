"""A simulated kiosk for the central office's tests and benchmark: real ballots (encrypted with proofs),
a real confirmation-code chain, batches signed with the kiosk certificate's key, sent through the ASGI app
with the TLS client certificate in the scope (exactly where central.tls puts it under uvicorn)."""

from __future__ import annotations

import base64
import os
import secrets
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding
from nacl.public import PublicKey, SealedBox

from central.tls import _WithTls

with warnings.catch_warnings():  # starlette 1.x prefers httpx2 for its TestClient; httpx works the same here
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient
from devtools.sample_election import random_plaintext
from election.ballot import EncryptedBallot, PlaintextBallot, encrypt_ballot
from election.benaloh import challenge_ballot
from election.canonical import canonical_json
from election.chain_statement import ChainStatement, StatementKind
from election.confirmation import batch_root, confirmation_code, genesis_code
from election.context import ElectionContext
from election.manifest import BallotStyleId, CandidateId, ContestId, Manifest
from sync.protocol import (
    BallotBatch,
    BallotDisposition,
    BatchBallot,
    IdentityEnvelopeContent,
    ProvisionalReason,
    ProvisionalSubmission,
    ballot_hash,
    signed_close,
    signed_head,
    signing_bytes,
)


@dataclass(frozen=True)
class Election:
    manifest: Manifest
    context: ElectionContext
    guardians: Any
    secrets: Any
    pki: Any
    envelope_public: PublicKey
    root: Path


def client_for(app: Any, cert_pem: str | None) -> TestClient:
    tls = {"client_cert_chain": [cert_pem] if cert_pem else [], "tls_version": "TLSv1.3", "cipher_suite": None}
    return TestClient(_WithTls(app, tls), raise_server_exceptions=True)


@dataclass
class SimKiosk:
    election: Election
    kiosk_id: str
    app: Any
    head: bytes = b""
    """The root of the kiosk's last batch (its genesis before the first)."""
    pending: list[BatchBallot] = field(default_factory=list)
    #: codes of provisional ballots sent since the last batch: the next batch links them
    provisional_codes: list[str] = field(default_factory=list)
    #: links of the chain so far (cast, challenged, provisional), for the signed chain head and close
    links: list[int] = field(default_factory=lambda: [0, 0, 0])
    closes: int = 0

    def __post_init__(self) -> None:
        pair = self.election.pki.kiosks[self.kiosk_id]
        self.key = pair.key()
        self.cert_pem = pair.cert().public_bytes(Encoding.PEM).decode()
        self.http = client_for(self.app, self.cert_pem)
        self.genesis = genesis_code(self.election.context.base_hash, self.kiosk_id)
        self.head = self.genesis

    @property
    def centre_id(self) -> str:
        return self.election.manifest.kiosks_by_id[self.kiosk_id].centre  # type: ignore[index]

    def post(self, path: str, body: dict[str, Any]) -> Any:
        return self.http.post(path, content=canonical_json(body), headers={"content-type": "application/json"})

    def checkin(self, civil_number: str, idempotency_key: str | None = None) -> Any:
        return self.post(
            "/v1/checkins",
            {
                "kiosk_id": self.kiosk_id,
                "centre_id": self.centre_id,
                "civil_number": civil_number,
                "idempotency_key": idempotency_key or secrets.token_hex(16),
            },
        )

    def voted(self, token: str) -> Any:
        return self.post(f"/v1/checkins/{token}/voted", {"kiosk_id": self.kiosk_id})

    def encrypt(
        self,
        style_id: str,
        *,
        chain: bool = True,
        challenged: bool = False,
        choices: dict[str, list[str]] | None = None,
        tamper: bool = False,
    ) -> BatchBallot:
        """A ballot encrypted as the kiosk does, with its confirmation code; ``chain=False`` leaves it out of the
        kiosk's counts (a forged or lost ballot); ``challenged`` spoils it and reveals its seed (the wire carries the
        ``ChallengedBallot``, as the kiosk sends it); ``choices`` (contest id -> candidate ids) instead of a random
        vote; ``tamper`` swaps the range proofs of the first two selections after encryption (the ballot parses,
        its proofs fail) and counts the tampered ballot (its code holds)."""
        m, ctx = self.election.manifest, self.election.context
        if choices is None:
            plain = random_plaintext(m, BallotStyleId(style_id), os.urandom)
        else:
            plain = PlaintextBallot(
                BallotStyleId(style_id),
                {ContestId(c): frozenset(CandidateId(x) for x in ids) for c, ids in choices.items() if ids},
            )
        seed = os.urandom(32)
        ballot = encrypt_ballot(ctx, m, plain, ballot_id=f"{self.kiosk_id}-{secrets.token_hex(8)}", seed=seed)
        if tamper:
            data = ballot.to_dict()
            sel = data["contests"][0]["selections"]
            sel[0]["proof"], sel[1]["proof"] = sel[1]["proof"], sel[0]["proof"]
            ballot = EncryptedBallot.from_dict(data)
        code = confirmation_code(self.genesis, self.kiosk_id, ballot)
        if chain:
            self.links[1 if challenged else 0] += 1
        return BatchBallot(
            ballot_id=ballot.ballot_id,
            ballot_style_id=style_id,
            disposition=BallotDisposition.CHALLENGED if challenged else BallotDisposition.CAST,
            confirmation_code=code.hex(),
            encrypted_ballot=challenge_ballot(ballot, seed).to_dict() if challenged else ballot.to_dict(),
        )

    def challenge(self, style_id: str) -> BatchBallot:
        """A Benaloh challenge: the spoiled ballot goes into the next batch like a cast one."""
        b = self.encrypt(style_id, challenged=True)
        self.pending.append(b)
        return b

    def cast(self, style_id: str) -> BatchBallot:
        b = self.encrypt(style_id)
        self.pending.append(b)
        return b

    def sign(self, data: bytes) -> str:
        assert isinstance(self.key, ec.EllipticCurvePrivateKey)
        return base64.b64encode(self.key.sign(data, ec.ECDSA(hashes.SHA256()))).decode()

    def statement(self, kind: StatementKind = StatementKind.HEAD) -> ChainStatement:
        """The kiosk's chain as it stands (its head, or its next close)."""
        genesis = genesis_code(self.election.context.base_hash, self.kiosk_id).hex()
        seq = self.closes + 1 if kind is StatementKind.CLOSE else None
        cast, challenged, provisional = self.links
        return ChainStatement(kind, self.kiosk_id, genesis, self.head.hex(), cast, challenged, provisional, seq)

    def make_batch(self, ballots: list[BatchBallot] | None = None) -> BallotBatch:
        """The next batch of the kiosk's batch chain: ``ballots`` (the pending ones by default) and the provisional
        ballots sent since the last batch; the kiosk's head moves to its root."""
        ballots = list(self.pending if ballots is None else ballots)
        self.pending = []
        provisional, self.provisional_codes = sorted(self.provisional_codes), []
        secrets.SystemRandom().shuffle(ballots)
        codes = [bytes.fromhex(b.confirmation_code) for b in ballots] + [bytes.fromhex(c) for c in provisional]
        self.head = batch_root(self.head, self.kiosk_id, codes)
        statement = self.statement()
        head = signed_head(statement, self.sign(statement.signing_bytes()))
        unsigned = BallotBatch.model_construct(
            kiosk_id=self.kiosk_id,
            batch_id=secrets.token_hex(16),
            ballots=ballots,
            provisional_codes=provisional,
            chain_head=head,
            signature="",
        )
        return BallotBatch(
            kiosk_id=self.kiosk_id,
            batch_id=unsigned.batch_id,
            ballots=ballots,
            provisional_codes=provisional,
            chain_head=head,
            signature=self.sign(signing_bytes(unsigned)),
        )

    def close(self) -> Any:
        """Sign and send the chain close (POST /v1/chain-close), as the kiosk does when its polls close: first the
        batch that links the provisional ballots sent since the last batch, if any (the close is at a batch's root)."""
        if self.provisional_codes:
            r = self.send(self.make_batch([]))
            assert r.status_code == 200, r.text
        statement = self.statement(StatementKind.CLOSE)
        self.closes += 1
        close = signed_close(statement, self.sign(statement.signing_bytes()))
        return self.post("/v1/chain-close", {"kiosk_id": self.kiosk_id, "close": close.model_dump(mode="json")})

    def send(self, batch: BallotBatch) -> Any:
        return self.post("/v1/batches", batch.model_dump(mode="json"))

    def provisional(self, civil_number: str, style_id: str) -> tuple[ProvisionalSubmission, Any]:
        ballot = self.encrypt(style_id)  # a code like any other ballot's; the next batch links it
        self.links[0] -= 1
        self.links[2] += 1
        self.provisional_codes.append(ballot.confirmation_code)
        envelope_id = secrets.token_hex(16)
        content = IdentityEnvelopeContent(
            envelope_id=envelope_id,
            civil_number=civil_number,
            kiosk_id=self.kiosk_id,
            centre_id=self.centre_id,
            reason=ProvisionalReason.CENTRAL_UNREACHABLE,
            ballot_hash=ballot_hash(ballot),
        )
        sealed = SealedBox(self.election.envelope_public).encrypt(canonical_json(content.model_dump(mode="json")))
        unsigned = ProvisionalSubmission.model_construct(
            kiosk_id=self.kiosk_id,
            envelope_id=envelope_id,
            identity_envelope=base64.b64encode(sealed).decode(),
            ballot=ballot,
            signature="",
        )
        sub = ProvisionalSubmission(
            kiosk_id=self.kiosk_id,
            envelope_id=envelope_id,
            identity_envelope=unsigned.identity_envelope,
            ballot=ballot,
            signature=self.sign(signing_bytes(unsigned)),
        )
        return sub, self.post("/v1/provisional", sub.model_dump(mode="json"))


def decode_ballot(b: BatchBallot) -> EncryptedBallot:
    return EncryptedBallot.from_dict(b.encrypted_ballot)


def close_chains(kiosks: dict[str, SimKiosk]) -> None:
    """Every kiosk signs and sends its chain close, as each does when its polls close (before the centres close)."""
    for k in kiosks.values():
        r = k.close()
        assert r.status_code == 200, r.text
