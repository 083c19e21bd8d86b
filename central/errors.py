"""Errors of the office's counting services (closing, the decryption ceremony, results), each answered by the API
with its message: ``PhaseConflict`` as 409, ``LotDrawInvalid`` as 422, any other ``ResultsError`` as 409."""

from __future__ import annotations


class ResultsError(ValueError):
    """Results cannot be produced yet (or a share is refused); the message says why."""


class PhaseConflict(ResultsError):
    """Refused because of the election's phase (``central.phase``): HTTP 409 with the reason."""


class LotDrawInvalid(ResultsError):
    """A lot draw's outcome that cannot be recorded as given (winners not among the tied candidates...)."""
