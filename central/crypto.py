"""The real ``BallotChecker`` (the port is ``central.checker``) over the election core: ballot parsing and proofs,
confirmation codes, tally sums.

Ingest never imports this module: it depends on ``central.checker`` only; the server and the end-to-end tests pass
``ElectionChecker``.

Parallel verification. The proof check is the office's dominant cost (pure CPU, one core per ballot), so
``ElectionChecker(..., workers=N)`` checks the ballots of a batch in a ``ProcessPoolExecutor`` of N processes.
Each worker receives the election context and manifest ONCE (as dicts, through the pool's initializer) and
then only ballot payloads (dicts) with the claimed previous code; it answers a small picklable
``CheckedBallot`` (ids, the recomputed confirmation code, the ciphertexts as raw bytes already validated) or a
``BallotRejected``. Nothing in a worker touches the database, so the per-batch transaction stays in the
calling process and stays atomic. ``close()`` shuts the pool down (the app calls it at shutdown); a worker
also exits on its own when its parent process disappears (no orphans after a SIGKILL of the server).
"""

from __future__ import annotations

import multiprocessing
import os
import threading
import time
from collections.abc import Iterable, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any

from central.checker import (
    BallotChecker,
    BallotRejected,
    CheckedBallot,
    CheckerUnavailable,
    CheckRequest,
    ContestCiphertexts,
    ContestSum,
    PendingChecks,
    shutdown_quietly,
    sum_ballots,
)
from election.ballot import BallotFormatError, BallotVerificationError, EncryptedBallot, parse_and_verify_ballot
from election.benaloh import ChallengedBallot, verify_challenge
from election.confirmation import confirmation_code, genesis_code
from election.context import ElectionContext
from election.elgamal import ZERO_CIPHERTEXT
from election.group import point_add
from election.manifest import ContestId, Manifest

__all__ = [  # the port's names, re-exported: callers outside central/ import them from here
    "BallotChecker",
    "BallotRejected",
    "CheckRequest",
    "CheckedBallot",
    "CheckerUnavailable",
    "ContestCiphertexts",
    "ContestSum",
    "ElectionChecker",
    "PendingChecks",
    "check_ballot",
    "default_workers",
    "shutdown_quietly",
    "sum_ballots",
]


class _Deferred:
    """Checks done inline when the outcomes are asked for (no worker processes)."""

    def __init__(self, checker: BallotChecker, requests: Sequence[CheckRequest]) -> None:
        self._checker, self._requests = checker, requests

    def outcomes(self) -> list[CheckedBallot | BallotRejected]:
        return self._checker.check_many(self._requests)

    def cancel(self) -> None:
        self._requests = ()

    def sums(self) -> list[ContestSum]:
        return []


class _Pooled:
    """Chunks of a batch running in the worker pool."""

    def __init__(self, checker: ElectionChecker, pool: ProcessPoolExecutor, futures: list[Future[Any]]) -> None:
        self._checker, self._pool, self._futures = checker, pool, futures
        self._sums: list[ContestSum] = []

    def outcomes(self) -> list[CheckedBallot | BallotRejected]:
        out: list[CheckedBallot | BallotRejected] = []
        try:
            for f in self._futures:
                checked, sums = f.result()
                out.extend(checked)
                self._sums.extend(sums)
        except BrokenProcessPool:
            self._checker._discard(self._pool)  # a new pool is started for the next batch
            raise CheckerUnavailable("a ballot verification worker died; retry the submission") from None
        return out

    def cancel(self) -> None:
        for f in self._futures:
            f.cancel()

    def sums(self) -> list[ContestSum]:
        return self._sums


def _compact(ballot: EncryptedBallot) -> tuple[ContestCiphertexts, ...]:
    return tuple(
        ContestCiphertexts(
            c.contest_id,
            tuple((s.candidate_id, s.ciphertext.alpha.data, s.ciphertext.beta.data) for s in c.selections),
            (c.blank.alpha.data, c.blank.beta.data),
        )
        for c in ballot.contests
    )


