"""Public, read-only API for the guardians: the final encrypted tally and what a guardian needs beside it.

A guardian computes a decryption share offline, on their own machine, from two things: their sealed
ceremony secrets (never on the office) and the encrypted tally. The tally is served here, without a login,
once it is final: polls closed at every centre and nothing awaiting the committee (``results.ready_for_counting``).
Before that the answer is 409 with what is still missing, so nobody computes a share on a tally that will
still change (the office would refuse the share on upload).

- ``GET /api/guardian/record``: the election record before decryption, as a tar archive (one top-level directory
  ``record/``, written by ``election.record.write_record``): manifest, context, guardians, cast and challenged
  ballots, kiosk chains, the kiosks' statements when the record has them, the vote collector's ``remote/`` part and
  the election package's ``package/`` part (``central.record_writer.outside_parts``), and
  ``tally/encrypted_tally.json`` as the office claims it; no shares, results or poll-book counts. This is what
  ``python -m election.guardian decrypt-share|compensate`` takes: the guardian recomputes the tally from the
  ballots and refuses any other.
- ``GET /api/guardian/tally``: the office's encrypted tally alone (``EncryptedTally.to_dict()``), for reading;
  the guardian CLI no longer decrypts a bare tally.
- ``GET /api/guardian/election``: the public facts to check it against: the election context (base hash,
  joint key, quorum), the guardians' public records, the number of ballots per contest, the cast ballots' hash.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tarfile
import tempfile
from pathlib import Path
from typing import Any

from fastapi import APIRouter
from fastapi.responses import FileResponse

from central import ceremony, closing, record_writer
from central.api.deps import OfficeDep
from central.api.errors import ERRORS, ApiError
from central.chains import kiosk_statements
from central.errors import ResultsError
from central.office import Office
from election.canonical import json_hash
from election.record import ElectionRecord, entry_code, write_record
from election.tally import EncryptedTally
from sync.protocol import ErrorCode

router = APIRouter(prefix="/api/guardian", tags=["guardian"], responses=ERRORS)  # type: ignore[arg-type]

NOT_FINAL = "the encrypted tally is not final yet: {why}. Guardians: wait until the office has closed every centre."


def _final_tally(office: Office) -> EncryptedTally:
    try:  # served as final = frozen (central.phase): nothing can change it afterwards
        return closing.final_tally(office, actor="guardian export")
    except ResultsError as exc:
        raise ApiError(409, ErrorCode.CONFLICT, NOT_FINAL.format(why=exc)) from None


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
        "guardians": [g.to_dict() for g in ceremony.guardians(office.config.election_dir)],
        "ballots_per_contest": {str(k): v for k, v in final.ballots_per_contest.items()},
        "cast_ballot_ids_hash": final.cast_ballot_ids_hash,
        "tally_path": "/api/guardian/tally",
    }


def pre_decryption_record(office: Office) -> ElectionRecord:
    """The record as it stands before decryption: everything the guardians check, and no shares or results."""
    tally = _final_tally(office)
    chains, _withheld = record_writer.record_chains(office.db, office.context.base_hash)
    return ElectionRecord(
        office.manifest,
        office.context,
        ceremony.guardians(office.config.election_dir),
        chains,
        tally,
        (),
        None,
        kiosks=kiosk_statements(office.db),  # the kiosks' certificates and signed chain closes: guardians check them
    )


def _normalised(info: tarfile.TarInfo) -> tarfile.TarInfo:
    """Archive members without the office's owners or times, so the same record always gives the same bytes."""
    info.uid = info.gid = 0
    info.uname = info.gname = ""
    info.mtime = 0
    info.mode = 0o755 if info.isdir() else 0o644
    return info


def _chain_codes(record: ElectionRecord) -> dict[str, list[list[str]]]:
    """Each chain's batches in order, each its codes sorted: they commit to every ballot and withheld link and to the
    batches' composition, so they identify the chains."""
    return {
        kiosk: [sorted(entry_code(e).hex() for e in batch) for batch in batches]
        for kiosk, batches in sorted(record.chains.items())
    }


def record_archive(office: Office) -> Path:
    """The pre-decryption record's tar archive, written once per content (the frozen tally, the chains' codes and
    the kiosks' statements name it) under ``<record_dir>/pre-decryption/``: a public GET re-sends the file."""
    election_record = pre_decryption_record(office)
    try:  # remote/ (the vote collector's) and package/: 409 until the collector's part is there
        outside = record_writer.outside_parts(office.config.election_dir, office.manifest)
    except ResultsError as exc:
        raise ApiError(409, ErrorCode.CONFLICT, str(exc)) from None
    key = json_hash(
        {
            "tally": election_record.tally.to_dict(),
            "chains": _chain_codes(election_record),
            "kiosks": {k: v.to_dict() for k, v in sorted(election_record.kiosks.items())},
            "outside": {name: hashlib.sha256(data).hexdigest() for name, data in sorted(outside.items())},
        }
    )
    cache = office.config.record_dir / "pre-decryption"
    archive = cache / f"record-{key[:32]}.tar"
    if archive.is_file():
        return archive
    cache.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix="writing-", dir=cache))
    try:
        write_record(scratch / "record", election_record)
        record_writer.write_files(scratch / "record", outside)
        with tarfile.open(scratch / "record.tar", "w", format=tarfile.PAX_FORMAT) as tar:
            tar.add(scratch / "record", arcname="record", filter=_normalised)
        os.replace(scratch / "record.tar", archive)  # atomic: a concurrent request sees the whole file or none
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return archive


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


@router.get(
    "/record",
    response_class=FileResponse,
    responses={200: {"content": {"application/x-tar": {}}, "description": "the pre-decryption record (tar)"}},
)
def record(office: OfficeDep) -> FileResponse:
    """The pre-decryption election record (tar), the input of ``election.guardian decrypt-share`` and
    ``compensate``; 409 until counting may begin. ``X-Record-SHA256`` is the archive's SHA-256, which the guardian
    CLI prints too: guardians compare it to see that the office served them all the same record."""
    archive = record_archive(office)
    return FileResponse(
        archive,
        media_type="application/x-tar",
        filename="pre-decryption-record.tar",
        headers={"X-Record-SHA256": _sha256(archive)},
    )
