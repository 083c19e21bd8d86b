"""The checks the verifier runs, in order. Each reads the raw JSON of the record and raises ``Invalid``."""

from __future__ import annotations

import hashlib
import itertools
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from election.canonical import canonical_json, json_hash
from election.group import IDENTITY, G, GroupElement, base_mul, hash_bytes, hash_to_scalar, point_add
from election.manifest import BallotStyleId, Contest, Manifest, ManifestError
from election.verify.closes import check_closes
from election.verify.office_audit import check_office_audit
from election.verify.package_part import PATTERNS as PACKAGE_PATTERNS
from election.verify.package_part import check_package, not_run
from election.verify.parts import Check, Progress, RecordPart, Stage
from election.verify.primitives import (
    Invalid,
    batch_root,
    code_key,
    code_text,
    confirmation,
    decryption_proof_holds,
    genesis,
    lagrange,
    obj,
    point,
    polynomial_point,
    range_proof_holds,
    scalar,
    schnorr_holds,
    shared,
    small,
)
from election.verify.remote import FILES as REMOTE_FILES
from election.verify.remote import check_remote, check_remote_turnout
from election.verify.shard import Shard, ballot_names
from election.verify.strict_json import load, load_with_digest

BLANK = "#blank"
GROUP_NAME = "ristretto255/libsodium"
#: why a chain link is published without its ballot (docs/election-record.md); the verifier's own copy
WITHHELD_REASONS = ("provisional-not-counted", "flagged-not-counted", "refused-at-ingest")
WITHHELD_KEYS = ["status", "ballot_id", "code", "ballot_hash", "reason"]
CHAIN_KEYS = ["format_version", "kiosk", "batches"]
BATCH_KEYS = ["previous_root", "root", "links"]


#: what the whole-record checks keep of a verified cast ballot: (kiosk, style id, ballot hash, confirmation code)
CastInfo = tuple[str, str, bytes, Any]


@dataclass
class State:
    root: Path
    manifest: Manifest | None = None
    n: int = 0
    k: int = 0
    key: GroupElement = IDENTITY
    h_e: bytes = b""
    commitments: list[list[GroupElement]] = field(default_factory=list)
    #: id -> (kiosk, style, ballot hash, confirmation code as published): all the whole-record checks keep of a
    #: cast ballot (a few hundred bytes each: about 150 MB for 500,000 ballots)
    cast: dict[str, CastInfo] = field(default_factory=dict)
    challenged_codes: dict[str, str] = field(default_factory=dict)
    challenged_kiosk: dict[str, str] = field(default_factory=dict)
    challenged_hash: dict[str, bytes] = field(default_factory=dict)
    withheld: dict[str, str] = field(default_factory=dict)  # id -> reason: in a chain, never counted
    #: kiosk -> its batch chain as recomputed by the chains check: per batch, its root (hex) and its links counted
    #: by status (cast, challenged, withheld, provisional-not-counted), for the closes check
    batches: dict[str, list[tuple[str, dict[str, int]]]] = field(default_factory=dict)
    tally: dict[str, dict[str, tuple[GroupElement, GroupElement]]] = field(default_factory=dict)
    combined: dict[tuple[str, str], GroupElement] = field(default_factory=dict)
    jobs: int = 1
    """Processes for the cast ballots' proofs (the bulk of the work); 1 checks them in this process."""
    stage: Stage = Stage.PUBLISHED
    #: the parts of the record the checks of this run read (any other file is unexpected); set by the runner
    known_parts: tuple[RecordPart, ...] = ()
    #: kiosks the observer accepts without a signed close (``--allow-unclosed KIOSK``), for the closes check
    allow_unclosed: frozenset[str] = frozenset()
    #: encrypted_tally.json as read (and checked equal to the recomputed sums) by ``check_tally``
    tally_raw: dict[str, Any] = field(default_factory=dict)
    #: ``--shard i/n``: only the cast and challenged ballots of this shard are checked (election.verify.shards)
    shard: Shard | None = None
    #: ``--merge``: the shard results whose per-ballot checks this run takes, instead of checking the ballots
    merge: tuple[Path, ...] = ()
    #: in a shard run, the SHA-256 of the bytes of each ballot file checked, by its name relative to ``ballots/``
    file_digests: dict[str, bytes] = field(default_factory=dict)
    #: the vote collector of ``remote/`` and its counted ballots (ballot id -> style), for check ``remote-turnout``
    remote_collector: str | None = None
    remote_counted: dict[str, str] = field(default_factory=dict)
    #: ``--commission-key``: the election commission's key, for check ``package`` (not run without it)
    commission_key: Ed25519PublicKey | None = None

    @property
    def m(self) -> Manifest:
        if self.manifest is None:
            raise Invalid("the manifest was not loaded")
        return self.manifest


