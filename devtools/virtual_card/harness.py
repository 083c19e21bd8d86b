"""Test harness: an isolated pcscd with its own vpcd port, plus virtual cards inserted and pulled on demand.

Isolation: pcsc-lite 1.9.9's daemon ignores PCSCLITE_CSOCK_NAME (only the client library reads it) and
always serves /run/pcscd/pcscd.comm. So each harness runs pcscd in a private mount namespace
(``unshare --mount``, root only) where a per-process directory is bind-mounted on /run/pcscd; clients in
this process reach it through PCSCLITE_CSOCK_NAME=<dir>/pcscd.comm. Its own reader.conf gives the vpcd
driver its own port (DEVICENAME /dev/null:<port>, slots on port and port+1). Several test processes (e.g.
pytest-xdist workers) therefore run side by side without touching the system's /run/pcscd.
Where ``unshare`` is not possible (not root), the harness falls back to the system socket path under a
global file lock (/tmp/sanduq-pcscd.lock), one harness at a time on the machine.

libpcsclite reads PCSCLITE_CSOCK_NAME once per process, so the socket path is fixed per process
(/tmp/sanduq-pcsc-<pid>/run/pcscd.comm) and the harness sets it before any PC/SC call.

    with PcscHarness() as h:
        h.insert(VirtualCard.from_files(pki.voters["10000001"], profile))
        reader = h.reader_name()            # "Sanduq Virtual PCD 00 00"
        ...
        h.remove()
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Mapping
from pathlib import Path
from typing import IO

from devtools.virtual_card.card import VirtualCard
from devtools.virtual_card.vpcd import VpcdLink
from kiosk.card.transport import CardIoError, PcscContext

VPCD_DRIVER = Path("/usr/lib/pcsc/drivers/serial/libifdvpcd.so")
READER_NAME = "Sanduq Virtual PCD"
SYSTEM_SOCKET = Path("/run/pcscd/pcscd.comm")
GLOBAL_LOCK = Path(tempfile.gettempdir()) / "sanduq-pcscd.lock"
START_TIMEOUT = 20.0  # a deadline, not a delay: on a loaded machine (parallel tests) pcscd can take seconds
VPCD_SETTLE_SECONDS = 0.5


class HarnessError(RuntimeError):
    pass


# The socket directories of the harnesses running in this process: a second harness would unlink the first one's
# socket and delete its directory on stop (libpcsclite reads the socket path once per process, so both share it).
_RUNNING: set[Path] = set()


def _free_port_pair() -> int:
    """A port p with p and p+1 free (vpcd listens on both, one per slot)."""
    for _ in range(50):
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = int(probe.getsockname()[1])
        if port >= 65535:
            continue
        try:
            with socket.socket() as a, socket.socket() as b:
                a.bind(("0.0.0.0", port))  # noqa: S104 - vpcd itself binds all interfaces
                b.bind(("0.0.0.0", port + 1))  # noqa: S104
        except OSError:
            continue
        return port
    raise HarnessError("no free port pair for vpcd")


def can_isolate() -> bool:
    if os.geteuid() != 0 or shutil.which("unshare") is None:
        return False
    return subprocess.run(["unshare", "--mount", "true"], capture_output=True, check=False).returncode == 0


def env_for_own_harness(base: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment for a child process that will start its own harness.

    A running harness puts its socket path in this process's PCSCLITE_CSOCK_NAME; a child inheriting it would
    talk to the parent's pcscd (or refuse to start its own harness). Children meant to share the parent's
    daemon get ``harness.env`` added instead.
    """
    return {k: v for k, v in (os.environ if base is None else base).items() if k != "PCSCLITE_CSOCK_NAME"}


