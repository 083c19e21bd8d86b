"""The decryption ceremony at the office: the guardians' public records, and each guardian's decryption share of
the frozen tally, stored only once its proofs verify against that tally (the first moves the election to
``decrypting``). Decrypting the tally from the shares is ``central.results.compute_results``'s first step."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from central import audit, phase
from central.capabilities import ElectionRecords
from central.closing import final_tally
from central.errors import PhaseConflict, ResultsError
from central.models import GuardianShare
from election.decryption import DecryptionError, PartialDecryption, verify_share
from election.keyceremony import GuardianRecord


def guardians(election_dir: Path) -> tuple[GuardianRecord, ...]:
    """The guardians' public records of the key ceremony (``<election_dir>/guardians/guardian-*.json``)."""
    paths = sorted((election_dir / "guardians").glob("guardian-*.json"))
    return tuple(GuardianRecord.from_dict(json.loads(p.read_text(encoding="utf-8"))) for p in paths)


def upload_share(office: ElectionRecords, data: dict[str, Any], *, actor: str) -> str:
    """Store one guardian's decryption share after checking its proofs against the frozen tally. The first share
    moves the election to ``decrypting``; a share after publication is refused."""
    with office.db.transaction() as s:
        if phase.current(s).phase is phase.Phase.PUBLISHED:
            raise PhaseConflict(phase.PhaseRefused(phase.Write.SHARE_UPLOAD, "results are published").args[0])
    tally = final_tally(office, actor=actor)
    try:
        share = PartialDecryption.from_dict(data)
        verify_share(office.context, tally, share)
    except (DecryptionError, ValueError) as exc:
        raise ResultsError(f"share refused: {exc}") from None
    key = str(share.guardian) if share.missing is None else f"{share.missing}-by-{share.guardian}"
    now = office.clock()
    with office.db.transaction() as s:
        row = phase.lock_for_transition(s)
        reason = phase.refusal(phase.Write.SHARE_UPLOAD, phase.Phase(row.phase), None)
        if reason is not None:
            raise PhaseConflict(phase.PhaseRefused(phase.Write.SHARE_UPLOAD, reason).args[0])
        existing = s.get(GuardianShare, key)
        if existing is None:
            s.add(GuardianShare(guardian_id=key, payload=data, uploaded_by=actor))
        else:
            existing.payload, existing.uploaded_by = data, actor
        audit.append(s, at=now, actor=actor, action="guardian_share.uploaded", details={"share": key})
        if phase.Phase(row.phase) is phase.Phase.TALLY_FROZEN:
            phase.transition(s, row, phase.Phase.DECRYPTING, now, actor=actor, signing=office.signing)
    return key