def _files(directory: Path) -> list[Path]:
    return sorted(directory.glob("*.json")) if directory.is_dir() else []


def _ballot_files(s: State, kind: str) -> list[str]:
    """The names of ``ballots/<kind>/*.json`` this run checks, sorted: all of them, or those of its shard."""
    names = ballot_names(s.root, kind)
    return names if s.shard is None else [n for n in names if s.shard.holds(n)]


# ---- 1. manifest and parameters -----------------------------------------------------------------


def check_parameters(s: State, progress: Progress) -> str:
    raw_manifest = load(s.root / "manifest.json")
    try:
        s.manifest = Manifest.from_dict(raw_manifest)
    except ManifestError as exc:
        raise Invalid(f"manifest.json: {exc}") from None
    if raw_manifest != s.manifest.to_dict():  # the hash is over this object: nothing in it may go unread
        raise Invalid(
            "manifest.json: not exactly a manifest (a member the manifest does not define, or not in its form)"
        )
    ctx = obj(
        load(s.root / "context.json"),
        ["format_version", "group", "manifest_hash", "number_of_guardians", "quorum", "joint_public_key",
         "commitments", "parameter_base_hash", "base_hash"],
        "context.json",
    )  # fmt: skip
    if ctx["group"] != GROUP_NAME or ctx["format_version"] != 1:
        raise Invalid("context.json: unknown group or version")
    if ctx["manifest_hash"] != s.m.manifest_hash:
        raise Invalid("context.json: manifest_hash is not the hash of manifest.json")
    s.n, s.k = ctx["number_of_guardians"], ctx["quorum"]
    if type(s.n) is not int or type(s.k) is not int or not 1 <= s.k <= s.n:
        raise Invalid("context.json: bad n or k")
    h_b = hash_bytes("base", GROUP_NAME, s.m.manifest_hash, s.n, s.k)[:32]
    if ctx["parameter_base_hash"] != h_b.hex():
        raise Invalid("context.json: parameter_base_hash is wrong")
    rows = ctx["commitments"]
    if not isinstance(rows, list) or len(rows) != s.n or any(not isinstance(r, list) or len(r) != s.k for r in rows):
        raise Invalid("context.json: need k commitments for each of n guardians")
    s.commitments = [[point(c) for c in row] for row in rows]
    s.key = point(ctx["joint_public_key"])
    total = IDENTITY
    for row in s.commitments:
        total = total + row[0]
    if total != s.key:
        raise Invalid("joint public key is not the sum of the guardians' keys")
    flat = [c for row in s.commitments for c in row]
    s.h_e = hash_bytes("extended-base", h_b, s.key, s.n, *flat)[:32]
    if ctx["base_hash"] != s.h_e.hex():
        raise Invalid("context.json: base_hash (H_E) is wrong")
    expected = {f"guardian-{i}.json" for i in range(1, s.n + 1)}
    extra = sorted(p.name for p in _files(s.root / "guardians") if p.name not in expected)
    if extra:
        raise Invalid(f"guardians/: {', '.join(extra)} is not one of the {s.n} guardians of context.json")
    for i in range(1, s.n + 1):
        progress(i, s.n)
        g = obj(load(s.root / "guardians" / f"guardian-{i}.json"),
                ["sequence", "name", "commitments", "proofs", "box_public_key"], f"guardian-{i}.json")  # fmt: skip
        if g["sequence"] != i or [point(c) for c in g["commitments"]] != s.commitments[i - 1]:
            raise Invalid(f"guardian-{i}.json: commitments differ from context.json")
        if not isinstance(g["proofs"], list) or len(g["proofs"]) != s.k:
            raise Invalid(f"guardian-{i}.json: need k proofs")
        for j, proof in enumerate(g["proofs"]):
            schnorr_holds(proof, s.commitments[i - 1][j], h_b, f"guardian-{i}/coefficient-{j}")
    return f"manifest hash, H_B, H_E, joint key; {s.n} guardians x {s.k} Schnorr proofs"


