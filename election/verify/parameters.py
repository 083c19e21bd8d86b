"""Check ``parameters``: the manifest, the election context (H_B, H_E, the joint key) and the guardians' records
with their Schnorr proofs (docs/election-record.md, check 1)."""

from __future__ import annotations

from election.group import IDENTITY, hash_bytes
from election.manifest import Manifest, ManifestError
from election.verify.parts import Progress
from election.verify.primitives import Invalid, obj, point, schnorr_holds
from election.verify.state import State, files_of
from election.verify.strict_json import load

GROUP_NAME = "ristretto255/libsodium"


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
    extra = sorted(p.name for p in files_of(s.root / "guardians") if p.name not in expected)
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
