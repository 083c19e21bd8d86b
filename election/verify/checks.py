"""The verifier's checks, in order, and the parts of the record each one reads: the registry. The checks
themselves are in one module per group (``parameters``, ``ballots``, ``chains``, ``tally``, ``turnout``, ``closes``,
``office_audit``, ``remote``, ``package_part``); each reads the raw JSON of the record and raises ``Invalid``."""

from __future__ import annotations

from election.verify.ballots import check_cast_ballots, check_challenged_ballots
from election.verify.chains import WITHHELD_REASONS, check_chains
from election.verify.closes import check_closes
from election.verify.office_audit import check_office_audit
from election.verify.package_part import PATTERNS as PACKAGE_PATTERNS
from election.verify.package_part import check_package, not_run
from election.verify.parameters import check_parameters
from election.verify.parts import Check, RecordPart
from election.verify.primitives import Invalid, scalar
from election.verify.remote import PART_FILES as REMOTE_FILES
from election.verify.remote import check_remote, check_remote_turnout
from election.verify.state import State
from election.verify.tally import check_decryption, check_results, check_tally
from election.verify.turnout import check_record_files, check_turnout

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
    Check("remote", "remote ballots by credential", check_remote, ("ballots", "chains"), before_decryption=True),
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

__all__ = [
    "CHECKS",
    "RECORD_PARTS",
    "WITHHELD_REASONS",
    "Invalid",
    "State",
    "check_decryption",
    "check_parameters",
    "scalar",
]
