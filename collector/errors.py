"""The collector's refusals: one typed error per bad input, with its HTTP status (docs/remote-voting.md, 2)."""

from __future__ import annotations

import enum
from typing import Any


class ErrorCode(enum.Enum):
    BAD_REQUEST = ("bad_request", 422)
    TOO_LARGE = ("too_large", 413)
    UNKNOWN_CHALLENGE = ("unknown_challenge", 404)
    STALE_CHALLENGE = ("stale_challenge", 410)
    CARD_REFUSED = ("card_refused", 403)
    NOT_ON_ROLL = ("not_on_roll", 403)
    NOT_ELIGIBLE = ("not_eligible", 403)
    WINDOW_CLOSED = ("window_closed", 403)
    VOTED_IN_PERSON = ("voted_in_person", 409)
    NO_CREDENTIAL = ("no_credential", 404)
    BAD_SIGNATURE = ("bad_signature", 422)
    BAD_BALLOT = ("bad_ballot", 422)
    WRONG_STYLE = ("wrong_style", 422)
    STALE_SEQUENCE = ("stale_sequence", 409)
    CONFLICT = ("conflict", 409)
    NOT_FOUND = ("not_found", 404)
    EXPIRED = ("expired", 410)
    RATE_LIMITED = ("rate_limited", 429)
    FORBIDDEN = ("forbidden", 403)

    @property
    def code(self) -> str:
        return self.value[0]

    @property
    def status(self) -> int:
        return self.value[1]


class CollectorError(Exception):
    def __init__(self, code: ErrorCode, detail: str, *, retry_after: int | None = None) -> None:
        super().__init__(f"{code.code}: {detail}")
        self.code, self.detail, self.retry_after = code, detail, retry_after

    def body(self) -> dict[str, Any]:
        return {"error": self.code.code, "detail": self.detail}
