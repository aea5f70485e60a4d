"""constraints.txt pins every package `make run` and `make test` install, and agrees with
the versions requirements*.txt choose (a fresh clone installs what the tests ran with)."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)(?:\[[^\]]*\])?==([^\s;#]+)", re.M)


def _pins(name: str) -> dict[str, str]:
    text = (ROOT / name).read_text()
    return {re.sub(r"[-_.]+", "-", k).lower(): v for k, v in PIN.findall(text)}


def test_every_requirement_is_pinned_in_the_constraints_at_its_version():
    constraints = _pins("constraints.txt")
    for requirements in ("requirements.txt", "requirements-dev.txt"):
        for package, version in _pins(requirements).items():
            assert constraints.get(package) == version, (requirements, package)


def test_the_constraints_pin_exact_versions_only():
    lines = [
        line
        for line in (ROOT / "constraints.txt").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    assert lines and all(PIN.match(line) for line in lines)
    assert _pins("constraints.txt")["django"].startswith("5.2.")


def test_make_installs_through_the_constraints():
    makefile = (ROOT / "Makefile").read_text()
    assert "pip install -q -c constraints.txt" in makefile
    assert makefile.count("$(PIP_INSTALL) -r requirements") == 2
