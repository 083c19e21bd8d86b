"""Checks ``tally``, ``decryption`` and ``results``: the encrypted tally recomputed from the cast ballots, the
guardians' decryption shares and their combination, and the published counts against the decryption
(docs/election-record.md, checks 5 to 7)."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from json.encoder import encode_basestring

from election.group import IDENTITY, GroupElement
from election.manifest import BallotStyleId
from election.verify.parts import Progress
from election.verify.primitives import Invalid, decryption_proof_holds, lagrange, obj, point, polynomial_point, small
from election.verify.state import BLANK, State, files_of
from election.verify.strict_json import load


def ids_hash(sorted_ids: Iterable[str]) -> str:
    """``json_hash`` of the list of ``sorted_ids``, taken as they stream (a national record's ids are never all in
    memory at once): the canonical JSON of a list of strings is ``[``, each one's JSON string joined by ``,``, ``]``."""
    digest = hashlib.sha256(b"[")
    comma = b""
    for bid in sorted_ids:
        digest.update(comma + encode_basestring(bid).encode("utf-8"))
        comma = b","
    digest.update(b"]")
    return digest.hexdigest()


def check_tally(s: State, progress: Progress) -> str:
    t = obj(load(s.root / "tally" / "encrypted_tally.json"),
            ["format_version", "base_hash", "contests", "ballots_per_contest", "ballots_per_style",
             "cast_ballot_ids_hash"], "encrypted_tally.json")  # fmt: skip
    if t["base_hash"] != s.h_e.hex():
        raise Invalid("encrypted tally is bound to another election")
    if t["cast_ballot_ids_hash"] != ids_hash(s.cast.ids()):
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
    for style_id, count in s.cast.per_style().items():
        per_style[style_id] += count
        for c in s.m.styles_by_id[BallotStyleId(style_id)].contest_ids:
            per_contest[c] += count
    if t["ballots_per_contest"] != per_contest or t["ballots_per_style"] != per_style:
        raise Invalid("encrypted tally: ballot counts differ from the cast ballots")
    s.tally = parsed
    s.tally_raw = t
    return f"recomputed {sum(len(r) for r in s.tally.values())} aggregate ciphertexts from {len(s.cast)} ballots"


def check_decryption(s: State, progress: Progress) -> str:
    files = files_of(s.root / "tally" / "shares")
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
    per_style = s.cast.per_style()  # once, not once per contest
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