# ---- 2. ballots -----------------------------------------------------------------------------------


def _ballot_hash(raw: Any) -> bytes:
    return hashlib.sha256(canonical_json(raw)).digest()


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
            alpha, beta = point(ct["alpha"]), point(ct["beta"], identity=True)
            label = f"{bid}/{contest.id}/{x_obj['candidate_id']}"
            range_proof_holds(x_obj["proof"], alpha, beta, 0, 1, s.key, s.h_e, label)
            cts.append((alpha, beta))
        blank_ct = obj(c["blank"], ["alpha", "beta"], where)
        blank = (point(blank_ct["alpha"]), point(blank_ct["beta"], identity=True))
        range_proof_holds(c["blank_proof"], *blank, 0, 1, s.key, s.h_e, f"{bid}/{contest.id}/{BLANK}")
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
    return bid, entry["kiosk"], entry["confirmation_code"], raw["style_id"], _ballot_hash(raw), digest


_WORKER: dict[str, State] = {}
"""The record's parameters in a worker process (loaded and checked once, by the pool's initializer)."""


def _init_worker(root: str) -> None:
    state = State(Path(root))
    check_parameters(state, lambda _done, _total: None)  # the manifest, H_E and the joint key, checked again
    _WORKER["state"] = state


def _verify_cast_chunk(paths: list[str]) -> tuple[list[CastEntry], PartialTally]:
    sums: PartialTally = {}
    return [_verify_cast_file(_WORKER["state"], Path(p), sums) for p in paths], sums


def _in_processes(s: State, names: list[str]) -> Iterator[tuple[list[CastEntry], PartialTally]]:
    """The chunks' results in order (the first bad file is the one reported), at most a few chunks ahead of the
    one consumed: memory stays flat however many ballots the record holds."""
    from concurrent.futures import Future, ProcessPoolExecutor  # only the parallel path needs it

    directory = s.root / "ballots" / "cast"
    pool = ProcessPoolExecutor(s.jobs, initializer=_init_worker, initargs=(str(s.root),))
    pending: deque[Future[tuple[list[CastEntry], PartialTally]]] = deque()
    try:
        for i in range(0, len(names), CHUNK):
            pending.append(pool.submit(_verify_cast_chunk, [str(directory / n) for n in names[i : i + CHUNK]]))
            if len(pending) >= AHEAD * s.jobs:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def check_cast_ballots(s: State, progress: Progress) -> str:
    if s.merge:
        from election.verify.merge import merge_shard_results

        return merge_shard_results(s, progress)
    names = _ballot_files(s, "cast")
    per_style: dict[str, int] = {}
    sums: PartialTally = {}
    parallel = s.jobs > 1 and len(names) > CHUNK

    def chunks() -> Iterator[tuple[list[CastEntry], PartialTally]]:
        if not parallel:
            for name in names:
                yield [_verify_cast_file(s, s.root / "ballots" / "cast" / name, sums)], {}
            return
        yield from _in_processes(s, names)

    done = 0
    for entries, partial in chunks():
        for bid, kiosk, code, style_id, ballot_hash, digest in entries:
            if bid in s.cast:
                raise Invalid(f"{bid}: cast twice")
            s.cast[bid] = (shared(kiosk), shared(style_id), ballot_hash, code_key(code))
            if s.shard is not None:  # only a shard result needs them
                s.file_digests[f"cast/{bid}.json"] = digest
            per_style[style_id] = per_style.get(style_id, 0) + 1
        for key, (a, b) in partial.items():
            x, y = sums.get(key, (IDENTITY.data, IDENTITY.data))
            sums[key] = ((GroupElement(x) + GroupElement(a)).data, (GroupElement(y) + GroupElement(b)).data)
        done += len(entries)
        progress(done, len(names))
    for (contest_id, cand), (a, b) in sums.items():
        s.tally.setdefault(contest_id, {})[cand] = (GroupElement(a), GroupElement(b))
    styles = ", ".join(f"{k}: {v}" for k, v in sorted(per_style.items()))
    jobs = f"; {s.jobs} processes" if parallel else ""
    shard = f" of shard {s.shard}" if s.shard is not None else ""
    return f"{len(names)} cast ballots{shard}, every proof valid ({styles}){jobs}"


