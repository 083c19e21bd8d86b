"""Outcomes of reading and authenticating a card: expected failures are values, one reason each."""

from __future__ import annotations

import enum
from dataclasses import dataclass


class FailureReason(enum.Enum):
    """Why a card was refused. The kiosk maps each to a voter-facing message id."""

    EXPIRED = "expired"
    NOT_YET_VALID = "not_yet_valid"
    UNTRUSTED = "untrusted"  # unknown issuer, self-signed, broken chain
    REVOKED = "revoked"
    REVOCATION_STALE = "revocation_data_stale"  # CRL missing, past nextUpdate, or not yet valid
    BAD_SIGNATURE = "bad_signature"  # the card's signature over the challenge does not verify
    WRONG_KEY_USAGE = "wrong_key_usage"  # certificate not for authentication
    IDENTITY_MISMATCH = "identity_mismatch"  # certificate subject and identity file disagree
    WRONG_PIN = "wrong_pin"  # tries_left says how many remain
    PIN_BLOCKED = "pin_blocked"
    PIN_FORMAT = "pin_format"  # typed PIN does not fit the card's rules; the card was not asked
    CARD_REMOVED = "card_removed"
    READER_GONE = "reader_gone"
    READER_BUSY = "reader_busy"
    SERVICE_GONE = "service_gone"  # pcscd not running
    UNSUPPORTED_CARD = "unsupported_card"  # no profile for the ATR, or the applet/file is missing
    CARD_ERROR = "card_error"  # the card answered with garbage or an unexpected status
    MALFORMED_CERTIFICATE = "malformed_certificate"  # the card's certificate does not parse (bad DER, UTF-8, ...)
    CARD_TIMEOUT = "card_timeout"  # the card did not finish a phase within the profile's time limit


@dataclass(frozen=True)
class AuthFailure:
    reason: FailureReason
    detail: str  # for logs and staff; never holds a PIN or raw card data
    tries_left: int | None = None
