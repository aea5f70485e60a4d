"""Subprocesses of a drill: started in their own process group, logs captured to files.

A ``Proc`` owns one process group (``start_new_session``), so ``kill()`` reaches every child
(qcluster forks a sentinel, a monitor, a pusher and workers; gunicorn forks its workers) and
nothing else on the machine. ``stop()`` asks politely (SIGTERM), then SIGKILLs after a bound.
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import time
from pathlib import Path

log = logging.getLogger(__name__)


class Proc:
    def __init__(
        self, name: str, argv: list[str], *, env: dict[str, str], cwd: Path, log_path: Path
    ):
        self.name = name
        self.argv = argv
        self.env = env
        self.cwd = cwd
        self.log_path = log_path
        self.popen: subprocess.Popen[bytes] | None = None
        self.starts = 0

    def start(self) -> Proc:
        if self.alive:
            raise RuntimeError(f"{self.name} is already running")
        logfile = open(self.log_path, "ab")  # noqa: SIM115 - handed to the child, closed in stop
        logfile.write(f"\n===== start {self.name} at {time.strftime('%H:%M:%S')} =====\n".encode())
        logfile.flush()
        self.popen = subprocess.Popen(
            self.argv,
            env=self.env,
            cwd=self.cwd,
            stdout=logfile,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
        logfile.close()
        self.starts += 1
        log.info("started %s (pid %s)", self.name, self.popen.pid)
        return self

    @property
    def pid(self) -> int | None:
        return self.popen.pid if self.popen else None

    @property
    def alive(self) -> bool:
        return self.popen is not None and self.popen.poll() is None

    def _signal_group(self, sig: int) -> None:
        if self.popen is None:
            return
        try:
            os.killpg(self.popen.pid, sig)
        except ProcessLookupError:
            pass

    def kill(self) -> None:
        """SIGKILL the whole group at once, as a crash (OOM killer, power loss) would."""
        self._signal_group(signal.SIGKILL)
        if self.popen is not None:
            try:
                self.popen.wait(timeout=10)
            except subprocess.TimeoutExpired:
                log.warning("%s did not die within 10 s of SIGKILL", self.name)
        log.info("killed %s", self.name)

    def stop(self, timeout: float = 15.0) -> None:
        if self.popen is None:
            return
        if self.popen.poll() is None:
            self._signal_group(signal.SIGTERM)
            try:
                self.popen.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                log.warning("%s ignored SIGTERM for %.0f s: SIGKILL", self.name, timeout)
        # Children may outlive the leader; the group is ours, so make sure it is gone.
        self._signal_group(signal.SIGKILL)
        try:
            self.popen.wait(timeout=5)
        except subprocess.TimeoutExpired:
            pass

    def log_text(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""
