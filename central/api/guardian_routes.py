"""Public, read-only API for the guardians: the final encrypted tally and what a guardian needs beside it.

A guardian computes a decryption share offline, on their own machine, from two things: their sealed
ceremony secrets (never on the office) and the encrypted tally. The tally is served here, without a login,
once it is final: polls closed at every centre and nothing awaiting the committee (``results.ready_for_counting``).
Before that the answer is 409 with what is still missing, so nobody computes a share on a tally that will
still change (the office would refuse the share on upload).

- ``GET /api/guardian/tally``: exactly the file ``python -m election.guardian decrypt-share|compensate`` takes
  (``EncryptedTally.to_dict()``).
- ``GET /api/guardian/election``: the public facts to check it against: the election context (base hash,
  joint key, quorum), the guardians' public records, the number of ballots per contest, the cast ballots' hash.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from central import results
from central.api.deps import OfficeDep
from central.api.errors import ERRORS, ApiError
from central.office import Office
from election.tally import EncryptedTally
from sync.protocol import ErrorCode

router = APIRouter(prefix="/api/guardian", tags=["guardian"], responses=ERRORS)  # type: ignore[arg-type]

NOT_FINAL = "the encrypted tally is not final yet: {why}. Guardians: wait until the office has closed every centre."


def _final_tally(office: Office) -> EncryptedTally:
    try:
        results.ready_for_counting(office)
    except results.ResultsError as exc:
        raise ApiError(409, ErrorCode.CONFLICT, NOT_FINAL.format(why=exc)) from None
    return results.encrypted_tally(office)


@router.get("/tally")
def tally(office: OfficeDep) -> dict[str, Any]:
    """The final encrypted tally, the input of ``election.guardian decrypt-share`` and ``compensate``."""
    data: dict[str, Any] = _final_tally(office).to_dict()
    return data


@router.get("/election")
def election(office: OfficeDep) -> dict[str, Any]:
    """What a guardian checks the tally against before computing a share offline."""
    final = _final_tally(office)
    return {
        "election_id": str(office.manifest.election_id),
        "manifest_hash": office.manifest.manifest_hash,
        "election_context": office.context.to_dict(),
        "guardians": [g.to_dict() for g in results.guardians(office)],
        "ballots_per_contest": {str(k): v for k, v in final.ballots_per_contest.items()},
        "cast_ballot_ids_hash": final.cast_ballot_ids_hash,
        "tally_path": "/api/guardian/tally",
    }
