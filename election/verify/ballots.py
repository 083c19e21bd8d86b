"""Checks ``ballots`` and ``challenged``: every cast ballot's proofs (in several processes with ``--jobs N``, in
order, memory flat) and every challenged ballot opened with its published seed (docs/election-record.md, checks 2
and 3)."""

from __future__ import annotations

import itertools
import os
import signal
from collections import deque
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

from election.group import IDENTITY, G, GroupElement, base_mul, hash_to_scalar, point_add
from election.manifest import Contest
from election.verify.parameters import check_parameters
from election.verify.parts import Progress
from election.verify.primitives import Invalid, RunStopped, code_key, obj, point_deferred, range_proof_holds, shared
from election.verify.state import BLANK, State, ballot_files, ballot_hash
from election.verify.strict_json import load_with_digest


def _verify_ballot(
    s: State, raw: Any, where: str
) -> Iterator[tuple[Contest, str, list[tuple[GroupElement, GroupElement]], tuple[GroupElement, GroupElement]]]:
    b = obj(raw, ["format_version", "ballot_id", "style_id", "style_hash", "base_hash", "contests"], where)
    if b["format_version"] != 1 or b["base_hash"] != s.h_e.hex():
        raise Invalid(f"{where}: not bound to this election (base hash or version)")
    style = s.m.styles_by_id.get(b["style_id"])
    if style is None:
        raise Invalid(f"{where}: unknown ballot style {b['style_id']!r}")
    if b["style_hash"] != s.m.style_hashes[style.id]:
        raise Invalid(f"{where}: style hash does not match ballot style {style.id!r}")
    if not isinstance(b["contests"], list) or [
        c.get("contest_id") if isinstance(c, dict) else None for c in b["contests"]
    ] != list(style.contest_ids):
        raise Invalid(f"{where}: contests do not match ballot style {style.id!r}")
    bid = b["ballot_id"]
    for raw_contest in b["contests"]:
        c = obj(raw_contest, ["contest_id", "selections", "blank", "blank_proof", "limit_proof"], where)
        contest = s.m.contests_by_id[c["contest_id"]]
        sels = c["selections"]
        if not isinstance(sels, list) or [x.get("candidate_id") if isinstance(x, dict) else None for x in sels] != list(
            contest.selection_ids
        ):
            raise Invalid(f"{where}: selections of {contest.id!r} do not match the ballot style")
        cts = []
        for x in sels:
            x_obj = obj(x, ["candidate_id", "ciphertext", "proof"], where)
            ct = obj(x_obj["ciphertext"], ["alpha", "beta"], where)
            # decoded (checked as group elements) by the range proof's own operations, not twice
            alpha, beta = point_deferred(ct["alpha"]), point_deferred(ct["beta"], identity=True)
            label = f"{bid}/{contest.id}/{x_obj['candidate_id']}"
            range_proof_holds(x_obj["proof"], alpha, beta, 0, 1, s.key, s.h_e, label, decoded=False)
            cts.append((alpha, beta))
        blank_ct = obj(c["blank"], ["alpha", "beta"], where)
        blank = (point_deferred(blank_ct["alpha"]), point_deferred(blank_ct["beta"], identity=True))
        range_proof_holds(c["blank_proof"], *blank, 0, 1, s.key, s.h_e, f"{bid}/{contest.id}/{BLANK}", decoded=False)
        ta, tb = blank
        for _ in range(contest.seats - 1):
            ta, tb = ta + blank[0], tb + blank[1]
        for a, b2 in cts:
            ta, tb = ta + a, tb + b2
        range_proof_holds(c["limit_proof"], ta, tb, 1, contest.seats, s.key, s.h_e, f"{bid}/{contest.id}")
        yield contest, bid, cts, blank


#: (ballot id, kiosk, confirmation code, style id, ballot hash, SHA-256 of the file) of one verified cast ballot
CastEntry = tuple[str, str, Any, str, bytes, bytes]
#: partial sums of a chunk of cast ballots: (contest, selection) -> (alpha, beta) encodings
PartialTally = dict[tuple[str, str], tuple[bytes, bytes]]
_R = TypeVar("_R")
CHUNK = 64
"""Cast ballots per task when the proofs are checked in several processes."""
AHEAD = 4
"""Tasks per process submitted ahead of the one whose result is consumed (the pool is never idle, and never holds
more than a few chunks' results)."""


