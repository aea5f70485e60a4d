"""Results of a drill: a table of figures, a one-line verdict, and the record in RESULTS.md."""

from __future__ import annotations

import datetime as dt
import platform
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

RESULTS_MD = Path(__file__).resolve().parents[1] / "RESULTS.md"
SECTION = "## Reliability drills"


@dataclass
class Figure:
    name: str
    value: Any
    target: str = ""
    ok: bool | None = None  # None: reported, not judged


@dataclass
class DrillResult:
    drill: str
    figures: list[Figure] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    findings: list[str] = field(default_factory=list)  # failures with their evidence
    seconds: float = 0.0
    command: str = ""
    aborted: str = ""  # the drill could not run to the end (harness or missing feature)

    def add(self, name: str, value: Any, target: str = "", ok: bool | None = None) -> Figure:
        fig = Figure(name, value, target, ok)
        self.figures.append(fig)
        return fig

    def check(self, name: str, value: Any, target: str, ok: bool, finding: str = "") -> bool:
        """A judged figure; a failed one with ``finding`` adds that evidence to the findings."""
        self.add(name, value, target, ok)
        if not ok and finding:
            self.findings.append(finding)
        return ok

    @property
    def passed(self) -> bool:
        return not self.aborted and all(f.ok is not False for f in self.figures)

    @property
    def verdict(self) -> str:
        if self.aborted:
            return f"{self.drill}: ABORTED - {self.aborted}"
        failed = [f.name for f in self.figures if f.ok is False]
        if failed:
            return f"{self.drill}: FAIL - {', '.join(failed)}"
        judged = sum(1 for f in self.figures if f.ok)
        return f"{self.drill}: PASS - {judged} checks held"


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.3f}" if abs(value) < 10 else f"{value:.1f}"
    return str(value)


def table_lines(result: DrillResult) -> list[str]:
    rows = [
        (f.name, _fmt(f.value), f.target, {True: "ok", False: "FAIL", None: ""}[f.ok])
        for f in result.figures
    ]
    heads = ("figure", "value", "target", "")
    widths = [
        max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(heads)
    ]
    line = "  ".join(h.ljust(w) for h, w in zip(heads, widths, strict=True))
    out = [line, "  ".join("-" * w for w in widths)]
    out += ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) for r in rows]
    return out


def print_result(result: DrillResult) -> None:
    print()
    for line in table_lines(result):
        print(line)
    for note in result.notes:
        print(f"note: {note}")
    for finding in result.findings:
        print(f"FINDING: {finding}")
    print(f"({result.seconds:.0f} s)")
    print(result.verdict)


def _version(argv: list[str]) -> str:
    try:
        return subprocess.run(argv, capture_output=True, text=True, timeout=10).stdout.strip()
    except Exception:
        return "?"


def machine_info(db: str) -> str:
    cpus = _version(["nproc"])
    mem = "?"
    free = _version(["free", "-h"]).splitlines()
    if len(free) > 1:
        mem = free[1].split()[1]
    pg = _version(["psql", "-h", "127.0.0.1", "-U", "postgres", "-tAc", "show server_version"])
    db_text = f"PostgreSQL {pg.split()[0] if pg else '?'}" if db == "postgres" else "SQLite"
    return (
        f"{cpus} CPUs, {mem} RAM, {platform.system()} {platform.release()}, "
        f"Python {sys.version.split()[0]}, {db_text}"
    )


def record(result: DrillResult, *, db: str, path: Path = RESULTS_MD) -> None:
    """Add this run at the end of the drills section of bench/RESULTS.md (older runs kept)."""
    now = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    lines = [
        "",
        f"### {result.drill} — {now} — {'PASS' if result.passed else 'FAIL'}",
        "",
        f"- machine: {machine_info(db)}",
        f"- command: `{result.command}`",
        f"- duration: {result.seconds:.0f} s",
        "",
        "| figure | value | target | |",
        "| --- | --- | --- | --- |",
    ]
    for f in result.figures:
        ok = {True: "ok", False: "**FAIL**", None: ""}[f.ok]
        lines.append(f"| {f.name} | {_fmt(f.value)} | {f.target} | {ok} |")
    lines.append("")
    for note in result.notes:
        lines.append(f"- note: {note}")
    for finding in result.findings:
        lines.append(f"- **finding**: {finding}")
    lines.append(f"- verdict: {result.verdict}")
    entry = "\n".join(lines) + "\n"
    text = path.read_text() if path.exists() else "# Benchmark and drill results\n"
    if SECTION not in text:
        text = text.rstrip("\n") + "\n\n" + SECTION + "\n"
    # At the end of the drills section: other benchmarks keep their own sections after it.
    start = text.index(SECTION) + len(SECTION)
    nxt = text.find("\n## ", start)
    if nxt == -1:
        text = text.rstrip("\n") + "\n" + entry
    else:
        text = text[:nxt].rstrip("\n") + "\n" + entry + text[nxt:]
    path.write_text(text)