def check_ballot(context: ElectionContext, manifest: Manifest, request: CheckRequest) -> CheckedBallot:
    """The whole CPU-bound check of one ballot (runs in a worker process or inline). Raises BallotRejected."""
    try:
        if request.challenged:
            challenged = ChallengedBallot.from_dict(request.payload)
            verify_challenge(context, manifest, challenged)
            ballot = challenged.ballot
        else:
            ballot = parse_and_verify_ballot(context, manifest, request.payload)
    except BallotFormatError as exc:
        what = "challenged ballot (ballot and revealed seed)" if request.challenged else "encrypted ballot"
        raise BallotRejected(f"malformed {what}: {exc}") from None
    except BallotVerificationError as exc:
        raise BallotRejected(f"proof check failed: {exc.reason}") from None
    code: str | None = None
    try:
        genesis = bytes.fromhex(request.genesis)
    except ValueError:
        genesis = b""
    if len(genesis) == 32:
        code = confirmation_code(genesis, request.kiosk_id, ballot).hex()
    return CheckedBallot(
        ballot.ballot_id,
        ballot.style_id,
        tuple(c.contest_id for c in ballot.contests) if not request.challenged else (),
        code,
        _compact(ballot),
    )


# ---- worker process side ------------------------------------------------------------------------------

_worker_election: tuple[ElectionContext, Manifest] | None = None


def _watch_parent(parent: int) -> None:
    while True:
        time.sleep(1.0)
        if os.getppid() != parent:  # the office died without shutting the pool down: do not linger
            os._exit(0)


def _init_worker(context: dict[str, Any], manifest: dict[str, Any], parent: int) -> None:
    global _worker_election  # noqa: PLW0603  (one election per worker process, set once by the initializer)
    _worker_election = (ElectionContext.from_dict(context), Manifest.from_dict(manifest))
    threading.Thread(target=_watch_parent, args=(parent,), daemon=True, name="parent-watch").start()


def _check_in_worker(request: CheckRequest) -> CheckedBallot | BallotRejected:
    if _worker_election is None:  # pragma: no cover  (the initializer always ran)
        raise RuntimeError("verification worker was not initialised")
    try:
        return check_ballot(_worker_election[0], _worker_election[1], request)
    except BallotRejected as exc:
        return exc


def _check_chunk_in_worker(
    requests: list[CheckRequest], start: int
) -> tuple[list[CheckedBallot | BallotRejected], list[ContestSum]]:
    """The chunk's outcomes and, per contest, the sum of its cast ballots that verified (positions from
    ``start``): the office adds one sum per contest and chunk instead of every ballot."""
    out = [_check_in_worker(r) for r in requests]
    cast = [
        (start + i, o)
        for i, (r, o) in enumerate(zip(requests, out, strict=True))
        if isinstance(o, CheckedBallot) and not r.challenged
    ]
    return out, sum_ballots(cast) if len(cast) > 1 else []


# ---- the checker --------------------------------------------------------------------------------------


