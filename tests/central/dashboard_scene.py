"""Helpers of the dashboard's browser tests and screenshots: the office's TLS under uvicorn, a ballot the committee
did not count, the short form of a confirmation code, and what a page's layout must satisfy."""

from __future__ import annotations

import base64
import contextlib
import socket
import ssl
import threading
import time
from collections.abc import Iterator
from typing import Any

import uvicorn

from central import adjudication
from central.models import Ballot, BallotStatus
from central.office import Office
from central.provisional import Decision
from central.tls import TlsH11Protocol
from devtools.kiosksim import Election, SimKiosk

KHASAB = "K-PC-002-1"  # a kiosk of a centre that serves Khasab (MU-01) only


@contextlib.contextmanager
def tls_serve(app: Any, election: Election) -> Iterator[str]:
    """The office's app under uvicorn with the office's TLS (server certificate, kiosk CA, optional client
    certificate: the dashboard is public, the kiosk routes are not), as ``python -m central serve`` runs it."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    pki = election.pki
    server = uvicorn.Server(
        uvicorn.Config(
            app,
            host="127.0.0.1",
            port=port,
            log_level="warning",
            lifespan="off",
            access_log=False,
            http=TlsH11Protocol,
            ssl_certfile=str(pki.central_server.cert_path),
            ssl_keyfile=str(pki.central_server.key_path),
            ssl_ca_certs=str(pki.kiosk_ca.cert_path),
            ssl_cert_reqs=ssl.CERT_OPTIONAL,
        )
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline:
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.02)
    try:
        yield f"https://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def trust(election: Election, kiosk_id: str | None = None) -> ssl.SSLContext:
    """Trusts the office's server certificate; with ``kiosk_id``, presents that kiosk's client certificate."""
    pki = election.pki
    ctx = ssl.create_default_context(cafile=str(pki.central_server.cert_path.parent / "ca.pem"))
    if kiosk_id is not None:
        pair = pki.kiosks[kiosk_id]
        ctx.load_cert_chain(str(pair.cert_path), str(pair.key_path))
    return ctx


def short_code(code_hex: str) -> str:
    """The confirmation code as the kiosk shows it (the first 10 bytes in base32, 4 groups of 4)."""
    short = base64.b32encode(bytes.fromhex(code_hex)[:10]).decode()
    return "-".join(short[i : i + 4] for i in range(0, 16, 4))


def committee_rejects_one(office: Office, kiosks: dict[str, SimKiosk]) -> str:
    """A Khasab kiosk sends a Bukha ballot (its centre does not serve Bukha: flagged at ingest, Art. 6) and the
    committee decides not to count it. Returns its confirmation code (hex)."""
    kiosk = kiosks[KHASAB]
    flagged = kiosk.cast("BS-MU-02")
    receipt = kiosk.send(kiosk.make_batch()).json()
    assert receipt["accepted"] == 1, receipt
    with office.db.transaction() as s:
        assert s.get_one(Ballot, flagged.ballot_id).status is BallotStatus.FLAGGED
    status = adjudication.decide_ballot(
        office, flagged.ballot_id, Decision.REJECT, "no voter of Bukha checked in here (sheet 4)", actor="cm-1"
    )
    assert status is BallotStatus.REJECTED
    return flagged.confirmation_code


FITS_WIDTH = "document.documentElement.scrollWidth <= window.innerWidth"
"""A page that does not overflow sideways (no horizontal scrolling of the document)."""

LABELS_INSIDE = """() => [...document.querySelectorAll('svg.chart')].flatMap(svg => {
  const box = svg.getBoundingClientRect();
  return [...svg.querySelectorAll('text')].map(t => t.getBoundingClientRect())
    .filter(r => r.left < box.left - 0.5 || r.right > box.right + 0.5).map(r => [r.left, r.right, box.left, box.right]);
})"""
"""Every chart label's box that sticks out of its chart (an empty list when none is clipped)."""

AXIS_OVERLAPS = """() => [...document.querySelector('#day svg.chart').querySelectorAll('text.lbl')]
  .map(t => t.getBoundingClientRect())
  .filter((r, i, all) => i > 0 && r.left < all[i - 1].right).length"""
"""How many day-chart axis labels overlap the one before."""

HIDDEN_COLUMNS = """() => [...document.querySelectorAll('td, th')].filter(c => {
  const r = c.getBoundingClientRect(), box = c.closest('section').getBoundingClientRect();
  return r.width > 0 && (r.left < box.left - 1 || r.right > box.right + 1);
}).map(c => c.closest('section').id + ': ' + c.textContent)"""
"""Table cells that stick out of their section (columns one would have to scroll sideways to see)."""
