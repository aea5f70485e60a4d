"""The quick versions of the reliability drills (bench/drills), one test per drill.

Each starts its own stack (database, fake Bling, gunicorn, qcluster) and does not use the
pytest-django database. PostgreSQL is used when it answers on 127.0.0.1 (or DRILL_DB=sqlite).
Figures are printed, not appended to bench/RESULTS.md.
"""

from __future__ import annotations

import os
import subprocess

import pytest

from bench.drills.run import DRILLS, build_parser, run_drill

pytestmark = pytest.mark.drill


def _db() -> str:
    if os.environ.get("DRILL_DB"):
        return os.environ["DRILL_DB"]
    try:
        ok = (
            subprocess.run(
                ["psql", "-h", "127.0.0.1", "-U", "postgres", "-tAc", "select 1"],
                capture_output=True,
                timeout=10,
                check=False,
            ).returncode
            == 0
        )
    except (OSError, subprocess.TimeoutExpired):
        ok = False
    return "postgres" if ok else "sqlite"


@pytest.mark.parametrize("name", list(DRILLS))
def test_the_quick_drill_holds(name: str) -> None:
    args = build_parser().parse_args([name, "--quick", "--no-record", "--db", _db()])
    result = run_drill(name, args, command=f"pytest quick drill {name}")
    assert not result.aborted, result.aborted
    assert result.passed, "\n".join([result.verdict, *result.findings])
