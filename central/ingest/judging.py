"""The verdict on each ballot of a batch once the checker has verified it (steps 4 and 5 of ``central.ingest``):
accepted, refused with its reason (stored, never counted), or flagged for the committee when the kiosk's centre does
not serve the ballot's wilayat (Art. 6, ``central.adjudication``)."""

from __future__ import annotations

from dataclasses import dataclass

from central.checker import BallotRejected, CheckedBallot
from central.models import BallotStatus
from election.manifest import BallotStyleId, CentreId, Manifest
from sync.protocol import BallotDisposition, BatchBallot


@dataclass
class BallotItem:
    """One new ballot of a batch on its way to the store: as sent, its checker outcome and its verdict."""

    wire: BatchBallot
    index: int = -1  # position in the list submitted to the checker
    checked: CheckedBallot | None = None
    status: BallotStatus = BallotStatus.ACCEPTED
    reason: str | None = None
    tallied: bool = False


def judge(
    manifest: Manifest, centre: str, wire: BatchBallot, outcome: CheckedBallot | BallotRejected, index: int = -1
) -> BallotItem:
    """The verdict on ``wire`` from the checker's ``outcome``: refused (proofs, id or style, unknown style) or
    flagged (centre does not serve the style's wilayat, a cast ballot only); otherwise accepted."""
    item = BallotItem(wire, index)
    if isinstance(outcome, BallotRejected):
        item.status, item.reason = BallotStatus.REFUSED, outcome.reason
        return item
    item.checked = outcome
    if outcome.ballot_id != wire.ballot_id or outcome.style_id != wire.ballot_style_id:
        item.status, item.reason = BallotStatus.REFUSED, "ballot id or style differs from the encrypted ballot"
        return item
    style = manifest.styles_by_id.get(BallotStyleId(wire.ballot_style_id))
    if style is None:
        item.status, item.reason = (
            BallotStatus.REFUSED,
            f"ballot style {wire.ballot_style_id!r} is not in this election",
        )
    elif wire.disposition is BallotDisposition.CAST and not manifest.centre_serves(CentreId(centre), style.wilayat):
        item.status = BallotStatus.FLAGGED
        item.reason = f"centre {centre!r} does not serve wilayat {style.wilayat!r} (ballot style {style.id!r})"
    return item


def refuse_wrong_codes(items: list[BallotItem]) -> None:
    """A ballot whose confirmation code is not the one recomputed from it is refused (its claimed code is still a
    link of the kiosk-signed batch: the record shows it withheld). Unparseable ballots are refused already."""
    for i in items:
        if (
            i.checked is not None
            and i.checked.code != i.wire.confirmation_code
            and i.status is not BallotStatus.REFUSED
        ):
            i.status, i.reason = BallotStatus.REFUSED, "confirmation code does not recompute from the ballot"
