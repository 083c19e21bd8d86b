"""Threshold decryption of the tally with proofs (ElectionGuard 2.1, sections 3.6.2-3.6.4).

For each aggregate ciphertext (A, B):

* a present guardian i publishes M_i = s_i*A with a Chaum-Pedersen proof against K_i = K_{i,0};
* for a missing guardian i, each present guardian l publishes M_{i,l} = P_i(l)*A with a proof against
  sum_j l^j K_{i,j}; with any k present guardians Q, M_i = sum_{l in Q} w_l M_{i,l} (Lagrange);
* M = sum_i M_i = s*A, and the count t satisfies t*G = B - M (``election.dlog``).

Blank ballots per contest are the decrypted sum of blank indicators; undervotes = ballots * seats - votes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from election.ballot import BLANK_LABEL
from election.chaum_pedersen import ChaumPedersenProof, ProofError, prove_decryption, verify_decryption
from election.context import ElectionContext
from election.dlog import DiscreteLog, DiscreteLogError, shared_discrete_log
from election.group import IDENTITY, GroupElement, GroupError, Scalar
from election.keyceremony import lagrange_coefficient, public_share_value
from election.manifest import ContestId, Manifest
from election.tally import EncryptedTally


class DecryptionError(ValueError):
    """A decryption share is malformed or does not verify, or too few guardians took part."""


Key = tuple[str, str]  # (contest id, candidate id or '#blank')


@dataclass(frozen=True)
class PartialDecryption:
    """M and its proof for every tally ciphertext, from one guardian (``missing`` = None) or on behalf of a
    missing guardian (``missing`` = that guardian, ``guardian`` = the one who computed it)."""

    guardian: int
    missing: int | None
    values: dict[Key, tuple[GroupElement, ChaumPedersenProof]]

    def to_dict(self) -> dict[str, Any]:
        return {
            "guardian": self.guardian,
            "missing": self.missing,
            "values": [
                {"contest": c, "selection": s, "m": m.hex(), "proof": p.to_dict()}
                for (c, s), (m, p) in self.values.items()
            ],
        }

    @staticmethod
    def from_dict(data: Any) -> PartialDecryption:
        if not isinstance(data, dict) or set(data) != {"guardian", "missing", "values"}:
            raise DecryptionError("a partial decryption is an object with exactly 'guardian', 'missing', 'values'")
        try:
            values = {
                (str(v["contest"]), str(v["selection"])): (
                    GroupElement.parse_hex(v["m"], allow_identity=True),
                    ChaumPedersenProof.from_dict(v["proof"]),
                )
                for v in data["values"]
            }
            missing = data["missing"]
            return PartialDecryption(int(data["guardian"]), None if missing is None else int(missing), values)
        except (GroupError, ProofError, KeyError, TypeError, ValueError) as exc:
            raise DecryptionError(f"partial decryption: {exc}") from None


def _label(key: Key, guardian: int, missing: int | None) -> str:
    who = f"g{guardian}" if missing is None else f"g{missing}-by-g{guardian}"
    return f"tally/{key[0]}/{key[1]}/{who}"


def _verification_key(context: ElectionContext, guardian: int, missing: int | None) -> GroupElement:
    if missing is None:
        return context.guardian_public_key(guardian)
    return public_share_value(context.commitments[missing - 1], guardian)


def compute_share(
    context: ElectionContext,
    tally: EncryptedTally,
    *,
    guardian: int,
    secret: Scalar,
    seed: bytes,
    missing: int | None = None,
) -> PartialDecryption:
    """Guardian ``guardian``'s share (``secret`` = s_i), or its compensating share for ``missing``
    (``secret`` = P_missing(guardian), received in the key ceremony)."""
    base_hash = context.base_hash
    key = _verification_key(context, guardian, missing)
    values: dict[Key, tuple[GroupElement, ChaumPedersenProof]] = {}
    for contest, selection, ct in tally.ciphertexts():
        m = secret * ct.alpha
        label = _label((contest, selection), guardian, missing)
        values[(contest, selection)] = (
            m,
            prove_decryption(secret, key, ct.alpha, m, base_hash=base_hash, label=label, seed=seed),
        )
    return PartialDecryption(guardian, missing, values)


def verify_share(context: ElectionContext, tally: EncryptedTally, share: PartialDecryption) -> None:
    """Check every value of a share against the tally and the guardian's public commitments."""
    n = context.number_of_guardians
    if not 1 <= share.guardian <= n or (share.missing is not None and not 1 <= share.missing <= n):
        raise DecryptionError("share names an unknown guardian")
    if share.missing == share.guardian:
        raise DecryptionError("a guardian cannot compensate for itself")
    key = _verification_key(context, share.guardian, share.missing)
    expected = {(c, s): ct for c, s, ct in tally.ciphertexts()}
    if set(share.values) != set(expected):
        raise DecryptionError(f"share of guardian {share.guardian} does not cover exactly the tally's ciphertexts")
    for k, (m, proof) in share.values.items():
        alpha = expected[k].alpha
        if alpha.is_identity():
            if not m.is_identity():
                raise DecryptionError(f"share of guardian {share.guardian} for {k} is wrong")
            continue
        try:
            verify_decryption(
                proof, key, alpha, m, base_hash=context.base_hash, label=_label(k, share.guardian, share.missing)
            )
        except ProofError as exc:
            raise DecryptionError(f"guardian {share.guardian}: {exc}") from None


