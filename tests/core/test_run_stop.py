"""`make run` ends cleanly on Ctrl-C: scripts/procs.py sends SIGTERM to each Procfile process
itself (not to its group, whose members the process must stop on its own), waits for it and
exits 0; honcho alone killed the task cluster and exited 130/143 ("Error 143" from make)."""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "procs.py"

# A supervisor with a child in its own process group, like the task cluster: on SIGTERM it
# stops its child and exits 0. A SIGTERM sent to the whole group kills the child under it.
SUPERVISOR = """
import signal, subprocess, sys, pathlib
child = subprocess.Popen([sys.executable, "-c", "import signal,time; signal.signal(signal.SIGTERM, signal.SIG_DFL); time.sleep(600)"])
def stop(signum, frame):
    child.terminate()
    child.wait()
    pathlib.Path(sys.argv[1]).write_text(str(child.returncode))
    sys.exit(0)
signal.signal(signal.SIGTERM, stop)
print("ready", flush=True)
signal.pause()
"""


def test_ctrl_c_stops_every_process_cleanly_and_exits_0(tmp_path):
    (tmp_path / "supervisor.py").write_text(SUPERVISOR)
    (tmp_path / "Procfile").write_text(
        f"one: {sys.executable} supervisor.py one.done\n"
        f"two: {sys.executable} supervisor.py two.done\n"
    )
    proc = subprocess.Popen(
        [sys.executable, str(SCRIPT)],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    lines: list[str] = []
    while sum("ready" in line for line in lines) < 2:
        line = proc.stdout.readline()
        assert line, "".join(lines)
        lines.append(line)
    proc.send_signal(signal.SIGINT)  # what Ctrl-C sends
    output, _ = proc.communicate(timeout=60)
    assert proc.returncode == 0, "".join(lines) + output
    assert "SIGKILL" not in output
    # Each supervisor stopped its own child itself (its handler ran: not killed).
    for name in ("one", "two"):
        assert (tmp_path / f"{name}.done").read_text() == str(-signal.SIGTERM)