def _verify_cast_file(s: State, path: Path, sums: PartialTally) -> CastEntry:
    """Every check of one cast-ballot file that needs no other file; adds its ciphertexts to ``sums``."""
    data, digest = load_with_digest(path)
    entry = obj(data, ["kiosk", "confirmation_code", "ballot"], path.name)
    raw = entry["ballot"]
    bid = raw.get("ballot_id") if isinstance(raw, dict) else None
    if not isinstance(bid, str) or path.name != f"{bid}.json":
        raise Invalid(f"{path.name}: file name does not match its ballot id")
    zero = (IDENTITY.data, IDENTITY.data)
    for contest, _bid, cts, blank in _verify_ballot(s, raw, path.name):
        for cand, ct in zip([*contest.selection_ids, BLANK], [*cts, blank], strict=True):
            a, b = sums.get((contest.id, cand), zero)
            sums[(contest.id, cand)] = (point_add(a, ct[0].data), point_add(b, ct[1].data))
    return bid, entry["kiosk"], entry["confirmation_code"], raw["style_id"], ballot_hash(raw), digest


_WORKER: dict[str, State] = {}
"""The record's parameters in a worker process (loaded and checked once, by the pool's initializer)."""
_WORKER_SUMS: PartialTally = {}
"""The sums of every cast ballot this worker process has checked so far (in this run: one pool per run)."""
_WORKER_DONE = [0]
"""How many chunks this worker process has checked (orders its snapshots of ``_WORKER_SUMS``)."""

#: one worker's sums so far: (process id, chunks it had checked, the sums of their cast ballots)
SumsSnapshot = tuple[int, int, PartialTally]


def _init_worker(root: str) -> None:
    # Ctrl-C and SIGTERM are the main process's to handle: it stops the pool after the chunks being checked
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    state = State(Path(root))
    check_parameters(state, lambda _done, _total: None)  # the manifest, H_E and the joint key, checked again
    _WORKER["state"] = state
    _WORKER_SUMS.clear()
    _WORKER_DONE[0] = 0


def _verify_cast_chunk(paths: list[str]) -> tuple[list[CastEntry], SumsSnapshot]:
    """The chunk's entries, and this worker's running sums including the chunk: each worker adds every ballot it
    checks into one set of sums, so the main process adds only one set per worker at the end, instead of one
    per chunk (64 ballots of random styles share few contests: about 18 additions per ballot)."""
    entries = [_verify_cast_file(_WORKER["state"], Path(p), _WORKER_SUMS) for p in paths]
    _WORKER_DONE[0] += 1
    return entries, (os.getpid(), _WORKER_DONE[0], _WORKER_SUMS)


def _chunks_of(names: Iterator[str]) -> Iterator[list[str]]:
    while chunk := list(itertools.islice(names, CHUNK)):
        yield chunk


def _in_processes(s: State, task: Callable[[list[str]], _R], directory: Path, names: Iterator[str]) -> Iterator[_R]:
    """``task`` over chunks of the files ``names`` of ``directory`` in ``s.jobs`` processes, the results in order
    (the first bad file is the one reported), at most a few chunks ahead of the one consumed: memory stays flat
    however many ballots the record holds."""
    from concurrent.futures import Future, ProcessPoolExecutor  # only the parallel path needs it
    from concurrent.futures.process import BrokenProcessPool

    pool = ProcessPoolExecutor(s.jobs, initializer=_init_worker, initargs=(str(s.root),))
    pending: deque[Future[_R]] = deque()
    try:
        for chunk in _chunks_of(names):
            pending.append(pool.submit(task, [str(directory / n) for n in chunk]))
            if len(pending) >= AHEAD * s.jobs:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()
    except BrokenProcessPool:
        raise RunStopped(
            "a process checking the ballots stopped (killed, or out of memory): no verdict; run the verifier "
            "again (with fewer --jobs if memory is short)"
        ) from None
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def _stage_cast_names(s: State) -> int:
    """The names of ``ballots/cast/*.json`` this run checks (all, or its shard's) into the index, to be read back
    sorted (``State.cast.staged_names``) without a list of them in memory; returns how many."""
    directory = s.root / "ballots" / "cast"
    if not directory.is_dir():
        return s.cast.stage_names(())
    with os.scandir(directory) as entries:
        return s.cast.stage_names(
            e.name for e in entries if e.name.endswith(".json") and (s.shard is None or s.shard.holds(e.name))
        )