@dataclass(frozen=True)
class ContestResult:
    votes: dict[str, int]
    blank: int
    ballots: int
    seats: int

    @property
    def undervotes(self) -> int:
        return self.ballots * self.seats - sum(self.votes.values())

    def to_dict(self) -> dict[str, Any]:
        return {
            "votes": dict(self.votes),
            "blank": self.blank,
            "ballots": self.ballots,
            "seats": self.seats,
            "undervotes": self.undervotes,
        }


@dataclass(frozen=True)
class PlaintextTally:
    contests: dict[ContestId, ContestResult]

    def to_dict(self) -> dict[str, Any]:
        return {"contests": {c: r.to_dict() for c, r in self.contests.items()}}


def combine_shares(
    context: ElectionContext,
    tally: EncryptedTally,
    shares: Sequence[PartialDecryption],
) -> dict[Key, GroupElement]:
    """M = s*A for every ciphertext from the present guardians' shares and compensating shares (verified
    by the caller with ``verify_share``)."""
    n, k = context.number_of_guardians, context.quorum
    direct = {s.guardian: s for s in shares if s.missing is None}
    if len(direct) < k:
        raise DecryptionError(f"{len(direct)} guardian(s) present, the quorum is {k}")
    compensating: dict[int, dict[int, PartialDecryption]] = {}
    for s in shares:
        if s.missing is not None:
            if s.guardian not in direct:
                raise DecryptionError(f"guardian {s.guardian} compensates but did not decrypt")
            compensating.setdefault(s.missing, {})[s.guardian] = s
    keys = [(c, s) for c, s, _ in tally.ciphertexts()]
    total = dict.fromkeys(keys, IDENTITY)
    # Missing guardians compensated by the same helpers share the Lagrange weights, so
    # sum_i sum_l w_l M_{i,l} = sum_l w_l (sum_i M_{i,l}): one multiplication per helper, not per helper and
    # missing guardian.
    groups: dict[tuple[int, ...], list[int]] = {}
    for i in range(1, n + 1):
        if i in direct:
            for key in keys:
                total[key] = total[key] + direct[i].values[key][0]
            continue
        helpers = sorted(compensating.get(i, {}))[:k]
        if len(helpers) < k:
            raise DecryptionError(f"guardian {i} is missing and only {len(helpers)} guardian(s) compensated (need {k})")
        groups.setdefault(tuple(helpers), []).append(i)
    for helper_set, missing in groups.items():
        weights = {h: lagrange_coefficient(h, helper_set) for h in helper_set}
        for key in keys:
            acc = IDENTITY
            for h in helper_set:
                summed = IDENTITY
                for i in missing:
                    summed = summed + compensating[i][h].values[key][0]
                acc = acc + weights[h] * summed
            total[key] = total[key] + acc
    return total


def decrypt_tally(
    context: ElectionContext,
    manifest: Manifest,
    tally: EncryptedTally,
    shares: Sequence[PartialDecryption],
    dlog: DiscreteLog | None = None,
) -> PlaintextTally:
    """Verify every share, combine them, and decode the counts."""
    for share in shares:
        verify_share(context, tally, share)
    combined = combine_shares(context, tally, shares)
    table = dlog or shared_discrete_log()
    contests: dict[ContestId, ContestResult] = {}
    for cid, row in tally.contests.items():
        counts: dict[str, int] = {}
        for selection, ct in row.items():
            try:
                counts[selection] = table.log(ct.beta - combined[(cid, selection)])
            except DiscreteLogError:
                raise DecryptionError(f"{cid}/{selection}: the combined decryption is not a valid count") from None
        blank = counts.pop(BLANK_LABEL)
        contests[cid] = ContestResult(counts, blank, tally.ballots_per_contest[cid], manifest.contests_by_id[cid].seats)
    return PlaintextTally(contests)
