"""`.env.example` lists every variable the Procfile, the scripts and the settings read (the
test-only switches aside), and `make run` listens on loopback unless BIND_ADDRESS says
otherwise."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
TEST_ONLY = {"BLINGSYNC_TESTING", "Q_SYNC"}


def _listed() -> set[str]:
    text = (ROOT / ".env.example").read_text()
    return set(re.findall(r"^#? ?([A-Z][A-Z0-9_]+)=", text, re.M))


def _read_by(path: Path, pattern: str) -> set[str]:
    return set(re.findall(pattern, path.read_text()))


def test_every_variable_the_procfile_and_scripts_read_is_listed():
    shell = r"\$\{?([A-Z][A-Z0-9_]+)"
    read = _read_by(ROOT / "Procfile", shell)
    for script in (ROOT / "scripts").glob("*.sh"):
        text = script.read_text()
        # The script's own variables (PY=...) are not read from the environment; one that
        # defaults from it (PORT="${PORT:-8000}") is.
        own = {
            name
            for name, value in re.findall(r"^\s*(?:export )?([A-Z][A-Z0-9_]+)=(.*)$", text, re.M)
            if "${" + name not in value
        }
        read |= _read_by(script, shell) - own
    read -= {"PATH", "PWD"}
    assert read, "the Procfile reads PORT at least"
    assert read - _listed() == set()


def test_every_variable_the_settings_read_is_listed():
    read = _read_by(ROOT / "blingsync" / "settings.py", r"env\.\w+\(\s*\"([A-Z][A-Z0-9_]+)\"")
    read |= _read_by(
        ROOT / "blingsync" / "management" / "commands" / "ensure_admin.py",
        r"environ\.get\(\"([A-Z][A-Z0-9_]+)\"",
    )
    assert {"TRUSTED_PROXY_COUNT", "ADMIN_USER"} <= read
    text = (ROOT / ".env.example").read_text()
    # `make demo` sets its own (DEMO, DEMO_SANDBOX_URL) and reads no .env: named in a comment.
    demo_only = {name for name in read if name.startswith("DEMO")}
    assert all(name in text for name in demo_only)
    assert read - TEST_ONLY - demo_only - _listed() == set()


def test_every_variable_the_python_scripts_read_is_named():
    text = (ROOT / ".env.example").read_text()
    for script in (ROOT / "scripts").glob("*.py"):
        read = _read_by(script, r"environ\.get\(\s*\"([A-Z][A-Z0-9_]+)\"") - {"PATH"}
        assert {name for name in read if name not in text} == set(), script.name


def test_make_run_listens_on_loopback_unless_told_otherwise():
    procfile = (ROOT / "Procfile").read_text()
    assert "--bind ${BIND_ADDRESS:-127.0.0.1}:$PORT" in procfile
    run = (ROOT / "scripts" / "run.sh").read_text()
    assert 'BIND_ADDRESS="${BIND_ADDRESS:-127.0.0.1}"' in run
