"""The one strict parser of an encrypted ballot's JSON form (``EncryptedBallot.from_dict`` and the ingest's
``parse_and_verify_ballot`` call it): exact keys, lower-case hex, bounded identifiers; each ciphertext point is
validated here, or (``deferred``) left to the proof verification's own group operations."""

from __future__ import annotations

from typing import Any

from election.ballot.model import (
    BALLOT_FORMAT_VERSION,
    MAX_BALLOT_ID_LENGTH,
    BallotFormatError,
    EncryptedBallot,
    EncryptedContest,
    EncryptedSelection,
)
from election.chaum_pedersen import RangeProof
from election.elgamal import Ciphertext
from election.manifest import BallotStyleId, CandidateId, ContestId


def _obj(data: Any, keys: set[str], what: str) -> dict[str, Any]:
    if not isinstance(data, dict) or set(data) != keys:
        raise BallotFormatError(f"{what}: expected an object with exactly {sorted(keys)}")
    return data


def _str(value: Any, what: str, max_length: int = MAX_BALLOT_ID_LENGTH) -> str:
    if not isinstance(value, str) or not value or len(value) > max_length:
        raise BallotFormatError(f"{what}: expected a non-empty string of at most {max_length} characters")
    return value


def parse_ballot(data: Any, *, deferred: bool = False) -> EncryptedBallot:
    """Raises BallotFormatError, or GroupError/ProofError for a bad point or proof value (callers wrap them)."""
    d = _obj(data, {"format_version", "ballot_id", "style_id", "style_hash", "base_hash", "contests"}, "ballot")
    if d["format_version"] != BALLOT_FORMAT_VERSION or type(d["format_version"]) is not int:
        raise BallotFormatError(f"ballot: unsupported format_version {d['format_version']!r}")
    base_hash = d["base_hash"]
    if not isinstance(base_hash, str) or len(base_hash) != 64 or base_hash != base_hash.lower():
        raise BallotFormatError("ballot.base_hash: expected 64 lower-case hex digits")
    try:
        base = bytes.fromhex(base_hash)
    except ValueError:
        raise BallotFormatError("ballot.base_hash: not hexadecimal") from None
    if not isinstance(d["contests"], list):
        raise BallotFormatError("ballot.contests: expected a list")
    contests = []
    for i, c in enumerate(d["contests"]):
        cd = _obj(c, {"contest_id", "selections", "blank", "blank_proof", "limit_proof"}, f"contests[{i}]")
        if not isinstance(cd["selections"], list):
            raise BallotFormatError(f"contests[{i}].selections: expected a list")
        selections = []
        for j, s in enumerate(cd["selections"]):
            sd = _obj(s, {"candidate_id", "ciphertext", "proof"}, f"contests[{i}].selections[{j}]")
            selections.append(
                EncryptedSelection(
                    CandidateId(_str(sd["candidate_id"], "candidate_id")),
                    Ciphertext.from_dict(sd["ciphertext"], deferred=deferred),
                    RangeProof.from_dict(sd["proof"]),
                )
            )
        contests.append(
            EncryptedContest(
                ContestId(_str(cd["contest_id"], "contest_id")),
                tuple(selections),
                Ciphertext.from_dict(cd["blank"], deferred=deferred),
                RangeProof.from_dict(cd["blank_proof"]),
                RangeProof.from_dict(cd["limit_proof"]),
            )
        )
    return EncryptedBallot(
        ballot_id=_str(d["ballot_id"], "ballot_id"),
        style_id=BallotStyleId(_str(d["style_id"], "style_id")),
        style_hash=_str(d["style_hash"], "style_hash", 64),
        base_hash=base,
        contests=tuple(contests),
    )