def check_challenged_ballots(s: State, progress: Progress) -> str:
    if s.merge:
        return f"{len(s.challenged_codes)} challenged ballots open to valid choices, none counted (from the shards)"
    files = [s.root / "ballots" / "challenged" / name for name in _ballot_files(s, "challenged")]
    for i, path in enumerate(files, start=1):
        progress(i, len(files))
        data, digest = load_with_digest(path)
        entry = obj(data, ["kiosk", "confirmation_code", "challenged"], path.name)
        ch = obj(entry["challenged"], ["ballot", "seed"], path.name)
        raw = ch["ballot"]
        bid = raw.get("ballot_id") if isinstance(raw, dict) else None
        if not isinstance(bid, str) or path.name != f"{bid}.json":
            raise Invalid(f"{path.name}: file name does not match its ballot id")
        if bid in s.cast:
            raise Invalid(f"{bid}: challenged ballot is also counted as cast")
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
        s.challenged_codes[bid] = entry["confirmation_code"]
        s.challenged_kiosk[bid] = entry["kiosk"]
        s.challenged_hash[bid] = _ballot_hash(raw)
        if s.shard is not None:
            s.file_digests[f"challenged/{bid}.json"] = digest
    shard = f" of shard {s.shard}" if s.shard is not None else ""
    return f"{len(files)} challenged ballots{shard} open to valid choices, none counted"


def _code(text: Any, what: str) -> bytes:
    if not isinstance(text, str) or len(text) != 64 or text != text.lower():
        raise Invalid(f"{what}: expected 64 lower-case hex digits")
    try:
        return bytes.fromhex(text)
    except ValueError:
        raise Invalid(f"{what}: expected 64 lower-case hex digits") from None


def _withheld_link(s: State, e: dict[str, Any], kiosk: str, start: bytes) -> bytes:
    """A withheld link: its code recomputes from the published ballot hash, and its ballot is published nowhere
    else (never counted). Returns its code."""
    bid = e["ballot_id"]
    if e["reason"] not in WITHHELD_REASONS:
        raise Invalid(f"{kiosk}: withheld {bid} has an unknown reason {e['reason']!r}")
    if bid in s.cast or bid in s.challenged_codes:
        raise Invalid(f"{kiosk}: {bid} is withheld but also published as a ballot (a withheld ballot is never counted)")
    code = confirmation(start, kiosk, _code(e["ballot_hash"], f"withheld {bid}: ballot_hash"))
    if code != _code(e["code"], f"withheld {bid}: code"):
        raise Invalid(f"{kiosk}: the confirmation code of withheld {bid} does not recompute")
    s.withheld[bid] = e["reason"]
    return code


def _link(s: State, raw: Any, kiosk: str, start: bytes, where: str, counts: dict[str, int]) -> bytes:
    """One link of a batch: its code recomputed (from the published ballot, or the withheld link's ballot hash) and
    counted by status. Returns its code."""
    withheld = isinstance(raw, dict) and raw.get("status") == "withheld"
    e = (
        obj(raw, WITHHELD_KEYS, f"{where}: withheld entry")
        if withheld
        else obj(raw, ["ballot_id", "code", "status"], where)
    )
    bid = e["ballot_id"]
    if not isinstance(bid, str):
        raise Invalid(f"{where}: a link without a ballot id")
    if withheld:
        counts["withheld"] += 1
        counts["provisional-not-counted"] += e["reason"] == "provisional-not-counted"
        return _withheld_link(s, e, kiosk, start)
    if e["status"] == "cast" and bid in s.cast:
        owner, _style, ballot_hash, kept = s.cast[bid]
        stated = code_text(kept)
    elif e["status"] == "challenged" and bid in s.challenged_codes:
        ballot_hash, stated, owner = s.challenged_hash[bid], s.challenged_codes[bid], s.challenged_kiosk[bid]
    else:
        raise Invalid(f"{kiosk}: chain lists {bid} as {e['status']} but no such ballot is published")
    code = confirmation(start, kiosk, ballot_hash)
    if code.hex() != e["code"] or stated != e["code"] or owner != kiosk:
        raise Invalid(f"{kiosk}: the confirmation code of {bid} does not recompute (or names another kiosk)")
    counts[e["status"]] += 1
    return code


