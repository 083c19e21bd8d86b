"""Ballot batch ingest: origin, proofs, ballot style, the kiosk's batch chain, idempotency, running tally.

The parts: ``origin`` (enrolled kiosk, signature, refusal record), ``judging`` (each ballot's verdict), ``links``
(the batch as a link of the kiosk's batch chain, provisional links), ``tally`` (the running tally) and ``batch``
(the flow below and the transaction that stores a batch).

Order of checks for one ``BallotBatch`` (sync protocol v1):
1. the batch's kiosk is the TLS peer (checked by the API), is in the manifest and is enrolled;
2. the kiosk's signature over ``signing_bytes(batch)`` verifies with its enrolled certificate's key;
3. idempotency: a batch id seen before with the same bytes returns the stored receipt (no double count); with
   other bytes it is a conflict, refused and logged (checked first, in one short read with 2.);
4. per ballot (CPU work, outside any lock, submitted to the checker's workers before 2. is computed and
   cancelled if 2. fails): parse and verify every proof, the wire style equals the encrypted ballot's style,
   the kiosk's centre serves that wilayat (if not: FLAGGED for the committee, Art. 6, ``central.adjudication``);
5. inside one transaction holding the kiosk row lock: each ballot's confirmation code is recomputed
   (``H("confirmation"; genesis, kiosk, ballot hash)``; a ballot whose code differs is refused with the reason);
   each of the batch's ``provisional_codes`` must be the code of a provisional envelope of this kiosk the office
   holds, whose ballot's code recomputes, that no earlier batch linked (else the whole batch is refused); accepted
   cast ballots are added to the per-contest encrypted tally;
6. the batch's kiosk-signed chain head (``central.chains``; signature and genesis checked with 2.) must be where
   the kiosk's batch chain now ends: its root is ``batch_root(the kiosk's last root, kiosk, every code the batch
   links)`` (its ballots' codes as sent and its provisional codes), and the batch's cast, challenged and
   provisional links added to the previous head's counts give its counts. Otherwise the whole batch is refused
   (409 conflict, nothing stored). After the kiosk's chain close, a head beyond that close is refused too.

A batch id already stored with the same bytes is a replay (the stored receipt again); a NEW batch holding a ballot
an earlier batch brought is refused whole (409: a ballot is a link of one batch only; no kiosk does that). Rejected
ballots are stored with their reason (status ``refused``: never counted; ``rejected`` is only the committee's
decision on a flagged ballot), rejected batches in ``rejected_submissions``.
"""

from central.ingest.batch import IngestResult, ingest_batch
from central.ingest.links import LINKED_BY
from central.ingest.origin import IngestRefused, WireForms, arrival_minute, check_origin, kiosk_certificate, refuse
from central.ingest.tally import add_to_tally

__all__ = [
    "LINKED_BY",
    "IngestRefused",
    "IngestResult",
    "WireForms",
    "add_to_tally",
    "arrival_minute",
    "check_origin",
    "ingest_batch",
    "kiosk_certificate",
    "refuse",
]
