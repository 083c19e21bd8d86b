"""Process supervision for the election day: start, wait for readiness, kill (-9 too), and never leave a child
behind (every child is in its own process group, and all are killed at exit, even on Ctrl-C)."""

from __future__ import annotations

import atexit
import contextlib
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from devtools.virtual_card.harness import env_for_own_harness


class SupervisorError(RuntimeError):
    pass


@dataclass
class Child:
    name: str
    proc: subprocess.Popen[bytes]
    log_path: Path
    lines: list[str] = field(default_factory=list)
    _log: IO[bytes] | None = None
    pump: threading.Thread | None = None

    @property
    def pid(self) -> int:
        return self.proc.pid

    def alive(self) -> bool:
        return self.proc.poll() is None


class Supervisor:
    def __init__(self, log_dir: Path) -> None:
        self.log_dir = log_dir
        log_dir.mkdir(parents=True, exist_ok=True)
        self.children: dict[str, Child] = {}
        self._lock = threading.Lock()
        atexit.register(self.stop_all)

    def start(self, name: str, argv: list[str], *, env: dict[str, str] | None = None, cwd: Path | None = None) -> Child:
        """Start a child in its own process group; its stdout and stderr go to ``<log_dir>/<name>.log``
        and are also kept in memory line by line (for markers such as KILL-POINT)."""
        old = self.children.get(name)
        if old is not None and old.alive():
            raise SupervisorError(f"{name} is already running (pid {old.pid})")
        log_path = self.log_dir / f"{name}.log"
        log = log_path.open("ab")
        proc = subprocess.Popen(
            argv,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            env={**inherited_env(), **(env or {})},
            cwd=cwd,
            start_new_session=True,
        )
        child = Child(name, proc, log_path, _log=log)
        child.pump = threading.Thread(target=self._pump, args=(child,), daemon=True)
        child.pump.start()
        with self._lock:
            self.children[name] = child
        return child

    @staticmethod
    def _pump(child: Child) -> None:
        assert child.proc.stdout is not None and child._log is not None
        with child.proc.stdout, child._log:
            for raw in child.proc.stdout:
                child._log.write(raw)
                child._log.flush()
                child.lines.append(raw.decode("utf-8", "replace").rstrip("\n"))

    def wait_for_line(self, child: Child, marker: str, timeout: float) -> str:
        deadline = time.monotonic() + timeout
        seen = 0
        while time.monotonic() < deadline:
            for line in child.lines[seen:]:
                if marker in line:
                    return line
            seen = len(child.lines)
            if not child.alive() and seen == len(child.lines):
                raise SupervisorError(
                    f"{child.name} exited ({child.proc.returncode}) before {marker!r}; see {child.log_path}"
                )
            time.sleep(0.05)
        raise SupervisorError(f"{child.name}: no {marker!r} within {timeout:.0f} s; see {child.log_path}")

    def wait(self, child: Child, timeout: float) -> int:
        try:
            code = child.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill(child.name)
            raise SupervisorError(f"{child.name} did not finish within {timeout:.0f} s; see {child.log_path}") from None
        if child.pump is not None:
            child.pump.join(5)  # every line is read before the caller looks at them
        return code

    def kill(self, name: str, sig: signal.Signals = signal.SIGKILL) -> None:
        child = self.children.get(name)
        if child is None or not child.alive():
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(child.pid, sig)
        with contextlib.suppress(subprocess.TimeoutExpired):
            child.proc.wait(10)

    def stop(self, name: str, timeout: float = 10.0) -> None:
        child = self.children.get(name)
        if child is None or not child.alive():
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(child.pid, signal.SIGTERM)
        try:
            child.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill(name)

    def stop_all(self) -> None:
        for name in list(self.children):
            self.stop(name, timeout=5)


def inherited_env() -> dict[str, str]:
    """This process's environment minus what is private to it (a child kiosk starts its own pcscd)."""
    return env_for_own_harness()


def wait_for_port(host: str, port: int, timeout: float, alive: Callable[[], bool] = lambda: True) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not alive():
            raise SupervisorError(f"the process behind {host}:{port} exited")
        with socket.socket() as s:
            s.settimeout(0.2)
            if s.connect_ex((host, port)) == 0:
                return
        time.sleep(0.05)
    raise SupervisorError(f"nothing listens on {host}:{port} after {timeout:.0f} s")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def python() -> str:
    return sys.executable
