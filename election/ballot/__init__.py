"""Plaintext and encrypted ballots: encryption with proofs, strict parsing, verification.

An encrypted ballot holds, for each contest of its ballot style (in style order):

* one ciphertext per active candidate (``Contest.selection_ids`` order) with a 0/1 range proof;
* a *blank indicator* ciphertext b (1 if the voter marked nobody in the contest) with a 0/1 proof;
* a range proof that ``sum(selections) + seats * b`` is in [1, seats]. With b in {0, 1} this holds exactly
  when either b = 1 and nobody is marked, or b = 0 and 1..seats candidates are marked: it is the contest
  limit proof (the sum is in [0, seats]) and proves the blank indicator honest, so blank ballots can be
  counted homomorphically and reported separately.

Every nonce is derived from a per-ballot secret ``seed`` (passed in by the caller; the core draws no
randomness): xi = H("selection-nonce"; seed, H_E, ballot id, contest id, candidate id). Revealing the seed of a
challenged ballot therefore lets anyone re-encrypt it (``election.benaloh``). All proofs are bound to H_E
and to a label naming the ballot, contest and selection, so a proof cannot be moved to another ballot.

The modules: ``model`` (the format's constants, the errors, the plaintext and encrypted values, their dictionary
form and the proofs' labels), ``parse`` (the one strict parser of an encrypted ballot's JSON), ``encryption``
(``encrypt_ballot`` and ``selection_nonce``) and ``verification`` (``verify_ballot`` and the ingest's
``parse_and_verify_ballot``). Every public name is re-exported here: importers write ``from election.ballot import
...``.
"""

from election.ballot.encryption import encrypt_ballot, selection_nonce
from election.ballot.model import (
    BALLOT_FORMAT_VERSION,
    BLANK_LABEL,
    MAX_BALLOT_ID_LENGTH,
    SEED_BYTES,
    BallotError,
    BallotFormatError,
    BallotVerificationError,
    EncryptedBallot,
    EncryptedContest,
    EncryptedSelection,
    OvervoteError,
    PlaintextBallot,
    UnknownCandidateError,
    UnknownContestError,
    UnknownStyleError,
    contest_label,
    selection_label,
)
from election.ballot.verification import parse_and_verify_ballot, verify_ballot

__all__ = [
    "BALLOT_FORMAT_VERSION",
    "BLANK_LABEL",
    "MAX_BALLOT_ID_LENGTH",
    "SEED_BYTES",
    "BallotError",
    "BallotFormatError",
    "BallotVerificationError",
    "EncryptedBallot",
    "EncryptedContest",
    "EncryptedSelection",
    "OvervoteError",
    "PlaintextBallot",
    "UnknownCandidateError",
    "UnknownContestError",
    "UnknownStyleError",
    "contest_label",
    "encrypt_ballot",
    "parse_and_verify_ballot",
    "selection_label",
    "selection_nonce",
    "verify_ballot",
]
