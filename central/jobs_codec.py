"""The verification queue's result format (``central.jobs``): a worker writes a chunk's outcomes as JSON into
``sanduq_check_result``, the office instance reads them back as the checker port's values (``central.checker``).
Reading is parsing at the edge: a malformed answer raises (``ValueError``, ``KeyError`` or ``TypeError``, which
the instance turns into ``CheckerUnavailable``), never a half-read outcome.

Result format (one JSON object per chunk, ``sanduq_check_result.result``): ``{"outcomes": [...], "sums": [...]}``
or ``{"error": "<reason>"}`` (the worker's election is not the job's). An outcome is ``{"rejected": reason}`` or
``{"ballot_id", "style_id", "contest_ids": [..], "code": hex|null, "ciphertexts": [{"contest_id",
"selections": [[candidate, alpha_hex, beta_hex], ..], "blank": [alpha_hex, beta_hex]}]}``; a sum is
``{"contest_id", "indices": [..], "selections": [[candidate, alpha_hex, beta_hex], ..], "blank": [..]}``
(``central.checker.ContestSum``). Points are 32-byte ristretto255 encodings in lowercase hex.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from central.checker import BallotRejected, CheckedBallot, ContestCiphertexts, ContestSum


def _pairs(selections: Sequence[tuple[str, bytes, bytes]]) -> list[list[str]]:
    return [[c, a.hex(), b.hex()] for c, a, b in selections]


def encode_outcome(outcome: CheckedBallot | BallotRejected) -> dict[str, Any]:
    if isinstance(outcome, BallotRejected):
        return {"rejected": outcome.reason}
    return {
        "ballot_id": outcome.ballot_id,
        "style_id": outcome.style_id,
        "contest_ids": list(outcome.contest_ids),
        "code": outcome.code,
        "ciphertexts": [
            {
                "contest_id": c.contest_id,
                "selections": _pairs(c.selections),
                "blank": [c.blank[0].hex(), c.blank[1].hex()],
            }
            for c in outcome.ciphertexts
        ],
    }


def encode_sum(part: ContestSum) -> dict[str, Any]:
    return {
        "contest_id": part.contest_id,
        "indices": list(part.indices),
        "selections": _pairs(part.selections),
        "blank": [part.blank[0].hex(), part.blank[1].hex()],
    }


def _point(value: Any) -> bytes:
    data = bytes.fromhex(value) if isinstance(value, str) else b""
    if len(data) != 32:
        raise ValueError("a point is 32 bytes in hex")
    return data


def _selections(value: Any) -> tuple[tuple[str, bytes, bytes], ...]:
    if not isinstance(value, list):
        raise ValueError("selections: expected a list")
    out = []
    for item in value:
        if not (isinstance(item, list) and len(item) == 3 and isinstance(item[0], str)):
            raise ValueError("a selection is [candidate, alpha, beta]")
        out.append((item[0], _point(item[1]), _point(item[2])))
    return tuple(out)


def _blank(value: Any) -> tuple[bytes, bytes]:
    if not (isinstance(value, list) and len(value) == 2):
        raise ValueError("blank: expected [alpha, beta]")
    return _point(value[0]), _point(value[1])


def decode_outcome(value: Any) -> CheckedBallot | BallotRejected:
    if not isinstance(value, dict):
        raise ValueError("an outcome is an object")
    if "rejected" in value:
        return BallotRejected(str(value["rejected"]))
    code = value["code"]
    if code is not None and not isinstance(code, str):
        raise ValueError("code: expected hex or null")
    return CheckedBallot(
        str(value["ballot_id"]),
        str(value["style_id"]),
        tuple(str(c) for c in value["contest_ids"]),
        code,
        tuple(
            ContestCiphertexts(str(c["contest_id"]), _selections(c["selections"]), _blank(c["blank"]))
            for c in value["ciphertexts"]
        ),
    )


def decode_sum(value: Any) -> ContestSum:
    if not isinstance(value, dict):
        raise ValueError("a sum is an object")
    indices = value["indices"]
    if not (isinstance(indices, list) and all(isinstance(i, int) and not isinstance(i, bool) for i in indices)):
        raise ValueError("indices: expected integers")
    return ContestSum(
        str(value["contest_id"]), tuple(indices), _selections(value["selections"]), _blank(value["blank"])
    )