def check_chains(s: State, progress: Progress) -> str:
    """Every kiosk's batch chain (docs/election-record.md "kiosk_chains"): each link's code recomputed, each batch's
    links in ascending code order, each root recomputed from the previous one; every published ballot in exactly
    one batch."""
    files = _files(s.root / "kiosk_chains")
    seen: set[str] = set()
    for i, path in enumerate(files, start=1):
        progress(i, len(files))
        chain = obj(load(path), CHAIN_KEYS, path.name)
        kiosk = chain["kiosk"]
        if chain["format_version"] != 2:
            raise Invalid(f"{path.name}: format_version must be 2 (the batch chain)")
        if path.name != f"{kiosk}.json" or kiosk not in s.m.kiosks_by_id:
            raise Invalid(f"{path.name}: unknown kiosk")
        if not isinstance(chain["batches"], list):
            raise Invalid(f"{path.name}: batches must be a list")
        start = genesis(s.h_e, kiosk)
        root = start
        recomputed: list[tuple[str, dict[str, int]]] = []
        for n, raw_batch in enumerate(chain["batches"], start=1):
            where = f"{path.name}: batch {n}"
            batch = obj(raw_batch, BATCH_KEYS, where)
            if _code(batch["previous_root"], f"{where}: previous_root") != root:
                raise Invalid(f"{kiosk}: batch chain broken at batch {n} (its previous_root is not the root before)")
            if not isinstance(batch["links"], list) or not batch["links"]:
                raise Invalid(f"{where}: links must be a non-empty list")
            counts = {"cast": 0, "challenged": 0, "withheld": 0, "provisional-not-counted": 0}
            codes: list[bytes] = []
            for raw_link in batch["links"]:
                code = _link(s, raw_link, kiosk, start, where, counts)
                bid = raw_link["ballot_id"]
                if bid in seen:
                    raise Invalid(f"{bid}: appears twice in the kiosk chains")
                seen.add(bid)
                codes.append(code)
            if any(a >= b for a, b in itertools.pairwise(codes)):
                raise Invalid(f"{kiosk}: the links of batch {n} are not in ascending code order (or repeat a code)")
            root = batch_root(root, kiosk, codes)
            if _code(batch["root"], f"{where}: root") != root:
                raise Invalid(f"{kiosk}: batch chain broken at batch {n} (its root does not recompute)")
            recomputed.append((root.hex(), counts))
        s.batches[kiosk] = recomputed
    missing = (set(s.cast) | set(s.challenged_codes)) - seen
    if missing:
        raise Invalid(f"{len(missing)} published ballot(s) are in no kiosk chain, e.g. {sorted(missing)[0]}")
    batches = sum(len(b) for b in s.batches.values())
    return (
        f"{len(files)} kiosk chains, {batches} batch roots and {len(seen)} confirmation codes recomputed; "
        f"{_withheld_summary(s)}"
    )


def _withheld_summary(s: State) -> str:
    if not s.withheld:
        return "0 withheld"
    by_reason: dict[str, int] = {}
    for reason in s.withheld.values():
        by_reason[reason] = by_reason.get(reason, 0) + 1
    reasons = ", ".join(f"{r}: {n}" for r, n in sorted(by_reason.items()))
    return f"{len(s.withheld)} withheld, not counted ({reasons})"


# ---- 3. tally, decryption, results --------------------------------------------------------------


def check_tally(s: State, progress: Progress) -> str:
    t = obj(load(s.root / "tally" / "encrypted_tally.json"),
            ["format_version", "base_hash", "contests", "ballots_per_contest", "ballots_per_style",
             "cast_ballot_ids_hash"], "encrypted_tally.json")  # fmt: skip
    if t["base_hash"] != s.h_e.hex():
        raise Invalid("encrypted tally is bound to another election")
    if t["cast_ballot_ids_hash"] != json_hash(sorted(s.cast)):
        raise Invalid("encrypted tally was computed over a different set of ballots")
    contests = s.m.contests
    if set(t["contests"]) != {c.id for c in contests}:
        raise Invalid("encrypted tally: contests differ from the manifest")
    parsed: dict[str, dict[str, tuple[GroupElement, GroupElement]]] = {}
    for i, contest in enumerate(contests, start=1):
        progress(i, len(contests))
        row = t["contests"][contest.id]
        mine = s.tally.get(contest.id, {})
        if set(row) != {*contest.selection_ids, BLANK}:
            raise Invalid(f"encrypted tally: selections of {contest.id} differ from the manifest")
        parsed_row = parsed.setdefault(contest.id, {})
        for sel, raw_ct in row.items():
            ct = obj(raw_ct, ["alpha", "beta"], "encrypted tally")
            published = (point(ct["alpha"], identity=True), point(ct["beta"], identity=True))
            if published != mine.get(sel, (IDENTITY, IDENTITY)):
                raise Invalid(f"encrypted tally of {contest.id}/{sel} is not the sum of the cast ballots")
            parsed_row[sel] = published
    per_contest: dict[str, int] = {c.id: 0 for c in contests}
    per_style: dict[str, int] = {st.id: 0 for st in s.m.ballot_styles}
    for _kiosk, style_id, *_ in s.cast.values():
        per_style[style_id] += 1
        for c in s.m.styles_by_id[BallotStyleId(style_id)].contest_ids:
            per_contest[c] += 1
    if t["ballots_per_contest"] != per_contest or t["ballots_per_style"] != per_style:
        raise Invalid("encrypted tally: ballot counts differ from the cast ballots")
    s.tally = parsed
    s.tally_raw = t
    return f"recomputed {sum(len(r) for r in s.tally.values())} aggregate ciphertexts from {len(s.cast)} ballots"


