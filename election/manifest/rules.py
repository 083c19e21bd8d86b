"""The manifest's content rules: unique ids, every reference known (governorates, wilayats, contests, candidates,
centres, collectors), seats and ballot numbers in range, each ballot style listing exactly its contests' active
candidates in ballot-number order, and every wilayat styled and served. Rules that need the package's files
(photos, audio) are ``election.package``'s."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from election.manifest.parts import ManifestError

if TYPE_CHECKING:
    from election.manifest.model import Manifest


def require_unique(items: Sequence[str], what: str) -> None:
    seen: set[str] = set()
    for item in items:
        if item in seen:
            raise ManifestError(f"{what} {item!r} appears twice")
        seen.add(item)


def validate_manifest(m: Manifest) -> list[str]:
    """Check the content rules; returns warnings, raises ManifestError on the first error."""
    warnings: list[str] = []
    require_unique([g.code for g in m.governorates], "governorate")
    require_unique([w.code for w in m.wilayats], "wilayat")
    require_unique([c.id for c in m.contests], "contest")
    require_unique([k.id for c in m.contests for k in c.candidates], "candidate")
    require_unique([c.id for c in m.centres], "centre")
    require_unique([k.id for k in m.kiosks], "kiosk")
    require_unique([s.id for s in m.ballot_styles], "ballot style")
    require_unique([s.wilayat for s in m.ballot_styles], "ballot style for wilayat")
    governorates = {g.code for g in m.governorates}
    wilayats = {w.code for w in m.wilayats}
    for w in m.wilayats:
        if w.governorate not in governorates:
            raise ManifestError(f"wilayat {w.code!r}: unknown governorate {w.governorate!r}")
    for c in m.contests:
        if c.wilayat not in wilayats:
            raise ManifestError(f"contest {c.id!r}: unknown wilayat {c.wilayat!r}")
        if c.seats < 1:
            raise ManifestError(f"contest {c.id!r}: seats must be at least 1 (is {c.seats})")
        require_unique([str(k.ballot_number) for k in c.candidates], f"contest {c.id!r}: ballot number")
        for k in c.candidates:
            if k.ballot_number < 1:
                raise ManifestError(f"contest {c.id!r}: candidate {k.id!r} has ballot number {k.ballot_number}")
        active = len(c.active_candidates)
        if active == 0:
            raise ManifestError(f"contest {c.id!r}: no active candidates")
        if c.seats >= active:
            warnings.append(
                f"contest {c.id!r}: {c.seats} seat(s) but only {active} active candidate(s): the contest is uncontested"
            )
    contests = m.contests_by_id
    for s in m.ballot_styles:
        if s.wilayat not in wilayats:
            raise ManifestError(f"ballot style {s.id!r}: unknown wilayat {s.wilayat!r}")
        if not s.contests:
            raise ManifestError(f"ballot style {s.id!r}: no contests")
        for sc in s.contests:
            cid = sc.contest
            if cid not in contests:
                raise ManifestError(f"ballot style {s.id!r}: unknown contest {cid!r}")
            contest = contests[cid]
            if contest.wilayat != s.wilayat:
                raise ManifestError(f"ballot style {s.id!r}: contest {cid!r} belongs to another wilayat")
            known = {k.id: k for k in contest.candidates}
            for kid in sc.candidates:
                if kid not in known:
                    raise ManifestError(f"ballot style {s.id!r}: contest {cid!r} lists unknown candidate {kid!r}")
                if known[kid].withdrawn:
                    raise ManifestError(f"ballot style {s.id!r}: contest {cid!r} lists withdrawn candidate {kid!r}")
            if sc.candidates != contest.selection_ids:
                raise ManifestError(
                    f"ballot style {s.id!r}: contest {cid!r} must list its active candidates in ballot-number order"
                )
    styled = {s.wilayat for s in m.ballot_styles}
    for w in m.wilayats:
        if w.code not in styled:
            raise ManifestError(f"wilayat {w.code!r}: has no ballot style")
    for centre in m.centres:
        for served in (centre.wilayat, *centre.serves):
            if served not in wilayats:
                raise ManifestError(f"centre {centre.id!r}: unknown wilayat {served!r}")
    served_somewhere = {w for c in m.centres for w in ((*wilayats,) if c.unified else (c.wilayat, *c.serves))}
    for w in m.wilayats:
        if w.code not in served_somewhere:
            raise ManifestError(f"wilayat {w.code!r}: served by no polling centre")
    centres = m.centres_by_id
    for kiosk in m.kiosks:
        if kiosk.centre not in centres:
            raise ManifestError(f"kiosk {kiosk.id!r}: unknown centre {kiosk.centre!r}")
    if m.remote_voting is not None:
        require_unique(list(m.remote_voting.collector_ids), "remote-voting collector")
        for collector in m.remote_voting.collector_ids:
            if collector not in m.kiosks_by_id:
                raise ManifestError(f"remote_voting: collector {collector!r} is not a kiosk of the manifest")
    return warnings
