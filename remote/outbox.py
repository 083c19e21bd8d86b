"""The voter app's outbox: this credential's last sequence number and the submission not yet answered.

One JSON file per election in the app's data directory (mode 0600), written atomically:
``{"format_version": 1, "last_sequence": n, "held": null | {"submission": <the exact body sent, base64>}}``.
It holds the *encrypted* ballot and its credential signature, never the seed or the voter's choices, so a
device that restarts after a lost connection sends the byte-identical submission again and learns from the
collector whether it arrived (the original receipt, ``duplicate: true``) or not (a refusal), never "maybe".
"""

from __future__ import annotations

import base64
import binascii
import json
import os
from pathlib import Path
from typing import Any, Final

from election.ballot import BallotFormatError, EncryptedBallot
from remote.client import Submission

FORMAT_VERSION: Final = 1
MAX_OUTBOX_BYTES: Final = 2 * 1024 * 1024


class OutboxError(Exception):
    """The outbox file is damaged; the message names it (the voter's device keeps it for inspection)."""


class Outbox:
    def __init__(self, data_dir: Path, election_id: str) -> None:
        safe = "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in election_id)
        self.path = data_dir / f"outbox-{safe}.json"

    def _read(self) -> dict[str, Any]:
        if not self.path.exists():
            return {"format_version": FORMAT_VERSION, "last_sequence": 0, "held": None}
        try:
            if self.path.stat().st_size > MAX_OUTBOX_BYTES:
                raise OutboxError(f"{self.path} is too large to be the voter app's outbox")
            data = json.loads(self.path.read_bytes())
        except (OSError, ValueError) as exc:
            raise OutboxError(f"{self.path} cannot be read ({exc})") from None
        if (
            not isinstance(data, dict)
            or set(data) != {"format_version", "last_sequence", "held"}
            or data["format_version"] != FORMAT_VERSION
            or type(data["last_sequence"]) is not int
            or data["last_sequence"] < 0
        ):
            raise OutboxError(f"{self.path} is not a voter app outbox")
        return data

    def _write(self, data: dict[str, Any]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        tmp = self.path.with_suffix(".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            json.dump(data, out)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, self.path)

    def next_sequence(self) -> int:
        """The sequence of the next new submission: above every one this device has made (a held submission
        keeps its own)."""
        return int(self._read()["last_sequence"]) + 1

    def hold(self, submission: Submission) -> None:
        data = self._read()
        data["last_sequence"] = max(int(data["last_sequence"]), submission.sequence)
        data["held"] = {"submission": base64.b64encode(submission.body).decode("ascii")}
        self._write(data)

    def held(self) -> Submission | None:
        held = self._read()["held"]
        if held is None:
            return None
        try:
            body = base64.b64decode(held["submission"], validate=True)
            parsed = json.loads(body)
            ballot = EncryptedBallot.from_dict(parsed["ballot"])
            return Submission(str(parsed["submission_id"]), int(parsed["sequence"]), ballot, body)
        except (KeyError, TypeError, ValueError, binascii.Error, BallotFormatError) as exc:
            raise OutboxError(f"{self.path}: the held submission is damaged ({exc})") from None

    def save_challenged(self, ballot_id: str, data: bytes) -> Path:
        """A challenged (spoiled) ballot with its seed, for the voter's second device; never sent anywhere."""
        path = self.path.parent / f"challenged-{ballot_id}.json"
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as out:
            out.write(data)
        return path

    def done(self, submission: Submission) -> None:
        data = self._read()
        data["held"] = None
        self._write(data)
