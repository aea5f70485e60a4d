"""Benchmark of the global Bling rate limit: `python bench/ratelimit.py`.

N worker processes (`tests/bling/worker.py`) each send M calls through the real client
(`blingsync.bling.client.api_request`) to the fake Bling, which enforces Bling's limit (429
past `--rate` calls in any second). They share one connection and one rate-limit row in a
temporary database (PostgreSQL when one answers at BENCH_POSTGRES_URL, else a SQLite file in
WAL mode; dropped afterwards). Measured at the fake: calls served, 429s, the busiest
1-second window, and the achieved rate (calls - 1) / (last arrival - first arrival).

Verdict: PASS when no 429 was served and the achieved rate is within 15% below the limit.

Options: --processes 4 --calls 60 --rate 3 --margin 0.1 --db auto|postgres|sqlite.
"""

from __future__ import annotations

import argparse
import bisect
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.fakebling import FakeBling  # noqa: E402 (stdlib-only fake)

SECRET_KEY = "bench-only-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz"
CLIENT_ID = "bench-client"
CLIENT_SECRET = "bench-client-secret"
TOLERANCE = 0.15


@dataclass
class TempDatabase:
    url: str
    label: str
    drop: Callable[[], None]


def _postgres_admin_url() -> str:
    return os.environ.get("BENCH_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/postgres")


def temp_database(kind: str, workdir: Path) -> TempDatabase:
    existing = os.environ.get("BENCH_DATABASE_URL")
    if existing and kind in ("auto", "postgres"):
        # A database of the caller's own (e.g. one per worktree): emptied, used, kept.
        import psycopg

        with psycopg.connect(existing, connect_timeout=2, autocommit=True) as conn:
            conn.execute("DROP SCHEMA public CASCADE")
            conn.execute("CREATE SCHEMA public")
        return TempDatabase(existing, "PostgreSQL", lambda: None)
    admin_url = _postgres_admin_url()
    if kind in ("auto", "postgres"):
        try:
            import psycopg

            with psycopg.connect(admin_url, connect_timeout=2, autocommit=True) as conn:
                name = f"blingsync_bench_rl_{os.getpid()}"
                conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
                conn.execute(f'CREATE DATABASE "{name}"')

            def drop() -> None:
                with psycopg.connect(admin_url, autocommit=True) as conn:
                    conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

            return TempDatabase(f"{admin_url.rsplit('/', 1)[0]}/{name}", "PostgreSQL", drop)
        except Exception as exc:
            if kind == "postgres":
                raise SystemExit(f"PostgreSQL does not answer at {admin_url}: {exc}") from exc
    return TempDatabase(f"sqlite:///{workdir / 'bench.sqlite3'}", "SQLite (WAL)", lambda: None)


def _env(db_url: str, fake: FakeBling, rate: int, margin: float) -> dict[str, str]:
    env = dict(os.environ)
    env.pop("BLINGSYNC_TESTING", None)
    env.update(
        {
            "DATABASE_URL": db_url,
            "DJANGO_SETTINGS_MODULE": "blingsync.settings",
            "SECRET_KEY": SECRET_KEY,
            "DEBUG": "false",
            "BLING_API_BASE_URL": fake.base_url,
            "BLING_CLIENT_ID": CLIENT_ID,
            "BLING_CLIENT_SECRET": CLIENT_SECRET,
            "BLING_RATE_PER_SECOND": str(rate),
            "BLING_RATE_MARGIN": str(margin),
            "LOG_LEVEL": "WARNING",
            "PYTHONPATH": str(ROOT),
        }
    )
    return env


