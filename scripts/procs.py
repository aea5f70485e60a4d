"""Run the Procfile's processes together (what `honcho start` does) with a clean stop.

`make run` ends with Ctrl-C (or SIGTERM): every process gets SIGTERM and time to stop
(STOP_TIMEOUT seconds, default 30: the task cluster lets a running task reach its end,
gunicorn finishes the requests in flight) before anything is killed, and a stop that was asked
for and went cleanly exits 0 (honcho alone kills after 5 s and exits 130/143, which `make`
reports as an error). A process that crashes on its own still ends the others and exits
non-zero.

Run from the project root by scripts/run.sh, which exports the Procfile's variables (the
environment first, then `.env`, then the defaults); like `honcho start -e /dev/null`, no
`.env` is read here (it would override the environment).
"""

from __future__ import annotations

import os
import signal
import sys
from pathlib import Path

import honcho.manager
from honcho.environ import expand_processes, parse_procfile
from honcho.printer import Printer

# What a stop asked for leaves behind: 0, or death by SIGTERM/SIGINT (as a signal or as the
# shell's 128+n). A SIGKILL (-9, 137) means a process did not stop in time.
_CLEAN_STOP = {0, -15, -2, 130, 143}


class _StopLeaderFirst:
    """honcho signals a process's whole group: the cluster's worker processes then die under
    its supervisor, which waits for them forever. SIGTERM goes to the process itself (started
    with `exec`, so it leads its group) and lets it stop its children; SIGKILL, after
    STOP_TIMEOUT, still goes to the whole group."""

    def terminate(self, pid: int) -> None:
        try:
            os.kill(pid, signal.SIGTERM)
        except ProcessLookupError:
            pass

    def kill(self, pid: int) -> None:
        try:
            os.killpg(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def main() -> int:
    root = Path.cwd()
    honcho.manager.KILL_WAIT = int(os.environ.get("STOP_TIMEOUT", "30"))
    procfile = parse_procfile((root / "Procfile").read_text())
    manager = honcho.manager.Manager(Printer(sys.stdout, colour=sys.stdout.isatty()))
    manager._procmgr = _StopLeaderFirst()
    for process in expand_processes(
        procfile.processes, env={}, port=int(os.environ.get("PORT", "8000"))
    ):
        env = os.environ.copy()
        env.update(process.env)
        # `exec`: the shell becomes the process, so SIGTERM reaches it (see _StopLeaderFirst).
        manager.add_process(process.name, f"exec {process.cmd}", quiet=process.quiet, env=env)
    manager.loop()
    asked_to_stop = manager.returncode in (130, 143)
    codes = [p.get("returncode") for p in manager._processes.values()]
    if asked_to_stop and not all(code in _CLEAN_STOP for code in codes):
        sys.stdout.write(f"blingsync: a process did not stop in time (exit codes {codes})\n")
    if asked_to_stop and all(code in _CLEAN_STOP for code in codes):
        sys.stdout.write("blingsync: stopped\n")
        return 0
    return manager.returncode or 1


if __name__ == "__main__":
    sys.exit(main())