def check_decryption(s: State, progress: Progress) -> str:
    files = _files(s.root / "tally" / "shares")
    direct: dict[int, dict[tuple[str, str], GroupElement]] = {}
    compensating: dict[int, dict[int, dict[tuple[str, str], GroupElement]]] = {}
    keys = {(c, sel) for c, row in s.tally.items() for sel in row}
    for i, path in enumerate(files, start=1):
        progress(i, len(files))
        share = obj(load(path), ["guardian", "missing", "values"], path.name)
        g, missing = share["guardian"], share["missing"]
        if (
            type(g) is not int
            or not 1 <= g <= s.n
            or (missing is not None and (type(missing) is not int or not 1 <= missing <= s.n or missing == g))
        ):
            raise Invalid(f"{path.name}: unknown guardian")
        expected_name = f"guardian-{g}.json" if missing is None else f"guardian-{missing}-by-{g}.json"
        if path.name != expected_name:
            raise Invalid(f"{path.name}: file name does not match its content")
        key = s.commitments[g - 1][0] if missing is None else polynomial_point(s.commitments[missing - 1], g)
        who = f"g{g}" if missing is None else f"g{missing}-by-g{g}"
        values: dict[tuple[str, str], GroupElement] = {}
        for raw_value in share["values"]:
            v = obj(raw_value, ["contest", "selection", "m", "proof"], path.name)
            k = (v["contest"], v["selection"])
            if k not in keys or k in values:
                raise Invalid(f"{path.name}: unexpected or repeated value {k}")
            alpha = s.tally[k[0]][k[1]][0]
            m = point(v["m"], identity=True)
            if alpha == IDENTITY:
                if m != IDENTITY:
                    raise Invalid(f"{path.name}: share of an empty ciphertext must be the identity")
            else:
                decryption_proof_holds(v["proof"], key, alpha, m, s.h_e, f"tally/{k[0]}/{k[1]}/{who}")
            values[k] = m
        if set(values) != keys:
            raise Invalid(f"{path.name}: does not cover every tally ciphertext")
        if missing is None:
            direct[g] = values
        else:
            compensating.setdefault(missing, {})[g] = values
    if len(direct) < s.k:
        raise Invalid(f"only {len(direct)} guardians decrypted; the quorum is {s.k}")
    combined = dict.fromkeys(keys, IDENTITY)
    groups: dict[tuple[int, ...], list[int]] = {}
    for i in range(1, s.n + 1):
        if i in direct:
            for k in keys:
                combined[k] = combined[k] + direct[i][k]
            continue
        helpers = sorted(h for h in compensating.get(i, {}) if h in direct)[: s.k]
        if len(helpers) < s.k:
            raise Invalid(f"guardian {i} is missing and fewer than k guardians compensated for it")
        groups.setdefault(tuple(helpers), []).append(i)
    # sum_i sum_h w_h M_{i,h} = sum_h w_h (sum_i M_{i,h}) for the missing guardians i sharing helpers h
    for helpers_t, missing_list in groups.items():
        weights = {h: lagrange(h, helpers_t) for h in helpers_t}
        for k in keys:
            for h in helpers_t:
                summed = IDENTITY
                for i in missing_list:
                    summed = summed + compensating[i][h][k]
                combined[k] = combined[k] + weights[h] * summed
    s.combined = combined
    present = ", ".join(str(g) for g in sorted(direct))
    return f"{len(files)} shares, every proof valid; guardians present: {present}; compensated: {s.n - len(direct)}"


