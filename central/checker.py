"""The port between ingest and the ballot checks: what ingest asks (``CheckRequest``), what it gets back
(``CheckedBallot`` or ``BallotRejected``, and the workers' per-contest ``ContestSum``), and the ``BallotChecker``
protocol it calls. No ballot is parsed or proof checked here (only ``sum_ballots`` adds group points): the real
checker over the election core is
``central.crypto.ElectionChecker`` (in-process pool) or ``central.jobs.QueueChecker`` (the job queue's workers);
tests of the ingest rules may pass another ``BallotChecker``.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from election.group import point_add


class BallotRejected(Exception):
    """The ballot cannot be accepted; ``reason`` is kept with it."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class CheckerUnavailable(RuntimeError):
    """The verification workers failed (a worker died); the submission should be retried (HTTP 5xx)."""


@dataclass(frozen=True)
class CheckRequest:
    """One ballot to check: its payload as received, whether it is a challenged ballot (the payload is then a
    ``ChallengedBallot``: the ballot and its revealed seed), the sending kiosk and that kiosk's genesis (hex,
    ``genesis_code(H_E, kiosk)``: what its confirmation codes are computed from)."""

    payload: dict[str, Any]
    kiosk_id: str
    genesis: str
    challenged: bool = False


@dataclass(frozen=True)
class ContestCiphertexts:
    """One contest's encrypted selections and blank indicator, as canonical point encodings (validated)."""

    contest_id: str
    selections: tuple[tuple[str, bytes, bytes], ...]  # (candidate id, alpha, beta)
    blank: tuple[bytes, bytes]


@dataclass(frozen=True)
class CheckedBallot:
    """A ballot whose proofs verified (and, if challenged, whose seed opens it to valid choices).

    ``code`` is the hex confirmation code of the ballot at its kiosk (None when the genesis given is not a
    well-formed code); ingest compares it with the claimed code and refuses a ballot whose code differs.
    """

    ballot_id: str
    style_id: str
    contest_ids: tuple[str, ...]
    code: str | None
    ciphertexts: tuple[ContestCiphertexts, ...]


@dataclass(frozen=True)
class ContestSum:
    """A verification worker's sum, for one contest, of the cast ballots of one chunk that verified: the ballots'
    positions in the submitted list (``indices``), their number, and the component-wise sums of their selection
    and blank ciphertexts (32-byte encodings). Ingest adds it to the running tally instead of the ballots one by
    one only when every one of ``indices`` is counted (see ``central.ingest``)."""

    contest_id: str
    indices: tuple[int, ...]
    selections: tuple[tuple[str, bytes, bytes], ...]  # (candidate id, sum of alphas, sum of betas)
    blank: tuple[bytes, bytes]

    @property
    def ballots(self) -> int:
        return len(self.indices)


def sum_ballots(ballots: Iterable[tuple[int, CheckedBallot]]) -> list[ContestSum]:
    """Per contest, the sums of the cast ballots given with their positions (in contest order of appearance)."""
    acc: dict[str, tuple[list[int], dict[str, list[bytes]], list[bytes]]] = {}
    for index, b in ballots:
        for enc in b.ciphertexts:
            if enc.contest_id not in b.contest_ids:
                continue
            entry = acc.get(enc.contest_id)
            if entry is None:
                sums = {c: [a, bt] for c, a, bt in enc.selections}
                acc[enc.contest_id] = ([index], sums, [enc.blank[0], enc.blank[1]])
                continue
            entry[0].append(index)
            for c, alpha, beta in enc.selections:
                pair = entry[1][c]
                pair[0], pair[1] = point_add(pair[0], alpha), point_add(pair[1], beta)
            entry[2][0], entry[2][1] = point_add(entry[2][0], enc.blank[0]), point_add(entry[2][1], enc.blank[1])
    return [
        ContestSum(cid, tuple(idx), tuple((c, p[0], p[1]) for c, p in sel.items()), (blank[0], blank[1]))
        for cid, (idx, sel, blank) in acc.items()
    ]


class BallotChecker(Protocol):
    def check(self, request: CheckRequest) -> CheckedBallot:
        """Parse and verify every proof; raises BallotRejected."""
        ...

    def check_many(self, requests: Sequence[CheckRequest]) -> list[CheckedBallot | BallotRejected]:
        """``check`` for each request (possibly in parallel), in the same order; a rejection is returned, not
        raised. Raises CheckerUnavailable if the checking machinery itself failed."""
        ...

    def submit_many(self, requests: Sequence[CheckRequest]) -> PendingChecks:
        """Start ``check_many`` and return at once (the caller does other work meanwhile, then asks for the
        outcomes); a checker without workers may do all the work when the outcomes are asked for."""
        ...

    def genesis(self, kiosk_id: str) -> str:
        """The hex code a kiosk's chain starts from."""
        ...

    def empty_tally(self, contest_id: str) -> dict[str, Any]: ...

    def add_to_tally(
        self,
        contest_id: str,
        state: dict[str, Any],
        ballots: Iterable[CheckedBallot],
        sums: Iterable[ContestSum] = (),
    ) -> dict[str, Any]:
        """Add the encrypted selections of ``ballots`` and the workers' ``sums`` for ``contest_id`` to a serialised
        tally state."""
        ...

    def close(self) -> None:
        """Release worker processes (idempotent)."""
        ...


class PendingChecks(Protocol):
    def outcomes(self) -> list[CheckedBallot | BallotRejected]:
        """Wait for every check (same order as submitted); raises CheckerUnavailable."""
        ...

    def cancel(self) -> None:
        """The outcomes are no longer wanted (the submission was refused meanwhile)."""
        ...

    def sums(self) -> list[ContestSum]:
        """After ``outcomes``: the workers' per-chunk, per-contest sums of the cast ballots that verified (empty
        when the checks ran inline)."""
        ...


def shutdown_quietly(checker: BallotChecker) -> None:
    with contextlib.suppress(Exception):
        checker.close()