def default_workers() -> int:
    """One verification process per core the office may use."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover  (not Linux)
        return os.cpu_count() or 1


class ElectionChecker:
    """``BallotChecker`` over the election core (``verify_ballot``, ``verify_challenge``, confirmation codes,
    ElGamal sums).

    ``workers`` >= 2 checks batches in that many processes (created on first use, spawned, not forked: the
    office has threads and database connections); 0 or 1 checks inline in the calling thread. A batch of a
    single ballot is always checked inline (no inter-process round trip for nothing).

    The tally state is, per contest, the component-wise sum of every cast ballot's selection and blank
    ciphertexts (homomorphic: it encrypts the per-candidate counts), serialised as hex points.
    """

    def __init__(self, context: ElectionContext, manifest: Manifest, *, workers: int = 0) -> None:
        self.context = context
        self.manifest = manifest
        self.workers = workers
        self._base_hash = context.base_hash
        self._pool: ProcessPoolExecutor | None = None
        self._lock = threading.Lock()
        self._closed = False

    # -- pool lifecycle

    def _executor(self) -> ProcessPoolExecutor:
        with self._lock:
            if self._closed:
                raise CheckerUnavailable("the ballot checker is shut down")
            if self._pool is None:
                self._pool = ProcessPoolExecutor(
                    max_workers=self.workers,
                    mp_context=multiprocessing.get_context("spawn"),
                    initializer=_init_worker,
                    initargs=(self.context.to_dict(), self.manifest.to_dict(), os.getpid()),
                )
            return self._pool

    def _discard(self, pool: ProcessPoolExecutor) -> None:
        with self._lock:
            if self._pool is pool:
                self._pool = None
        pool.shutdown(wait=True, cancel_futures=True)

    def close(self) -> None:
        with self._lock:
            self._closed = True
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)

    @property
    def worker_pids(self) -> list[int]:
        """The live worker processes (for tests and operators)."""
        pool = self._pool
        processes = getattr(pool, "_processes", None) or {}
        return sorted(int(p) for p in processes)

    # -- checks

    def check(self, request: CheckRequest) -> CheckedBallot:
        return check_ballot(self.context, self.manifest, request)

    def check_many(self, requests: Sequence[CheckRequest]) -> list[CheckedBallot | BallotRejected]:
        if self.workers < 2 or len(requests) < 2:
            out: list[CheckedBallot | BallotRejected] = []
            for r in requests:
                try:
                    out.append(self.check(r))
                except BallotRejected as exc:
                    out.append(exc)
            return out
        return self.submit_many(requests).outcomes()

    def submit_many(self, requests: Sequence[CheckRequest]) -> PendingChecks:
        if self.workers < 2 or len(requests) < 2:
            return _Deferred(self, requests)
        pool = self._executor()
        # About five chunks per worker (5 ballots each for a batch of 50 on 2 workers): few round trips, and the
        # workers finish close together (a worker idles at most while the other ends its last small chunk).
        size = max(1, min(16, -(-len(requests) // (5 * self.workers))))
        try:
            futures = [
                pool.submit(_check_chunk_in_worker, list(requests[i : i + size]), i)
                for i in range(0, len(requests), size)
            ]
        except BrokenProcessPool:
            self._discard(pool)
            raise CheckerUnavailable("a ballot verification worker died; retry the submission") from None
        return _Pooled(self, pool, futures)

    def genesis(self, kiosk_id: str) -> str:
        return genesis_code(self._base_hash, kiosk_id).hex()

    def empty_tally(self, contest_id: str) -> dict[str, Any]:
        contest = self.manifest.contests_by_id[ContestId(contest_id)]
        zero = ZERO_CIPHERTEXT.to_dict()
        return {
            "contest_id": contest_id,
            "ballots": 0,
            "selections": dict.fromkeys(contest.selection_ids, zero),
            "blank": zero,
        }

    def add_to_tally(
        self,
        contest_id: str,
        state: dict[str, Any],
        ballots: Iterable[CheckedBallot],
        sums: Iterable[ContestSum] = (),
    ) -> dict[str, Any]:
        """Component-wise sums on the 32-byte encodings (libsodium additions, no objects per ballot). The stored
        state is the office's own sum of validated points (decoded, not re-validated here: libsodium's addition
        refuses an encoding that is not a point, and ``results.encrypted_tally`` validates the final state when it
        is read for decryption); the ballots' points were validated when the ballots were parsed."""
        alphas: dict[str, bytes] = {}
        betas: dict[str, bytes] = {}
        for c, ct in state["selections"].items():
            alphas[c], betas[c] = _encoding(ct["alpha"]), _encoding(ct["beta"])
        blank_a, blank_b = _encoding(state["blank"]["alpha"]), _encoding(state["blank"]["beta"])
        count = int(state["ballots"])
        for part in sums:
            if part.contest_id != contest_id:
                continue
            for candidate, alpha, beta in part.selections:
                alphas[candidate] = point_add(alphas[candidate], alpha)
                betas[candidate] = point_add(betas[candidate], beta)
            blank_a, blank_b = point_add(blank_a, part.blank[0]), point_add(blank_b, part.blank[1])
            count += part.ballots
        for b in ballots:
            for enc in b.ciphertexts:
                if enc.contest_id != contest_id:
                    continue
                for candidate, alpha, beta in enc.selections:
                    alphas[candidate] = point_add(alphas[candidate], alpha)
                    betas[candidate] = point_add(betas[candidate], beta)
                blank_a, blank_b = point_add(blank_a, enc.blank[0]), point_add(blank_b, enc.blank[1])
                count += 1
        return {
            "contest_id": contest_id,
            "ballots": count,
            "selections": {c: _ciphertext_dict(alphas[c], betas[c]) for c in alphas},
            "blank": _ciphertext_dict(blank_a, blank_b),
        }


def _encoding(value: Any) -> bytes:
    data = bytes.fromhex(value) if isinstance(value, str) else b""
    if len(data) != 32:
        raise ValueError("tally state: a point encoding is 32 bytes in hex")
    return data


def _ciphertext_dict(alpha: bytes, beta: bytes) -> dict[str, str]:
    return {"alpha": alpha.hex(), "beta": beta.hex()}  # Ciphertext.to_dict's form