def check_results(s: State, progress: Progress) -> str:
    results = obj(load(s.root / "results.json"), ["format_version", "contests"], "results.json")
    contests = s.m.contests
    if set(results["contests"]) != {c.id for c in contests}:
        raise Invalid("results.json: contests differ from the manifest")
    counted: dict[str, int] = {}
    per_style: dict[str, int] = {}
    for _kiosk, style_id, *_ in s.cast.values():  # once, not once per contest
        per_style[style_id] = per_style.get(style_id, 0) + 1
    for i, contest in enumerate(contests, start=1):
        progress(i, len(contests))
        r = obj(results["contests"][contest.id], ["votes", "blank", "ballots", "seats", "undervotes"], "results.json")
        if not isinstance(r["votes"], dict) or set(r["votes"]) != set(contest.selection_ids):
            raise Invalid(f"results.json: candidates of {contest.id} differ from the manifest")
        for sel, count in [*r["votes"].items(), (BLANK, r["blank"])]:
            if type(count) is not int or count < 0:
                raise Invalid(f"results.json: bad count for {contest.id}/{sel}")
            alpha_beta = s.tally[contest.id][sel]
            if small(count) != alpha_beta[1] - s.combined[(contest.id, sel)]:
                raise Invalid(f"results.json: {contest.id}/{sel} = {count} is not what the tally decrypts to")
        ballots = sum(
            [n for style, n in per_style.items() if contest.id in s.m.styles_by_id[BallotStyleId(style)].contest_ids]
        )
        if r["ballots"] != ballots or r["seats"] != contest.seats:
            raise Invalid(f"results.json: ballots or seats of {contest.id} are wrong")
        if r["undervotes"] != ballots * contest.seats - sum(r["votes"].values()):
            raise Invalid(f"results.json: undervotes of {contest.id} are wrong")
        counted[contest.id] = sum(r["votes"].values())
    return f"{len(contests)} contests, {sum(counted.values())} votes: every count matches the decryption"


def check_turnout(s: State, progress: Progress) -> str:
    raw = load(s.root / "pollbook_counts.json")
    keys = ["format_version", "ballots_per_style"]
    if isinstance(raw, dict) and "not_counted_per_style" in raw:
        keys.append("not_counted_per_style")
    data = obj(raw, keys, "pollbook_counts.json")
    not_counted = data.get("not_counted_per_style", {})
    if not isinstance(not_counted, dict) or not all(
        isinstance(k, str) and type(v) is int and v >= 0 for k, v in not_counted.items()
    ):
        raise Invalid("pollbook_counts.json: not_counted_per_style must map ballot styles to counts")
    per_style: dict[str, int] = {st.id: 0 for st in s.m.ballot_styles}
    for _kiosk, style_id, *_ in s.cast.values():
        per_style[style_id] += 1
    progress(1, 1)
    book = {k: v for k, v in data["ballots_per_style"].items() if v}
    # Every voter marked voted has a counted ballot, or a ballot that is not counted (refused at ingest or not
    # counted by the committee) whose link is withheld in a kiosk chain; the office cannot tell which refused
    # ballot had a voter (nothing links them), so its count is an upper bound: cast <= book <= cast + not counted.
    bad = sorted(
        k
        for k in set(book) | set(per_style) | set(not_counted)
        if not per_style.get(k, 0) <= book.get(k, 0) <= per_style.get(k, 0) + not_counted.get(k, 0)
    )
    if bad:
        raise Invalid(f"cast ballots differ from the poll book's check-ins for style(s) {', '.join(bad)}")
    # Each voter whose ballot is not counted must have a visible, withheld link in a kiosk chain: the office
    # cannot explain away a missing ballot without one.
    links = sum(1 for reason in s.withheld.values() if reason in ("refused-at-ingest", "flagged-not-counted"))
    excused = sum(not_counted.values())
    if excused > links:
        raise Invalid(
            f"pollbook_counts.json says {excused} voter(s) have a ballot not counted, but the kiosk chains "
            f"withhold only {links} refused or flagged link(s)"
        )
    cast, voted = sum(per_style.values()), sum(book.values())
    relation = "=" if cast == voted else f"+ {voted - cast} with a ballot not counted (withheld link) ="
    withheld = f"{len(s.withheld)} withheld not counted"
    return f"{cast} cast ballots {relation} {voted} poll-book check-ins, per style ({withheld})"


