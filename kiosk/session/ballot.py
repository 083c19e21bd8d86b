"""Ballot rules the voter session enforces: what is on the voter's ballot and what a valid marking is.

Decision 128/2003, Art. 7: a ballot marking more candidates than allowed, naming someone not on the list
or a withdrawn candidate is invalid, so the kiosk makes those impossible; a blank ballot is allowed but
only after the voter confirms it explicitly.
"""

from __future__ import annotations

from dataclasses import dataclass

from election.manifest import BallotStyleId, Candidate, CandidateId, Contest, ContestId, Manifest
from kiosk.session.model import Selections


@dataclass(frozen=True)
class Undervote:
    contest: ContestId
    marked: int
    allowed: int


def contests_for(manifest: Manifest, style: BallotStyleId) -> tuple[Contest, ...]:
    return manifest.contests_of_style(style)


def candidates_on_ballot(contest: Contest) -> tuple[Candidate, ...]:
    """Candidates shown, in ballot-number order; withdrawn candidates are absent."""
    return contest.active_candidates


def toggle(
    contest: Contest, current: tuple[CandidateId, ...], candidate: CandidateId
) -> tuple[CandidateId, ...] | None:
    """The contest's selections after the voter touches ``candidate``.

    Returns ``None`` when the touch would be an overvote (the screen explains why); an unknown or
    withdrawn candidate leaves the selections unchanged.
    """
    order = contest.selection_ids
    if candidate not in order:
        return current
    if candidate in current:
        return tuple(c for c in current if c != candidate)
    if len(current) >= contest.seats:
        return None
    chosen = {*current, candidate}
    return tuple(c for c in order if c in chosen)


def undervotes(contests: tuple[Contest, ...], selections: Selections) -> tuple[Undervote, ...]:
    return tuple(
        Undervote(contest=c.id, marked=len(selections.get(c.id, ())), allowed=c.seats)
        for c in contests
        if len(selections.get(c.id, ())) < min(c.seats, len(c.active_candidates))
    )


def is_blank(contests: tuple[Contest, ...], selections: Selections) -> bool:
    return all(not selections.get(c.id) for c in contests)
