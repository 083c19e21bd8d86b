"""The homomorphic tally: running sums of cast ballots' ciphertexts (ElectionGuard 2.1, section 3.5).

``TallyAccumulator.add`` costs two group additions per ciphertext (selections and blank indicators); it checks
the ballot's binding (election, style, style hash, shape) and refuses duplicates and challenged ballots, but
does not re-verify proofs: the caller (ingest) must have run ``verify_ballot`` first, as the verifier later
does for every published ballot. The running state serialises to JSON so a tally can resume after a restart.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final

from election.ballot import BLANK_LABEL, EncryptedBallot
from election.canonical import json_hash
from election.context import ElectionContext
from election.elgamal import Ciphertext
from election.group import IDENTITY_BYTES, GroupElement, GroupError, point_add
from election.manifest import BallotStyleId, CandidateId, ContestId, Manifest

TALLY_FORMAT_VERSION: Final = 1


class TallyError(ValueError):
    """A ballot cannot be added (duplicate, challenged, wrong election/style), or a tally state is malformed."""


@dataclass
class _ContestSums:
    """Running sums of one contest as point encodings: index i < len(candidates) is candidate i (manifest
    order), the last index is the blank indicator."""

    candidates: tuple[CandidateId, ...]
    alphas: list[bytes]
    betas: list[bytes]
    ballots: int

    @staticmethod
    def empty(candidates: tuple[CandidateId, ...]) -> _ContestSums:
        n = len(candidates) + 1
        return _ContestSums(candidates, [IDENTITY_BYTES] * n, [IDENTITY_BYTES] * n, 0)

    def ciphertext(self, i: int) -> Ciphertext:
        return Ciphertext(GroupElement(self.alphas[i]), GroupElement(self.betas[i]))

    def row(self) -> dict[str, Ciphertext]:
        row = {str(c): self.ciphertext(i) for i, c in enumerate(self.candidates)}
        row[BLANK_LABEL] = self.ciphertext(len(self.candidates))
        return row


@dataclass(frozen=True)
class EncryptedTally:
    """The aggregate ciphertexts of one election: per contest, one per candidate plus the blank indicator."""

    base_hash: bytes
    #: contest -> (candidate or '#blank') -> ciphertext, in manifest order
    contests: dict[ContestId, dict[str, Ciphertext]]
    #: contest -> number of cast ballots that contained the contest
    ballots_per_contest: dict[ContestId, int]
    ballots_per_style: dict[BallotStyleId, int]
    cast_ballot_ids_hash: str

    def ciphertexts(self) -> list[tuple[str, str, Ciphertext]]:
        return [(c, s, ct) for c, row in self.contests.items() for s, ct in row.items()]

    def to_dict(self) -> dict[str, Any]:
        return {
            "format_version": TALLY_FORMAT_VERSION,
            "base_hash": self.base_hash.hex(),
            "contests": {c: {s: ct.to_dict() for s, ct in row.items()} for c, row in self.contests.items()},
            "ballots_per_contest": dict(self.ballots_per_contest),
            "ballots_per_style": dict(self.ballots_per_style),
            "cast_ballot_ids_hash": self.cast_ballot_ids_hash,
        }

    @staticmethod
    def from_dict(data: Any) -> EncryptedTally:
        keys = {
            "format_version",
            "base_hash",
            "contests",
            "ballots_per_contest",
            "ballots_per_style",
            "cast_ballot_ids_hash",
        }
        if not isinstance(data, dict) or set(data) != keys or data["format_version"] != TALLY_FORMAT_VERSION:
            raise TallyError(f"an encrypted tally is an object with exactly {sorted(keys)} (format 1)")
        try:
            contests = {
                ContestId(c): {str(s): Ciphertext.from_dict(ct, aggregate=True) for s, ct in row.items()}
                for c, row in data["contests"].items()
            }
            return EncryptedTally(
                base_hash=bytes.fromhex(data["base_hash"]),
                contests=contests,
                ballots_per_contest={ContestId(c): int(n) for c, n in data["ballots_per_contest"].items()},
                ballots_per_style={BallotStyleId(s): int(n) for s, n in data["ballots_per_style"].items()},
                cast_ballot_ids_hash=str(data["cast_ballot_ids_hash"]),
            )
        except (GroupError, AttributeError, TypeError, ValueError) as exc:
            raise TallyError(f"encrypted tally: {exc}") from None


def ballot_ids_hash(ballot_ids: list[str]) -> str:
    """Hash of the sorted set of cast ballot ids (lets the verifier tie the tally to the published ballots)."""
    return json_hash(sorted(ballot_ids))


class TallyAccumulator:
    """Incremental homomorphic tally of cast ballots."""

    def __init__(self, context: ElectionContext, manifest: Manifest) -> None:
        self._base_hash = context.base_hash
        self._manifest = manifest
        self._contests: dict[ContestId, _ContestSums] = {
            c.id: _ContestSums.empty(tuple(c.selection_ids)) for c in manifest.contests
        }
        self._styles: dict[BallotStyleId, int] = {s.id: 0 for s in manifest.ballot_styles}
        self._style_hashes = manifest.style_hashes
        self._shapes = {
            s.id: tuple((c.contest, manifest.contests_by_id[c.contest].selection_ids) for c in s.contests)
            for s in manifest.ballot_styles
        }
        self._cast: set[str] = set()
        self._challenged: set[str] = set()

    @property
    def cast_count(self) -> int:
        return len(self._cast)

    def mark_challenged(self, ballot_id: str) -> None:
        """Record that a ballot was challenged (spoiled): it can never be added afterwards."""
        if ballot_id in self._cast:
            raise TallyError(f"ballot {ballot_id!r} was already cast and counted")
        self._challenged.add(ballot_id)

    def add(self, ballot: EncryptedBallot) -> None:
        """Add one verified cast ballot. Raises TallyError for a duplicate, challenged, foreign or misshapen one."""
        if not isinstance(ballot, EncryptedBallot):
            raise TallyError(f"only cast encrypted ballots can be tallied, not {type(ballot).__name__}")
        bid = ballot.ballot_id
        if bid in self._cast:
            raise TallyError(f"ballot {bid!r} is already in the tally")
        if bid in self._challenged:
            raise TallyError(f"ballot {bid!r} was challenged and can never be counted")
        if ballot.base_hash != self._base_hash:
            raise TallyError(f"ballot {bid!r} belongs to another election")
        shape = self._shapes.get(ballot.style_id)
        if shape is None or ballot.style_hash != self._style_hashes[ballot.style_id]:
            raise TallyError(f"ballot {bid!r}: unknown ballot style or style hash")
        if len(ballot.contests) != len(shape):
            raise TallyError(f"ballot {bid!r}: contests or selections do not match its ballot style")
        for enc, (contest_id, candidates) in zip(ballot.contests, shape, strict=True):
            sels = enc.selections
            if enc.contest_id != contest_id or len(sels) != len(candidates):
                raise TallyError(f"ballot {bid!r}: contests or selections do not match its ballot style")
            for sel, cand in zip(sels, candidates, strict=True):
                if sel.candidate_id != cand:
                    raise TallyError(f"ballot {bid!r}: contests or selections do not match its ballot style")
        # Checked in full before anything is added, so a refused ballot leaves the sums untouched.
        for enc in ballot.contests:
            sums = self._contests[enc.contest_id]
            alphas, betas = sums.alphas, sums.betas
            for i, sel in enumerate(enc.selections):
                ct = sel.ciphertext
                alphas[i] = point_add(alphas[i], ct.alpha.data)
                betas[i] = point_add(betas[i], ct.beta.data)
            alphas[-1] = point_add(alphas[-1], enc.blank.alpha.data)
            betas[-1] = point_add(betas[-1], enc.blank.beta.data)
            sums.ballots += 1
        self._styles[ballot.style_id] += 1
        self._cast.add(bid)

    def result(self) -> EncryptedTally:
        return EncryptedTally(
            base_hash=self._base_hash,
            contests={c: s.row() for c, s in self._contests.items()},
            ballots_per_contest={c: s.ballots for c, s in self._contests.items()},
            ballots_per_style=dict(self._styles),
            cast_ballot_ids_hash=ballot_ids_hash(list(self._cast)),
        )

    # ---- running state ------------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        return {
            "tally": self.result().to_dict(),
            "cast": sorted(self._cast),
            "challenged": sorted(self._challenged),
        }

    @staticmethod
    def from_dict(context: ElectionContext, manifest: Manifest, data: Any) -> TallyAccumulator:
        if not isinstance(data, dict) or set(data) != {"tally", "cast", "challenged"}:
            raise TallyError("a tally state is an object with exactly 'tally', 'cast' and 'challenged'")
        tally = EncryptedTally.from_dict(data["tally"])
        acc = TallyAccumulator(context, manifest)
        if tally.base_hash != acc._base_hash:
            raise TallyError("tally state belongs to another election")
        cast, challenged = data["cast"], data["challenged"]
        if not isinstance(cast, list) or not isinstance(challenged, list):
            raise TallyError("tally state: 'cast' and 'challenged' must be lists")
        acc._cast = {str(b) for b in cast}
        acc._challenged = {str(b) for b in challenged}
        if tally.cast_ballot_ids_hash != ballot_ids_hash(list(acc._cast)) or acc._cast & acc._challenged:
            raise TallyError("tally state: ballot ids are inconsistent with the tally")
        for cid, sums in acc._contests.items():
            row = tally.contests.get(cid)
            if row is None or set(row) != {*sums.candidates, BLANK_LABEL}:
                raise TallyError(f"tally state: contest {cid!r} does not match the manifest")
            keys = [*sums.candidates, BLANK_LABEL]
            sums.alphas = [row[k].alpha.data for k in keys]
            sums.betas = [row[k].beta.data for k in keys]
            sums.ballots = tally.ballots_per_contest.get(cid, -1)
            if sums.ballots < 0:
                raise TallyError(f"tally state: no ballot count for contest {cid!r}")
        if set(tally.ballots_per_style) != set(acc._styles):
            raise TallyError("tally state: styles do not match the manifest")
        acc._styles = dict(tally.ballots_per_style)
        return acc