def check_cast_ballots(s: State, progress: Progress) -> str:
    if s.merge:
        from election.verify.merge import merge_shard_results

        return merge_shard_results(s, progress)
    total = _stage_cast_names(s)
    per_style: dict[str, int] = {}
    sums: PartialTally = {}
    parallel = s.jobs > 1 and total > CHUNK

    #: the latest snapshot of each worker's running sums (the one taken after its most chunks)
    latest: dict[int, SumsSnapshot] = {}

    def chunks() -> Iterator[list[CastEntry]]:
        names = s.cast.staged_names()
        if not parallel:
            for name in names:
                yield [_verify_cast_file(s, s.root / "ballots" / "cast" / name, sums)]
            return
        for entries, snapshot in _in_processes(s, _verify_cast_chunk, s.root / "ballots" / "cast", names):
            pid, count, _sums = snapshot
            if pid not in latest or latest[pid][1] < count:
                latest[pid] = snapshot
            yield entries

    done = 0
    for entries in chunks():
        for bid, kiosk, code, style_id, bhash, digest in entries:
            if bid in s.cast:
                raise Invalid(f"{bid}: cast twice")
            s.cast.add(bid, (shared(kiosk), shared(style_id), bhash, code_key(code)))
            if s.shard is not None:  # only a shard result needs them
                s.file_digests[f"cast/{bid}.json"] = digest
            per_style[style_id] = per_style.get(style_id, 0) + 1
        done += len(entries)
        progress(done, total)
    for _pid, _count, partial in latest.values():  # every chunk is in its worker's latest snapshot
        for key, (a, b) in partial.items():
            x, y = sums.get(key, (IDENTITY.data, IDENTITY.data))
            sums[key] = (point_add(x, a), point_add(y, b))
    for (contest_id, cand), (a, b) in sums.items():
        s.tally.setdefault(contest_id, {})[cand] = (GroupElement(a), GroupElement(b))
    styles = ", ".join(f"{k}: {v}" for k, v in sorted(per_style.items()))
    jobs = f"; {s.jobs} processes" if parallel else ""
    shard = f" of shard {s.shard}" if s.shard is not None else ""
    return f"{total} cast ballots{shard}, every proof valid ({styles}){jobs}"


#: (ballot id, kiosk, confirmation code, ballot hash, SHA-256 of the file) of one opened challenged ballot
ChallengedEntry = tuple[str, Any, Any, bytes, bytes]


def _verify_challenged_file(s: State, path: Path) -> ChallengedEntry:
    """Every check of one challenged-ballot file that needs no other file: its proofs, and its opening with the
    published seed to valid choices."""
    data, digest = load_with_digest(path)
    entry = obj(data, ["kiosk", "confirmation_code", "challenged"], path.name)
    ch = obj(entry["challenged"], ["ballot", "seed"], path.name)
    raw = ch["ballot"]
    bid = raw.get("ballot_id") if isinstance(raw, dict) else None
    if not isinstance(bid, str) or path.name != f"{bid}.json":
        raise Invalid(f"{path.name}: file name does not match its ballot id")
    try:
        seed = bytes.fromhex(ch["seed"])
    except (TypeError, ValueError):
        raise Invalid(f"{bid}: bad seed") from None
    for contest, _bid, cts, blank in _verify_ballot(s, raw, path.name):
        marked = 0
        for cand, (alpha, beta) in zip([*contest.selection_ids, BLANK], [*cts, blank], strict=True):
            xi = hash_to_scalar("selection-nonce", seed, s.h_e, bid, contest.id, cand)
            if base_mul(xi) != alpha:
                raise Invalid(f"{bid}: the revealed seed does not open {contest.id}/{cand}")
            message = beta - xi * s.key
            if message not in (IDENTITY, G):
                raise Invalid(f"{bid}: {contest.id}/{cand} does not open to 0 or 1")
            if cand != BLANK:
                marked += message == G
            elif (message == G) != (marked == 0):
                raise Invalid(f"{bid}: blank indicator of {contest.id} is inconsistent")
    return bid, entry["kiosk"], entry["confirmation_code"], ballot_hash(raw), digest


def _verify_challenged_chunk(paths: list[str]) -> list[ChallengedEntry]:
    return [_verify_challenged_file(_WORKER["state"], Path(p)) for p in paths]


def check_challenged_ballots(s: State, progress: Progress) -> str:
    if s.merge:
        return f"{len(s.challenged_codes)} challenged ballots open to valid choices, none counted (from the shards)"
    names = ballot_files(s, "challenged")
    directory = s.root / "ballots" / "challenged"
    entries: Iterator[ChallengedEntry]
    if s.jobs > 1 and len(names) > CHUNK:  # a national record has thousands (one ballot in 200 here)
        chunks = _in_processes(s, _verify_challenged_chunk, directory, iter(names))
        entries = (entry for chunk in chunks for entry in chunk)
    else:
        entries = (_verify_challenged_file(s, directory / name) for name in names)
    for i, (bid, kiosk, code, bhash, digest) in enumerate(entries, start=1):
        if bid in s.cast:
            raise Invalid(f"{bid}: challenged ballot is also counted as cast")
        s.challenged_codes[bid] = code
        s.challenged_kiosk[bid] = kiosk
        s.challenged_hash[bid] = bhash
        if s.shard is not None:
            s.file_digests[f"challenged/{bid}.json"] = digest
        progress(i, len(names))
    shard = f" of shard {s.shard}" if s.shard is not None else ""
    return f"{len(names)} challenged ballots{shard} open to valid choices, none counted"
