from __future__ import annotations

import itertools
import random

import pytest

from devtools.sample_election import decrypt_with, random_plaintext
from devtools.sample_record import SeededRandom
from election.ballot import BLANK_LABEL, encrypt_ballot
from election.benaloh import challenge_ballot
from election.decryption import DecryptionError, PartialDecryption, compute_share, decrypt_tally
from election.dlog import DiscreteLog, DiscreteLogError
from election.group import IDENTITY, G, Scalar, small_multiple
from election.tally import EncryptedTally, TallyAccumulator, TallyError

DLOG = DiscreteLog(max_value=1000, baby_steps=32)


@pytest.fixture(scope="module")
def election(manifest, context):
    """30 random ballots, their plaintexts and the expected counts."""
    rnd = SeededRandom(7)
    ballots, plaintexts = [], []
    for i in range(30):
        style = manifest.ballot_styles[i % 3].id
        plain = random_plaintext(manifest, style, rnd)
        plaintexts.append(plain)
        ballots.append(encrypt_ballot(context, manifest, plain, ballot_id=f"b{i}", seed=rnd(32)))
    return ballots, plaintexts


def expected_counts(manifest, plaintexts):
    expected = {}
    for contest in manifest.contests:
        relevant = [p for p in plaintexts if contest.id in manifest.styles_by_id[p.style_id].contest_ids]
        votes = {k: sum(k in p.chosen(contest.id) for p in relevant) for k in contest.selection_ids}
        blank = sum(not p.chosen(contest.id) for p in relevant)
        expected[contest.id] = (votes, blank, len(relevant))
    return expected


@pytest.fixture(scope="module")
def tally(manifest, context, election):
    acc = TallyAccumulator(context, manifest)
    for b in election[0]:
        acc.add(b)
    return acc.result()


def test_homomorphic_sums_equal_plaintext_sums(manifest, election, tally, secret_key) -> None:
    expected = expected_counts(manifest, election[1])
    for contest_id, row in tally.contests.items():
        votes, blank, ballots = expected[contest_id]
        for selection, ct in row.items():
            count = DLOG.log(ct.beta - secret_key * ct.alpha)
            assert count == (blank if selection == BLANK_LABEL else votes[selection])
        assert tally.ballots_per_contest[contest_id] == ballots


def test_every_subset_of_k_guardians_decrypts(manifest, context, ceremony_5_3, election, tally) -> None:
    expected = expected_counts(manifest, election[1])
    guardians = ceremony_5_3[2]
    for present in itertools.combinations(range(1, 6), 3):
        result, shares = decrypt_with(context, manifest, tally, guardians, list(present), SeededRandom(sum(present)))
        assert len(shares) == 3 + 2 * 3  # own shares + 3 compensating shares for each of the 2 missing
        for contest_id, r in result.contests.items():
            votes, blank, ballots = expected[contest_id]
            assert (r.votes, r.blank, r.ballots) == (votes, blank, ballots)
            assert r.undervotes == ballots * r.seats - sum(votes.values())


def test_all_guardians_present_needs_no_compensation(manifest, context, ceremony_5_3, election, tally) -> None:
    result, shares = decrypt_with(context, manifest, tally, ceremony_5_3[2], [1, 2, 3, 4, 5], SeededRandom(1))
    assert all(s.missing is None for s in shares)
    assert (
        result.contests
        == decrypt_with(context, manifest, tally, ceremony_5_3[2], [2, 4, 5], SeededRandom(2))[0].contests
    )


def test_too_few_guardians_cannot_decrypt(manifest, context, ceremony_5_3, tally) -> None:
    g = ceremony_5_3[2]
    shares = [compute_share(context, tally, guardian=i, secret=g[i - 1].secret, seed=bytes(32)) for i in (1, 2)]
    with pytest.raises(DecryptionError):
        decrypt_tally(context, manifest, tally, shares)


def test_a_wrong_share_is_detected(manifest, context, ceremony_5_3, tally) -> None:
    g = ceremony_5_3[2]
    shares = [
        compute_share(context, tally, guardian=i, secret=g[i - 1].secret, seed=bytes(32)) for i in (1, 2, 3, 4, 5)
    ]
    bad = shares[1]
    key = next(iter(bad.values))
    m, proof = bad.values[key]
    shares[1] = PartialDecryption(bad.guardian, None, {**bad.values, key: (m + G, proof)})
    with pytest.raises(DecryptionError):
        decrypt_tally(context, manifest, tally, shares)
    # A guardian using another guardian's secret is caught too.
    forged = compute_share(context, tally, guardian=2, secret=g[0].secret, seed=bytes(32))
    with pytest.raises(DecryptionError):
        decrypt_tally(context, manifest, tally, [shares[0], forged, shares[2]])


def test_accumulator_refuses_duplicates_challenged_and_foreign(manifest, context, election) -> None:
    ballots = election[0]
    acc = TallyAccumulator(context, manifest)
    acc.add(ballots[0])
    with pytest.raises(TallyError):
        acc.add(ballots[0])
    acc.mark_challenged(ballots[1].ballot_id)
    with pytest.raises(TallyError):
        acc.add(ballots[1])
    with pytest.raises(TallyError):
        acc.add(challenge_ballot(ballots[2], bytes(32)))  # type: ignore[arg-type]
    with pytest.raises(TallyError):
        acc.mark_challenged(ballots[0].ballot_id)
    assert acc.cast_count == 1


def test_running_state_round_trips(manifest, context, election, tally) -> None:
    ballots = election[0]
    acc = TallyAccumulator(context, manifest)
    for b in ballots[:10]:
        acc.add(b)
    acc.mark_challenged("spoiled-1")
    resumed = TallyAccumulator.from_dict(context, manifest, acc.to_dict())
    for b in ballots[10:]:
        resumed.add(b)
    assert resumed.result() == tally
    assert EncryptedTally.from_dict(tally.to_dict()) == tally
    with pytest.raises(TallyError):
        resumed.add(ballots[3])
    state = acc.to_dict()
    state["cast"].append("phantom")
    with pytest.raises(TallyError):
        TallyAccumulator.from_dict(context, manifest, state)


def test_empty_tally_decrypts_to_zero(manifest, context, ceremony_5_3) -> None:
    empty = TallyAccumulator(context, manifest).result()
    assert all(ct.alpha == IDENTITY for _, _, ct in empty.ciphertexts())
    result, _ = decrypt_with(context, manifest, empty, ceremony_5_3[2], [1, 2, 4], SeededRandom(3))
    assert all(sum(r.votes.values()) == r.blank == r.ballots == 0 for r in result.contests.values())


def test_discrete_log_covers_two_million() -> None:
    table = DiscreteLog()
    for value in (0, 1, 2047, 2048, 1_234_567, 2_000_000):
        assert table.log(small_multiple(value)) == value
    with pytest.raises(DiscreteLogError):
        table.log(small_multiple(2_000_001))
    rnd = random.Random(5)
    v = rnd.randrange(2_000_000)
    assert table.log(Scalar.from_int(v) * G) == v
