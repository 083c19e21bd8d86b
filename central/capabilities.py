"""What each of the office's services may touch of the office (issue #19: services take the session, manifest and
clock they need, not the whole ``central.office.Office``).

Each service names one of these protocols in its signature, so mypy stops it reaching further (no configuration,
staff CA, TLS paths or CRLs it has no business with). ``Office`` satisfies all of them structurally, so the API,
the CLI and the tests pass the office they hold; a test may pass any smaller value that has the members.

    Records          db, clock                         the adjudication queue, counting readiness, the poll book
    ElectionRecords  + manifest, context, signing      closing the polls, the freeze, the guardians' shares
    Counting         + checker                         a committee decision on a flagged ballot
    ProvisionalDesk  + envelope_key, bucket minutes    provisional envelopes (central.provisional)
    ManualDesk       Records + manifest, embassies     manual result sheets (central.manual)
    Publishing       ElectionRecords + signer, dirs    results and the record (central.results)
    Observed         Records + manifest, bucket        the dashboard (central.dashboard)

The audit log is no member: a service appends to it in its own transaction (``central.audit.append(s, ...)``) and
signs a phase transition's head with ``signing``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import Protocol

from central import audit, phase
from central.checker import BallotChecker
from central.db import Database
from election.context import ElectionContext
from election.manifest import Manifest

Clock = Callable[[], dt.datetime]


class Records(Protocol):
    """The office's database and its clock: a service's transactions and the time its audit entries carry."""

    @property
    def db(self) -> Database: ...

    @property
    def clock(self) -> Clock: ...


class ElectionRecords(Records, Protocol):
    """Records and the election's definition: the manifest, the election context (whose base hash the tally and
    the guardians' shares are held to) and what a phase transition's signed head names (``phase.Signing``)."""

    @property
    def manifest(self) -> Manifest: ...

    @property
    def context(self) -> ElectionContext: ...

    @property
    def signing(self) -> phase.Signing: ...


class Counting(ElectionRecords, Protocol):
    """And the ballot checker: a service that checks a stored ballot again and adds it to the running tally."""

    @property
    def checker(self) -> BallotChecker: ...


class ProvisionalDesk(Counting, Protocol):
    """And what settling a provisional envelope needs: the office's X25519 key that opens the sealed identity
    (None: the office cannot open one) and the poll book's turnout bucket width (``[policy]``)."""

    @property
    def envelope_key(self) -> bytes | None: ...

    @property
    def turnout_bucket_minutes(self) -> int: ...


class ManualDesk(Records, Protocol):
    """Records, the manifest (contests, candidates, centres) and the embassies whose manual sheets the office
    accepts (``[manual] embassies``)."""

    @property
    def manifest(self) -> Manifest: ...

    @property
    def embassies(self) -> tuple[str, ...]: ...


class Publishing(ElectionRecords, Protocol):
    """And what writing the record needs: the office's head signer, the election directory (the guardians'
    records, the package parts the record carries, the commission key when the office holds it) and where
    records are written."""

    @property
    def signer(self) -> audit.OfficeSigner | None: ...

    @property
    def election_dir(self) -> Path: ...

    @property
    def record_dir(self) -> Path: ...


class Observed(Records, Protocol):
    """What the dashboard reads: Records, the manifest (names, the time zone) and the turnout bucket width."""

    @property
    def manifest(self) -> Manifest: ...

    @property
    def turnout_bucket_minutes(self) -> int: ...