class PcscHarness:
    """An isolated pcscd + vpcd reader pair for this process; see the module docstring."""

    def __init__(self, port: int | None = None, isolate: bool | None = None) -> None:
        if shutil.which("pcscd") is None or not VPCD_DRIVER.exists():
            raise HarnessError("pcscd and vsmartcard-vpcd must be installed (apt-get install pcscd vsmartcard-vpcd)")
        self.isolated = can_isolate() if isolate is None else isolate
        self.port = port or _free_port_pair()
        self.dir = Path(tempfile.gettempdir()) / f"sanduq-pcsc-{os.getpid()}"
        self.socket_dir = self.dir / "run"
        self.socket = self.socket_dir / "pcscd.comm" if self.isolated else SYSTEM_SOCKET
        self.log_path = self.dir / "pcscd.log"
        self.conf = self.dir / "reader.conf"
        self._proc: subprocess.Popen[bytes] | None = None
        self._lock: IO[str] | None = None
        self._previous_socket_env: str | None = None
        self._log: IO[bytes] | None = None
        self.links: dict[int, VpcdLink] = {}

    # -- environment for this process and for child processes (pcsc_scan, opensc-tool) -----------------
    @property
    def env(self) -> dict[str, str]:
        return {"PCSCLITE_CSOCK_NAME": str(self.socket)} if self.isolated else {}

    def reader_name(self, slot: int = 0) -> str:
        return f"{READER_NAME} 00 {slot:02d}"

    # -- daemon ---------------------------------------------------------------------------------------
    def start(self) -> PcscHarness:
        if self.isolated and self.dir in _RUNNING:
            raise HarnessError(f"a harness already runs in process {os.getpid()}: use it (one harness per process)")
        current = os.environ.get("PCSCLITE_CSOCK_NAME")
        if self.isolated and current not in (None, str(self.socket)):
            raise HarnessError(f"PCSCLITE_CSOCK_NAME is already {current}: one harness socket per process")
        if not self.isolated:
            GLOBAL_LOCK.touch()
            self._lock = GLOBAL_LOCK.open("r")
            fcntl.flock(self._lock, fcntl.LOCK_EX)
        self.socket_dir.mkdir(parents=True, exist_ok=True)
        self.conf.write_text(
            f'FRIENDLYNAME "{READER_NAME}"\nDEVICENAME /dev/null:{self.port}\n'
            f"LIBPATH {VPCD_DRIVER}\nCHANNELID {self.port}\n",
            encoding="ascii",
        )
        # Restored by stop(): child processes started after this harness must not inherit its socket path.
        self._previous_socket_env = current
        os.environ.update(self.env)
        self._start_daemon()
        _RUNNING.add(self.dir)
        return self

    def _start_daemon(self) -> None:
        with contextlib.suppress(FileNotFoundError):
            self.socket.unlink()
        if self.isolated:
            Path("/run/pcscd").mkdir(parents=True, exist_ok=True)
            command = [
                "unshare", "--mount", "--propagation", "private", "sh", "-c",
                'mount --bind "$1" /run/pcscd && exec pcscd --foreground --info -c "$2"',
                "sh", str(self.socket_dir), str(self.conf),
            ]  # fmt: skip
        else:
            command = ["pcscd", "--foreground", "--info", "-c", str(self.conf)]
        self._log = self.log_path.open("ab")
        self._proc = subprocess.Popen(command, stdout=self._log, stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                raise HarnessError(f"pcscd exited with {self._proc.returncode}; see {self.log_path}")
            if self.socket.exists():
                with socket.socket(socket.AF_UNIX) as probe, contextlib.suppress(OSError):
                    probe.connect(str(self.socket))
                    return
            time.sleep(0.01)
        raise HarnessError(f"pcscd did not start within {START_TIMEOUT} s; see {self.log_path}")

    def _stop_daemon(self) -> None:
        if self._proc is not None:
            if self._proc.poll() is None:
                self._proc.send_signal(signal.SIGTERM)
                try:
                    self._proc.wait(5)
                except subprocess.TimeoutExpired:
                    self._proc.kill()
                    self._proc.wait(5)
            self._proc = None
        if self._log is not None:
            self._log.close()
            self._log = None

    def kill_pcscd(self) -> None:
        """Stop the daemon (as a crash or an administrator would); cards stay 'inserted' and reconnect later."""
        self._stop_daemon()

    def start_pcscd(self) -> None:
        self._start_daemon()

    def restart_pcscd(self) -> None:
        self._stop_daemon()
        self._start_daemon()

    def stop(self) -> None:
        _RUNNING.discard(self.dir)
        for slot in list(self.links):
            self.links.pop(slot).remove()
        self._stop_daemon()
        shutil.rmtree(self.dir, ignore_errors=True)
        if self.isolated:
            if self._previous_socket_env is None:
                os.environ.pop("PCSCLITE_CSOCK_NAME", None)
            else:
                os.environ["PCSCLITE_CSOCK_NAME"] = self._previous_socket_env
        if self._lock is not None:
            fcntl.flock(self._lock, fcntl.LOCK_UN)
            self._lock.close()
            self._lock = None

    def __enter__(self) -> PcscHarness:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- cards ----------------------------------------------------------------------------------------
    def insert(
        self, card: VirtualCard, slot: int = 0, remove_at_apdu: int | None = None, wait: bool = True
    ) -> VpcdLink:
        if slot in self.links:
            self.remove(slot)
        link = VpcdLink(card, self.port + slot, remove_at_apdu=remove_at_apdu).insert()
        self.links[slot] = link
        if wait:
            self.wait_for_card(slot, present=True)
        return link

    def remove(self, slot: int = 0, wait: bool = True) -> None:
        link = self.links.pop(slot, None)
        if link is not None:
            link.remove()
        if wait:
            self.wait_for_card(slot, present=False)
            if link is not None and link.pulled.is_set():
                # After a pull in the middle of a command, vpcd drops the dead connection only at pcscd's next
                # presence poll (every 0.4 s); a card inserted before that is never noticed.
                time.sleep(VPCD_SETTLE_SECONDS)

    def wait_for_card(self, slot: int = 0, present: bool = True, timeout: float = START_TIMEOUT) -> None:
        """Block until pcscd itself reports the card in ``slot`` present (or absent)."""
        reader = self.reader_name(slot)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                context = PcscContext()
            except CardIoError:
                time.sleep(0.05)
                continue
            try:
                known: dict[str, int] = {}
                states = context.card_states([reader], known, 0)
                while time.monotonic() < deadline:
                    if reader in states and states[reader][0] == present:
                        return
                    states = context.card_states([reader], known, 100)
            except CardIoError:
                time.sleep(0.05)
            finally:
                context.close()
        raise HarnessError(f"card in slot {slot} not {'present' if present else 'absent'} after {timeout} s")
