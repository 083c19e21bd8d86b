"""In-process simulations for tests, demos and benchmarks: a whole key ceremony in one process, and a sample
election record. TEST MATERIAL only: real guardians run the ceremony with ``python -m election.guardian``."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import nacl.public

from election.ballot import EncryptedBallot, PlaintextBallot, encrypt_ballot, verify_ballot
from election.benaloh import ChallengedBallot, challenge_ballot
from election.confirmation import ConfirmationCode, confirmation_code, genesis_code
from election.context import ElectionContext, parameter_base_hash
from election.decryption import PartialDecryption, PlaintextTally, compute_share, decrypt_tally
from election.group import Scalar
from election.keyceremony import (
    GuardianRecord,
    Polynomial,
    build_context,
    decrypt_share,
    encrypt_share,
    make_guardian_record,
    share_is_valid,
)
from election.manifest import BallotStyleId, CandidateId, ContestId, Manifest
from election.tally import EncryptedTally, TallyAccumulator

#: how many links the sample kiosks seal per batch: fewer than a real kiosk's ``min_batch`` (10), so that the small
#: sample records show chains of several batches
SAMPLE_BATCH = 4

RandomBytes = Callable[[int], bytes]


@dataclass(frozen=True)
class GuardianSecrets:
    sequence: int
    polynomial: Polynomial
    #: P_j(sequence) received from every guardian j (including itself)
    received: dict[int, Scalar]

    @property
    def secret(self) -> Scalar:
        return self.polynomial.coefficients[0]


def run_key_ceremony(
    manifest_hash: str, n: int, k: int, random_bytes: RandomBytes
) -> tuple[ElectionContext, list[GuardianRecord], list[GuardianSecrets]]:
    """All n guardians in one process, through the same record/share/verify steps as the CLI."""
    base = parameter_base_hash(manifest_hash, n, k)
    polys = [Polynomial.random(k, random_bytes) for _ in range(n)]
    box_keys = [random_bytes(32) for _ in range(n)]
    box_public = [bytes(nacl.public.PrivateKey(b).public_key) for b in box_keys]
    records = [
        make_guardian_record(i + 1, f"Guardian {i + 1}", polys[i], box_public[i], base_hash=base, seed=random_bytes(32))
        for i in range(n)
    ]
    context = build_context(manifest_hash, k, records)
    received: list[dict[int, Scalar]] = [{} for _ in range(n)]
    for i in range(n):
        for r in range(n):
            share = encrypt_share(
                polys[i].evaluate(r + 1),
                sender=i + 1,
                recipient=r + 1,
                sender_box_key=box_keys[i],
                recipient_box_public=box_public[r],
                nonce=random_bytes(24),
            )
            value = decrypt_share(share, recipient_box_key=box_keys[r], sender_box_public=box_public[i])
            if not share_is_valid(value, r + 1, records[i].commitments):  # pragma: no cover
                raise AssertionError("honest share failed verification")
            received[r][i + 1] = value
    return context, records, [GuardianSecrets(i + 1, polys[i], received[i]) for i in range(n)]


def decrypt_with(
    context: ElectionContext,
    manifest: Manifest,
    tally: EncryptedTally,
    guardians: Sequence[GuardianSecrets],
    present: Sequence[int],
    random_bytes: RandomBytes,
) -> tuple[PlaintextTally, list[PartialDecryption]]:
    """Decrypt with the guardians in ``present``; every missing guardian is compensated by the first k present."""
    by_seq = {g.sequence: g for g in guardians}
    shares = [
        compute_share(context, tally, guardian=p, secret=by_seq[p].secret, seed=random_bytes(32)) for p in present
    ]
    helpers = sorted(present)[: context.quorum]
    for missing in range(1, context.number_of_guardians + 1):
        if missing in present:
            continue
        for h in helpers:
            shares.append(
                compute_share(
                    context,
                    tally,
                    guardian=h,
                    secret=by_seq[h].received[missing],
                    seed=random_bytes(32),
                    missing=missing,
                )
            )
    return decrypt_tally(context, manifest, tally, shares), shares


def random_plaintext(manifest: Manifest, style_id: BallotStyleId, random_bytes: RandomBytes) -> PlaintextBallot:
    """A valid random vote (some blank contests, some full, some partial)."""
    selections: dict[ContestId, frozenset[CandidateId]] = {}
    for contest in manifest.contests_of_style(style_id):
        ids = list(contest.selection_ids)
        count = random_bytes(1)[0] % (contest.seats + 2)
        count = min(count, contest.seats)
        chosen: list[CandidateId] = []
        while len(chosen) < count:
            pick = ids[random_bytes(1)[0] % len(ids)]
            if pick not in chosen:
                chosen.append(pick)
        if chosen:
            selections[contest.id] = frozenset(chosen)
    return PlaintextBallot(style_id, selections)


@dataclass(frozen=True)
class KioskEntry:
    ballot: EncryptedBallot
    code: ConfirmationCode
    challenged: ChallengedBallot | None
    withheld: bool = False


def build_sample_record(
    out: Path,
    manifest: Manifest,
    *,
    ballots: int,
    challenged: int,
    random_bytes: RandomBytes,
    n: int = 5,
    k: int = 3,
    withheld: int = 0,
) -> str:
    """Run a whole small election and write its record to ``out``; returns a one-line summary. ``withheld``
    ballots (provisional ballots the committee did not count) are chained in the middle of kiosk chains and
    published as withheld entries: not tallied, not in the poll-book counts. Each kiosk seals its links in batches
    of ``SAMPLE_BATCH`` (the last one smaller), in the order they were made (the record sorts each batch)."""
    from devtools.sample_election.kiosks import sample_kiosk_statements
    from devtools.sample_election.office import write_sample_office_part
    from election.record import ChainBatch, ChainEntry, ElectionRecord, WithheldEntry, WithheldReason, write_record

    context, records, guardians = run_key_ceremony(manifest.manifest_hash, n, k, random_bytes)
    kiosks = [kiosk.id for kiosk in manifest.kiosks]
    styles = [s.id for s in manifest.ballot_styles]
    chains: dict[str, list[KioskEntry]] = {kid: [] for kid in kiosks}
    genesis: dict[str, bytes] = {kid: genesis_code(context.base_hash, kid) for kid in kiosks}
    accumulator = TallyAccumulator(context, manifest)
    pollbook: dict[str, int] = dict.fromkeys(styles, 0)
    total = ballots + challenged + withheld
    challenge_every = max(1, total // max(1, challenged)) if challenged else 0
    made_challenges = made_withheld = 0
    for number in range(total):
        kid = kiosks[number % len(kiosks)]
        style = styles[random_bytes(1)[0] % len(styles)]
        seed = random_bytes(32)
        ballot = encrypt_ballot(
            context,
            manifest,
            random_plaintext(manifest, style, random_bytes),
            ballot_id=f"{kid}-{number:06d}",
            seed=seed,
        )
        verify_ballot(context, manifest, ballot)
        code = confirmation_code(genesis[kid], kid, ballot)
        if challenge_every and number % challenge_every == 1 % challenge_every and made_challenges < challenged:
            made_challenges += 1
            accumulator.mark_challenged(ballot.ballot_id)
            chains[kid].append(KioskEntry(ballot, code, challenge_ballot(ballot, seed)))
        elif made_withheld < withheld and number >= (made_withheld + 1) * total // (withheld + 1):
            made_withheld += 1
            chains[kid].append(KioskEntry(ballot, code, None, withheld=True))
        else:
            accumulator.add(ballot)
            pollbook[style] += 1
            chains[kid].append(KioskEntry(ballot, code, None))
    tally = accumulator.result()

    def entry(kid: str, e: KioskEntry) -> ChainEntry:
        if e.withheld:
            return WithheldEntry.of(genesis[kid], kid, e.ballot, WithheldReason.PROVISIONAL_NOT_COUNTED)
        return (e.ballot, e.code, e.challenged)

    batches = {
        kid: [entries[i : i + SAMPLE_BATCH] for i in range(0, len(entries), SAMPLE_BATCH)]
        for kid, entries in chains.items()
    }
    record_chains: dict[str, tuple[ChainBatch, ...]] = {
        kid: tuple(tuple(entry(kid, e) for e in batch) for batch in kiosk_batches)
        for kid, kiosk_batches in batches.items()
    }
    present = [1, 3, 5] if n == 5 else list(range(1, k + 1))
    result, shares = decrypt_with(context, manifest, tally, guardians, present, random_bytes)
    record = ElectionRecord(
        manifest=manifest,
        context=context,
        guardians=tuple(records),
        chains=record_chains,
        tally=tally,
        shares=tuple(shares),
        result=result,
        pollbook_counts=pollbook,
        kiosks=sample_kiosk_statements(  # TEST MATERIAL keys; each kiosk's signed chain close
            context.base_hash,
            {
                kid: [
                    [
                        (e.code.hex(), "provisional" if e.withheld else "challenged" if e.challenged else "cast")
                        for e in b
                    ]
                    for b in kiosk_batches
                ]
                for kid, kiosk_batches in batches.items()
                if kiosk_batches
            },
            random_bytes,
        ),
    )
    write_record(out, record)
    write_sample_office_part(out, manifest, tally, random_bytes)  # TEST MATERIAL office key and signed audit heads
    return (
        f"wrote {out}: {accumulator.cast_count} cast, {made_challenges} challenged, {made_withheld} withheld ballots, "
        f"decrypted by guardians {present} of {n}"
    )
