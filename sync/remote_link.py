"""The central office's link to the vote collector's internal listener (docs/remote-voting.md, section 5): at a
kiosk check-in, whether the voter has a remote ballot (``/internal/v1/status``); at the voted mark, void the
voter's credential (``/internal/v1/void``). Mutual TLS with the office's client certificate; short timeouts and
fail-open: an unreachable collector never stops an in-person vote (the collector's handover finds the voter
marked as voted in the poll book and voids the credential then)."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path

import requests

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RemoteLinkConfig:
    url: str  # https://collector-internal:8444
    client_cert: Path
    client_key: Path
    ca: Path  # the CA of the collector's server certificate


class RemoteVoteLink:
    def __init__(self, config: RemoteLinkConfig, *, timeout: float = 2.0) -> None:
        self.base = config.url.rstrip("/")
        self._session = requests.Session()
        self._session.cert = (str(config.client_cert), str(config.client_key))
        self._session.verify = str(config.ca)
        self._session.trust_env = False
        self._timeout = timeout

    def _post(self, path: str, civil_number: str, key: str) -> bool | None:
        try:
            reply = self._session.post(
                self.base + path,
                data=json.dumps({"civil_number": civil_number}),
                headers={"Content-Type": "application/json"},
                timeout=self._timeout,
            )
            value = reply.json().get(key) if reply.status_code == 200 else None
        except (requests.RequestException, ValueError, AttributeError):
            value = None
        if not isinstance(value, bool):
            log.warning("vote collector unreachable or refused (%s)", path)  # no civil number in the log
            return None
        return value

    def has_remote_vote(self, civil_number: str) -> bool | None:
        """None: the collector could not be asked."""
        return self._post("/internal/v1/status", civil_number, "has_remote_vote")

    def void(self, civil_number: str) -> bool | None:
        """Whether the voided credential had a remote ballot; None: the collector could not be reached."""
        return self._post("/internal/v1/void", civil_number, "had_remote_vote")

    def close(self) -> None:
        self._session.close()
