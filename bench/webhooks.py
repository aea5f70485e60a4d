"""Benchmark of the webhook receiver (SPEC 9): `python bench/webhooks.py`.

What it does, all on loopback, against a temporary database (PostgreSQL when one answers at
BENCH_POSTGRES_URL, else a SQLite file; dropped afterwards):

1. migrates the database and sets the mode to live;
2. serves the baseline, an empty Django view with the same settings and middleware
   (`bench/webhooks_empty_app.py`), with gunicorn (2 workers), and fires the load at it;
3. serves blingsync itself the same way and fires the same load at `POST /webhooks/bling/`:
   N signed events at a fixed rate (open loop: each request leaves at its scheduled time,
   whatever happened to the previous ones), a share of them exact copies of an earlier event
   (Bling's duplicates), some copies a few milliseconds after their original;
4. checks the inbox: every distinct eventId stored exactly once (lost = sent - stored);
5. drains the queue with two `process_events` running at the same time (both race for every
   event; the claim must give each event to one of them) and checks that every event was
   processed exactly once (`attempts == 1` and a final status).

Latency is measured from each request's scheduled departure to the end of its answer, so a
slow server or a lagging generator cannot hide queueing delay. Target (issue 6): p99 under
50 ms at 100 events/s on a 2-core machine, 0 lost, 0 processed twice.

After the fixed-rate run, a closed-loop phase (--saturate fresh events from --clients
connections sending back to back) measures each server's capacity ("max req/s").

Options: --events 2000 --rate 100 --duplicates 0.10 --saturate 600 --clients 8
--db auto|postgres|sqlite.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYTHON = str(ROOT / ".venv" / "bin" / "python")
GUNICORN = str(ROOT / ".venv" / "bin" / "gunicorn")
SECRET = "bench-client-secret"
PATH = "/webhooks/bling/"
TARGET_P99_MS = 50.0

sys.path.insert(0, str(ROOT))
from webhooks.signature import signature_compute  # noqa: E402 (pure stdlib + settings name)

# --- database ---------------------------------------------------------------------------------


def _postgres_admin_url() -> str:
    return os.environ.get("BENCH_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/postgres")


def _postgres_answers(url: str) -> bool:
    try:
        import psycopg

        with psycopg.connect(url, connect_timeout=2):
            return True
    except Exception:
        return False


@dataclass
class TempDatabase:
    url: str
    label: str
    _drop: callable

    def drop(self) -> None:
        self._drop()


def temp_database(kind: str, workdir: Path) -> TempDatabase:
    admin_url = _postgres_admin_url()
    if kind in ("auto", "postgres") and _postgres_answers(admin_url):
        import psycopg

        name = f"blingsync_bench_wh_{os.getpid()}"
        with psycopg.connect(admin_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
            conn.execute(f'CREATE DATABASE "{name}"')
        base = admin_url.rsplit("/", 1)[0]

        def drop() -> None:
            with psycopg.connect(admin_url, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

        return TempDatabase(f"{base}/{name}", "PostgreSQL", drop)
    if kind == "postgres":
        raise SystemExit(f"PostgreSQL does not answer at {admin_url}")
    path = workdir / "bench.sqlite3"
    return TempDatabase(f"sqlite:///{path}", "SQLite (WAL)", lambda: None)


# --- processes --------------------------------------------------------------------------------


def _env(db_url: str, settings_module: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        {
            "DATABASE_URL": db_url,
            "DJANGO_SETTINGS_MODULE": settings_module,
            "SECRET_KEY": "bench-only-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz",
            "DEBUG": "false",
            "BLING_CLIENT_SECRET": SECRET,
            "BLING_CLIENT_ID": "bench-client",
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            "Q_BROKER": "orm",
            "PYTHONPATH": str(ROOT),
        }
    )
    env.pop("BLINGSYNC_TESTING", None)
    return env


def manage(env: dict[str, str], *args: str, check: bool = True) -> subprocess.CompletedProcess:
    return subprocess.run(
        [PYTHON, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=check,
    )


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def gunicorn_start(env: dict[str, str], log: Path) -> tuple[subprocess.Popen, int]:
    port = _free_port()
    proc = subprocess.Popen(
        [
            GUNICORN,
            "blingsync.wsgi:application",
            "--workers",
            "2",
            "--bind",
            f"127.0.0.1:{port}",
            "--chdir",
            str(ROOT),
            "--timeout",
            "30",
        ],
        cwd=ROOT,
        env=env,
        stdout=log.open("ab"),
        stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return proc, port
        except OSError:
            if proc.poll() is not None:
                raise SystemExit(f"gunicorn exited; see {log}") from None
            time.sleep(0.1)
    proc.terminate()
    raise SystemExit(f"gunicorn did not listen within 30 s; see {log}")


def gunicorn_stop(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


# --- load -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Delivery:
    event_id: str
    body: bytes
    signature: str
    duplicate: bool


def deliveries_build(n: int, duplicate_share: float, seed: int = 6) -> list[Delivery]:
    """n deliveries; round(n * share) of them are byte-identical copies of an earlier one."""
    rng = random.Random(seed)
    n_dup = round(n * duplicate_share)
    dup_slots = set(rng.sample(range(1, n), n_dup)) if n_dup else set()
    out: list[Delivery] = []
    originals: list[Delivery] = []
    for i in range(n):
        if i in dup_slots and originals:
            # Mostly recent events (some arrive while the original is still being stored).
            original = originals[max(0, len(originals) - 1 - int(rng.expovariate(1 / 20)))]
            out.append(Delivery(original.event_id, original.body, original.signature, True))
            continue
        event_id = str(uuid.UUID(int=rng.getrandbits(128), version=4))
        event = rng.choice(["product.deleted", "invoice.created"])
        envelope = {
            "eventId": event_id,
            "date": "2026-01-10T12:18:46Z",
            "version": "v1",
            "event": event,
            "companyId": "d4475854366a36c86a37e792f9634a51",
            "data": {"id": rng.randint(10_000_000, 99_999_999)},
        }
        body = json.dumps(envelope, separators=(",", ":")).encode()
        delivery = Delivery(event_id, body, signature_compute(body=body, secret=SECRET), False)
        originals.append(delivery)
        out.append(delivery)
    return out


@dataclass
class Result:
    latency_s: float  # scheduled departure -> answer read
    status: int


def _send(port: int, delivery: Delivery) -> int:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request(
            "POST",
            PATH,
            body=delivery.body,
            headers={
                "Content-Type": "application/json",
                "X-Bling-Signature-256": delivery.signature,
                "User-Agent": "bench-webhooks",
            },
        )
        response = conn.getresponse()
        response.read()
        return response.status
    except OSError:
        return 0
    finally:
        conn.close()


def load_fire(port: int, deliveries: list[Delivery], rate: float) -> tuple[list[Result], float]:
    """Open loop at `rate` per second; returns the results and the wall time (first departure
    to last answer)."""
    results: list[Result | None] = [None] * len(deliveries)
    lock = threading.Lock()
    last_done = [0.0]

    def job(i: int, scheduled: float, delivery: Delivery) -> None:
        status = _send(port, delivery)
        done = time.perf_counter()
        results[i] = Result(done - scheduled, status)
        with lock:
            last_done[0] = max(last_done[0], done)

    with ThreadPoolExecutor(max_workers=64) as pool:
        start = time.perf_counter() + 0.05
        for i, delivery in enumerate(deliveries):
            scheduled = start + i / rate
            delay = scheduled - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            pool.submit(job, i, scheduled, delivery)
    return [r for r in results if r is not None], last_done[0] - start


def load_saturate(port: int, deliveries: list[Delivery], clients: int) -> float:
    """Closed loop: `clients` connections send back to back; returns answers per second."""
    it = iter(deliveries)
    lock = threading.Lock()

    def client() -> int:
        done = 0
        while True:
            with lock:
                delivery = next(it, None)
            if delivery is None:
                return done
            _send(port, delivery)
            done += 1

    start = time.perf_counter()
    with ThreadPoolExecutor(max_workers=clients) as pool:
        total = sum(pool.map(lambda _: client(), range(clients)))
    return total / (time.perf_counter() - start)


def _warm_up(port: int, n: int = 20) -> None:
    for i in range(n):
        body = json.dumps({"eventId": f"warmup-{i}", "event": "warmup.ping", "data": {}}).encode()
        _send(
            port, Delivery(f"warmup-{i}", body, signature_compute(body=body, secret=SECRET), False)
        )


def _pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    k = min(len(ordered) - 1, max(0, round(p / 100 * (len(ordered) - 1))))
    return ordered[k]


def _row(label: str, results: list[Result], wall: float) -> dict:
    lat_ms = [r.latency_s * 1000 for r in results]
    ok = sum(1 for r in results if r.status == 200)
    return {
        "label": label,
        "requests": len(results),
        "ok": ok,
        "p50": _pct(lat_ms, 50),
        "p90": _pct(lat_ms, 90),
        "p99": _pct(lat_ms, 99),
        "max": max(lat_ms) if lat_ms else float("nan"),
        "mean": statistics.fmean(lat_ms) if lat_ms else float("nan"),
        "throughput": len(results) / wall if wall > 0 else float("nan"),
    }


# --- checks -----------------------------------------------------------------------------------

_STATS = """
import json
from webhooks.models import WebhookEvent
ids = set(json.load(open({path!r})))
rows = list(WebhookEvent.objects.filter(event_id__in=ids).values_list("event_id", "status", "attempts"))
stored = {{r[0] for r in rows}}
print(json.dumps({{
    "unique_sent": len(ids),
    "rows": len(rows),
    "stored_ids": len(stored),
    "lost": len(ids - stored),
    "statuses": {{s: sum(1 for r in rows if r[1] == s) for s in {{r[1] for r in rows}}}},
    "attempts_over_1": sum(1 for r in rows if r[2] > 1),
    "never_processed": sum(1 for r in rows if r[1] not in ("processed", "ignored")),
}}))
"""


def inbox_stats(env: dict[str, str], ids_file: Path) -> dict:
    done = manage(env, "shell", "-c", _STATS.format(path=str(ids_file)))
    return json.loads(done.stdout.strip().splitlines()[-1])


def drain_twice_at_once(env: dict[str, str]) -> tuple[float, list[str]]:
    started = time.perf_counter()
    procs = [
        subprocess.Popen(
            [PYTHON, "manage.py", "process_events"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for _ in range(2)
    ]
    outputs = []
    for proc in procs:
        out, _ = proc.communicate(timeout=600)
        summary = [line for line in out.splitlines() if line.startswith("Eventos:")]
        outputs.append(f"exit {proc.returncode}: " + (summary[-1] if summary else out[-300:]))
    return time.perf_counter() - started, outputs


# --- main -------------------------------------------------------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=2000)
    parser.add_argument("--rate", type=float, default=100.0)
    parser.add_argument("--duplicates", type=float, default=0.10)
    parser.add_argument("--saturate", type=int, default=600, help="events, 0 to skip")
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--db", choices=["auto", "postgres", "sqlite"], default="auto")
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="bench-webhooks-"))
    db = temp_database(args.db, workdir)
    app_env = _env(db.url, "blingsync.settings")
    empty_env = _env(db.url, "bench.webhooks_empty_app")
    deliveries = deliveries_build(args.events, args.duplicates)
    # Fresh events for the closed-loop capacity phase (not part of the lost/twice checks).
    extra = deliveries_build(args.saturate, 0.0, seed=7) if args.saturate else []
    unique_ids = sorted({d.event_id for d in deliveries})
    ids_file = workdir / "ids.json"
    ids_file.write_text(json.dumps(unique_ids))
    cores = os.cpu_count()
    print(
        f"bench/webhooks: {args.events} signed events at {args.rate:g}/s, "
        f"{sum(d.duplicate for d in deliveries)} duplicates, gunicorn 2 workers, "
        f"{db.label}, {cores} cores, load average {os.getloadavg()[0]:.1f} at start"
    )
    try:
        manage(app_env, "migrate", "--noinput")
        manage(app_env, "set_mode", "live")

        rows = []
        for label, env in (("empty Django view", empty_env), ("POST /webhooks/bling/", app_env)):
            proc, port = gunicorn_start(env, workdir / "gunicorn.log")
            try:
                _warm_up(port)
                results, wall = load_fire(port, deliveries, args.rate)
                capacity = load_saturate(port, extra, args.clients) if extra else float("nan")
            finally:
                gunicorn_stop(proc)
            rows.append(_row(label, results, wall) | {"capacity": capacity})

        received = inbox_stats(app_env, ids_file)
        drain_s, drain_out = drain_twice_at_once(app_env)
        processed = inbox_stats(app_env, ids_file)
    finally:
        db.drop()
        shutil.rmtree(workdir, ignore_errors=True)

    header = (
        f"{'target':<24}{'requests':>9}{'2xx':>7}{'p50 ms':>9}{'p90 ms':>9}"
        f"{'p99 ms':>9}{'max ms':>9}{'req/s':>8}{'max req/s':>11}"
    )
    print()
    print(header)
    print("-" * len(header))
    for r in rows:
        print(
            f"{r['label']:<24}{r['requests']:>9}{r['ok']:>7}{r['p50']:>9.1f}{r['p90']:>9.1f}"
            f"{r['p99']:>9.1f}{r['max']:>9.1f}{r['throughput']:>8.1f}{r['capacity']:>11.1f}"
        )
    app = rows[1]
    print()
    print(f"distinct events sent         {received['unique_sent']}")
    print(f"rows stored for them         {received['rows']}  (one per eventId)")
    print(f"events lost                  {received['lost']}")
    print(f"non-2xx answers (webhooks)   {app['requests'] - app['ok']}")
    print(f"drain: 2 x process_events    {drain_s:.1f} s  {drain_out}")
    print(f"events processed twice       {processed['attempts_over_1']}")
    print(f"events not processed         {processed['never_processed']}")
    print(f"final statuses               {processed['statuses']}")
    print(f"load average at the end      {os.getloadavg()[0]:.1f} (other work on the machine)")

    ok = (
        app["p99"] < TARGET_P99_MS
        and received["lost"] == 0
        and received["rows"] == received["unique_sent"]
        and app["ok"] == app["requests"]
        and processed["attempts_over_1"] == 0
        and processed["never_processed"] == 0
    )
    overhead = app["p50"] - rows[0]["p50"]
    print()
    print(
        f"verdict: {'PASS' if ok else 'FAIL'}: p99 {app['p99']:.1f} ms "
        f"(target < {TARGET_P99_MS:.0f} ms, empty view {rows[0]['p99']:.1f} ms, receiver adds "
        f"{overhead:.1f} ms at p50) at {app['throughput']:.0f} events/s on {db.label}; "
        f"{received['lost']} lost, {processed['attempts_over_1']} processed twice"
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
