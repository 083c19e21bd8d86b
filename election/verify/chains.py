"""Check ``chains``: every kiosk's batch chain, each confirmation code and batch root recomputed, every published
ballot in exactly one batch; withheld links (docs/election-record.md, check 4 and "Withheld chain links")."""

from __future__ import annotations

import itertools
from typing import Any

from election.verify.parts import Progress
from election.verify.primitives import Invalid, batch_root, code_text, confirmation, genesis, obj
from election.verify.state import State, files_of
from election.verify.strict_json import load

#: why a chain link is published without its ballot (docs/election-record.md); the verifier's own copy
WITHHELD_REASONS = ("provisional-not-counted", "flagged-not-counted", "refused-at-ingest")
WITHHELD_KEYS = ["status", "ballot_id", "code", "ballot_hash", "reason"]
CHAIN_KEYS = ["format_version", "kiosk", "batches"]
BATCH_KEYS = ["previous_root", "root", "links"]


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
    cast = s.cast.get(bid) if e["status"] == "cast" else None
    if cast is not None:
        owner, _style, ballot_hash, kept = cast
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
    files = files_of(s.root / "kiosk_chains")
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
                if not s.cast.see(bid):
                    raise Invalid(f"{bid}: appears twice in the kiosk chains")
                codes.append(code)
            if any(a >= b for a, b in itertools.pairwise(codes)):
                raise Invalid(f"{kiosk}: the links of batch {n} are not in ascending code order (or repeat a code)")
            root = batch_root(root, kiosk, codes)
            if _code(batch["root"], f"{where}: root") != root:
                raise Invalid(f"{kiosk}: batch chain broken at batch {n} (its root does not recompute)")
            recomputed.append((root.hex(), counts))
        s.batches[kiosk] = recomputed
    missing, first = s.cast.unseen(s.challenged_codes)
    if missing:
        raise Invalid(f"{missing} published ballot(s) are in no kiosk chain, e.g. {first}")
    batches = sum(len(b) for b in s.batches.values())
    return (
        f"{len(files)} kiosk chains, {batches} batch roots and {s.cast.seen_count()} confirmation codes recomputed; "
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