def check_record_files(s: State, progress: Progress) -> str:
    """Every file and directory of the record is a known part of it (``RECORD_PARTS``); anything else fails."""
    unexpected: list[str] = []
    files = 0
    for path in sorted(s.root.rglob("*")):
        relative = path.relative_to(s.root).as_posix()
        if path.is_symlink():
            unexpected.append(f"{relative} (a symbolic link)")
        elif path.is_dir():
            if not any(part.covers_directory(relative) for part in s.known_parts):
                unexpected.append(f"{relative}/")
        elif not any(part.matches(relative) for part in s.known_parts):
            unexpected.append(relative)
        else:
            files += 1
    progress(1, 1)
    if unexpected:
        shown = ", ".join(unexpected[:5]) + (f" and {len(unexpected) - 5} more" if len(unexpected) > 5 else "")
        raise Invalid(f"{len(unexpected)} unexpected file(s) or directory(ies) in the record: {shown}")
    return f"{files} files, every one a known part of the record"


#: The verifier's checks, in order (names for ``--skip``; see ``election.verify.parts.Check``). Another check is
#: one more line here; the files it reads are lines in ``RECORD_PARTS``.
CHECKS: list[Check] = [
    Check("record-files", "record files", check_record_files, before_decryption=True),
    Check("parameters", "parameters and guardians", check_parameters, before_decryption=True),
    Check("ballots", "cast ballots", check_cast_ballots, ("parameters",), before_decryption=True),
    Check("challenged", "challenged ballots", check_challenged_ballots, ("ballots",), before_decryption=True),
    Check("chains", "confirmation code chains", check_chains, ("ballots", "challenged"), before_decryption=True),
    Check("tally", "encrypted tally", check_tally, ("ballots",), before_decryption=True),
    Check("decryption", "decryption shares", check_decryption, ("tally",)),
    Check("results", "results", check_results, ("decryption",)),
    Check("turnout", "turnout against poll book", check_turnout, ("ballots", "chains")),
    Check("closes", "kiosk chain closes", check_closes, ("chains",), before_decryption=True),
    Check("office-audit", "office's signed audit heads", check_office_audit, ("parameters", "tally")),
    Check("remote", "remote ballots by credential", check_remote, ("ballots",), before_decryption=True),
    Check("remote-turnout", "remote turnout against poll book", check_remote_turnout, ("remote",)),
    Check(
        "package",
        "certificates against package",
        check_package,
        needs=("parameters",),
        before_decryption=True,
        not_run=not_run,
    ),
]

#: Every part of a record (docs/election-record.md), with the check that reads it; one line per part. A file or
#: directory that matches none of the parts of the checks being run is unexpected (check ``record-files``).
RECORD_PARTS: list[RecordPart] = [
    RecordPart("manifest.json", "parameters"),
    RecordPart("context.json", "parameters"),
    RecordPart("guardians/guardian-*.json", "parameters"),
    RecordPart("ballots/cast/*.json", "ballots", required=False),  # an election may have no cast ballot
    RecordPart("ballots/challenged/*.json", "challenged", required=False),
    RecordPart("kiosk_chains/*.json", "chains", required=False),  # none only if nothing was ever encrypted
    RecordPart("tally/encrypted_tally.json", "tally"),
    RecordPart("tally/shares/guardian-*.json", "decryption"),
    RecordPart("results.json", "results"),
    RecordPart("pollbook_counts.json", "turnout"),
    RecordPart("kiosks/*.json", "closes", required=False),  # kiosks/<kiosk>.json: certificate, signed close, head
    RecordPart("office/audit_heads.json", "office-audit"),  # the office's signed audit heads (office_audit.py)
    RecordPart("office/office_certificate.pem", "office-audit"),
    *(RecordPart(f"remote/{name}", "remote", required=False) for name in REMOTE_FILES),  # docs/remote-voting.md
    # the election package's signed index, its signature, manifest, context and trust files (package_part.py)
    *(RecordPart(f"package/{p}", "package", required=p in ("index.json", "index.sig")) for p in PACKAGE_PATTERNS),
]

__all__ = ["CHECKS", "RECORD_PARTS", "Invalid", "State", "scalar"]