def _setup(env: dict[str, str], fake: FakeBling) -> None:
    """Migrate and store a connection with live tokens from the fake (in a child process,
    so this one never holds a database connection)."""
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"],
        cwd=ROOT,
        env=env,
        check=True,
    )
    tokens = fake.issue_tokens(jwt=True)
    script = (
        "import django, json, sys, datetime;"
        "django.setup();"
        "from django.utils import timezone;"
        "from blingsync.bling.types import TokenBundle;"
        "from blingsync.bling.token_store import connection_get_or_create, connection_tokens_store;"
        "t = json.loads(sys.stdin.read());"
        "connection_tokens_store(connection=connection_get_or_create(), bundle=TokenBundle("
        "access_token=t['access_token'], refresh_token=t['refresh_token'],"
        "expires_at=timezone.now() + datetime.timedelta(seconds=t['expires_in'])))"
    )
    subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        env=env,
        input=json.dumps(tokens),
        text=True,
        check=True,
    )


def _busiest_second(times: list[float]) -> int:
    return max(
        (bisect.bisect_left(times, t + 1.0) - i for i, t in enumerate(times)),
        default=0,
    )


def run(args: argparse.Namespace) -> bool:
    with tempfile.TemporaryDirectory(prefix="bench-rl-") as tmp:
        db = temp_database(args.db, Path(tmp))
        fake = FakeBling(client_id=CLIENT_ID, client_secret=CLIENT_SECRET).start()
        try:
            env = _env(db.url, fake, args.rate, args.margin)
            _setup(env, fake)
            fake.rate_per_second = args.rate
            env["WORKER_START_AT"] = str(time.time() + 3)
            procs = [
                subprocess.Popen(
                    [sys.executable, "-m", "tests.bling.worker", "calls", str(args.calls)],
                    cwd=ROOT,
                    env=env,
                    stdout=subprocess.PIPE,
                    stderr=subprocess.PIPE,
                    text=True,
                )
                for _ in range(args.processes)
            ]
            results = []
            for proc in procs:
                out, err = proc.communicate(timeout=3600)
                lines = [line for line in out.splitlines() if line.startswith("{")]
                results.append(json.loads(lines[-1]) if lines else {"ok": 0, "errors": [err]})
            calls = fake.calls(path="/empresas/me/dados-basicos")
        finally:
            fake.stop()
            db.drop()

    served = sorted(c.at for c in calls if c.status == 200)
    refused = sum(1 for c in calls if c.status == 429)
    errors = sum(len(r["errors"]) for r in results)
    span = (served[-1] - served[0]) if len(served) > 1 else 0.0
    achieved = (len(served) - 1) / span if span else 0.0
    deviation = (achieved - args.rate) / args.rate
    rows = [
        ("database", db.label),
        ("processes x calls", f"{args.processes} x {args.calls}"),
        ("limit (BLING_RATE_PER_SECOND)", f"{args.rate}/s"),
        ("slot margin (BLING_RATE_MARGIN)", f"{args.margin:.0%}"),
        ("calls served (200)", str(len(served))),
        ("429 served by the fake", str(refused)),
        ("client errors", str(errors)),
        ("busiest 1-second window", f"{_busiest_second(served)} calls"),
        ("wall time, first to last call", f"{span:.1f} s"),
        ("achieved rate", f"{achieved:.3f}/s ({deviation:+.1%} of the limit)"),
    ]
    width = max(len(label) for label, _ in rows)
    print(f"{'measure':<{width}}  value")
    print(f"{'-' * width}  {'-' * 30}")
    for label, value in rows:
        print(f"{label:<{width}}  {value}")
    ok = refused == 0 and errors == 0 and -TOLERANCE <= deviation <= 0.0
    verdict = "PASS" if ok else "FAIL"
    print(
        f"{verdict}: {refused} x 429, {achieved:.3f}/s against {args.rate}/s "
        f"({deviation:+.1%}; allowed 0 to -{TOLERANCE:.0%})"
    )
    return ok


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--processes", type=int, default=4)
    parser.add_argument("--calls", type=int, default=60, help="calls per process")
    parser.add_argument("--rate", type=int, default=3)
    parser.add_argument("--margin", type=float, default=0.1)
    parser.add_argument("--db", choices=("auto", "postgres", "sqlite"), default="auto")
    sys.exit(0 if run(parser.parse_args()) else 1)


if __name__ == "__main__":
    main()
