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

Flood phase (issue 13), on the app only: --flooders senders post unsigned 200 KiB bodies
back to back while --flood-events fresh signed events are sent at --flood-rate and timed.
Target: their p99 under 100 ms, every one answered 200 and stored; each refused flood
request leaves one row of at most 2 KB (measured in the database afterwards).

Options: --events 2000 --rate 100 --duplicates 0.10 --saturate 600 --clients 8
--flooders 4 --flood-events 1000 --flood-rate 50 --flood-kib 200 --port 0 (first of two
ports to serve on; 0 = any free one) --db auto|postgres|sqlite.
"""

from __future__ import annotations

import argparse
import http.client
import json
import multiprocessing
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
FLOOD_TARGET_P99_MS = 100.0
REFUSED_ROW_MAX_BYTES = 2048

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

        # BENCH_PG_DB: the database to (re)create, for machines where each user has one.
        name = os.environ.get("BENCH_PG_DB") or f"blingsync_bench_wh_{os.getpid()}"
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


def gunicorn_start(env: dict[str, str], log: Path, port: int = 0) -> tuple[subprocess.Popen, int]:
    port = port or _free_port()
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
            # Now: a date more than 4 days old is a replay, ignored without processing.
            "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
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
        conn.connect()
        # No Nagle: a body of several segments would otherwise wait ~40 ms for the server's
        # delayed ACK before its last segment leaves (the sender's artefact, not the server's).
        conn.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
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


def _flood_body(kib: int, i: int) -> bytes:
    head = json.dumps({"eventId": f"flood-{i}", "event": "product.updated", "data": {"x": ""}})
    return head.encode()[:-3] + b"x" * (kib * 1024 - len(head)) + b'"}}'


def _flooder(port: int, kib: int, n: int, stop, sent, refused) -> None:  # noqa: ANN001
    """One flood sender (its own process: an attacker's machine, not our timing client's
    threads fighting for the same interpreter lock)."""
    i = 0
    while not stop.is_set():
        body = _flood_body(kib, n * 1_000_000 + i)
        status = _send(port, Delivery("", body, "sha256=" + "0" * 64, False))
        i += 1
        with sent.get_lock():
            sent.value += 1
        if status == 401:
            with refused.get_lock():
                refused.value += 1


def load_flood(
    port: int, signed: list[Delivery], rate: float, *, flooders: int, kib: int
) -> tuple[list[Result], float, dict]:
    """`flooders` processes post unsigned `kib` KiB bodies back to back while `signed` go out
    at `rate`; returns the signed results, their wall time and the flood's own figures."""
    ctx = multiprocessing.get_context("fork")
    stop, sent, refused = ctx.Event(), ctx.Value("l", 0), ctx.Value("l", 0)
    procs = [
        ctx.Process(target=_flooder, args=(port, kib, n, stop, sent, refused), daemon=True)
        for n in range(flooders)
    ]
    started = time.perf_counter()
    for proc in procs:
        proc.start()
    time.sleep(1.0)  # the flood is on before the first timed event leaves
    try:
        results, wall = load_fire(port, signed, rate)
    finally:
        stop.set()
        for proc in procs:
            proc.join(15)
    elapsed = time.perf_counter() - started
    counts = {"sent": sent.value, "401": refused.value, "other": sent.value - refused.value}
    counts["per_second"] = counts["sent"] / elapsed if elapsed > 0 else float("nan")
    counts["mib_per_second"] = counts["per_second"] * kib / 1024
    return results, wall, counts


_REFUSED_STATS = """
import json
from django.db import connection
from webhooks.models import WebhookEvent
rows = WebhookEvent.objects.filter(signature_valid=False, http_status=401)
sizes = []
for r in rows.iterator():
    sizes.append(sum(len(str(v).encode()) for v in (
        r.body, json.dumps(r.headers), r.last_error, r.body_sha256, r.remote_addr, r.event_type,
        r.company_id, r.note)) + 120)  # + the fixed-width columns, generously
db_max = None
if connection.vendor == "postgresql":
    with connection.cursor() as cur:
        cur.execute("SELECT max(pg_column_size(t.*)) FROM webhooks_webhookevent t "
                    "WHERE signature_valid = false AND http_status = 401")
        db_max = cur.fetchone()[0]
from django.db.models import Sum
folded = rows.aggregate(n=Sum("repeats"))["n"] or 0
print(json.dumps({"rows": len(sizes), "folded": folded, "max_bytes": max(sizes, default=0),
                  "mean_bytes": sum(sizes) / len(sizes) if sizes else 0, "pg_row_max": db_max,
                  "body_size_max": max(rows.values_list("body_size", flat=True), default=0)}))
"""


def refused_stats(env: dict[str, str]) -> dict:
    done = manage(env, "shell", "-c", _REFUSED_STATS)
    return json.loads(done.stdout.strip().splitlines()[-1])


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
    parser.add_argument("--flooders", type=int, default=4, help="0 to skip the flood phase")
    parser.add_argument("--flood-events", type=int, default=1000)
    parser.add_argument("--flood-rate", type=float, default=50.0)
    parser.add_argument("--flood-kib", type=int, default=200)
    parser.add_argument("--port", type=int, default=0, help="first of two ports (0: any)")
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="bench-webhooks-"))
    db = temp_database(args.db, workdir)
    app_env = _env(db.url, "blingsync.settings")
    empty_env = _env(db.url, "bench.webhooks_empty_app")
    deliveries = deliveries_build(args.events, args.duplicates)
    # Fresh events for the closed-loop capacity phase (not part of the lost/twice checks).
    extra = deliveries_build(args.saturate, 0.0, seed=7) if args.saturate else []
    flood_signed = deliveries_build(args.flood_events, 0.0, seed=8) if args.flooders else []
    unique_ids = sorted({d.event_id for d in deliveries})
    flood_ids_file = workdir / "flood_ids.json"
    flood_ids_file.write_text(json.dumps(sorted({d.event_id for d in flood_signed})))
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
        flood = None
        targets = (("empty Django view", empty_env), ("POST /webhooks/bling/", app_env))
        for n, (label, env) in enumerate(targets):
            port = args.port + n if args.port else 0
            proc, port = gunicorn_start(env, workdir / "gunicorn.log", port)
            try:
                _warm_up(port)
                results, wall = load_fire(port, deliveries, args.rate)
                capacity = load_saturate(port, extra, args.clients) if extra else float("nan")
                if env is app_env and flood_signed:
                    f_results, f_wall, f_counts = load_flood(
                        port,
                        flood_signed,
                        args.flood_rate,
                        flooders=args.flooders,
                        kib=args.flood_kib,
                    )
                    flood = (_row("signed, during flood", f_results, f_wall), f_counts)
            finally:
                gunicorn_stop(proc)
            rows.append(_row(label, results, wall) | {"capacity": capacity})

        received = inbox_stats(app_env, ids_file)
        if flood:
            flood_inbox = inbox_stats(app_env, flood_ids_file)
            flood_rows = refused_stats(app_env)
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
    flood_ok = True
    if flood:
        f_row, f_counts = flood
        flood_ok = (
            f_row["p99"] < FLOOD_TARGET_P99_MS
            and f_row["ok"] == f_row["requests"] == args.flood_events
            and flood_inbox["lost"] == 0
            and f_counts["other"] == 0
            and flood_rows["max_bytes"] <= REFUSED_ROW_MAX_BYTES
            and (flood_rows["pg_row_max"] or 0) <= REFUSED_ROW_MAX_BYTES
        )
        print()
        print(
            f"flood: {args.flooders} senders of unsigned {args.flood_kib} KiB bodies, "
            f"{f_counts['sent']} sent ({f_counts['per_second']:.0f}/s, "
            f"{f_counts['mib_per_second']:.1f} MiB/s), {f_counts['401']} answered 401, "
            f"{f_counts['other']} other"
        )
        print(header)
        print("-" * len(header))
        print(
            f"{f_row['label']:<24}{f_row['requests']:>9}{f_row['ok']:>7}{f_row['p50']:>9.1f}"
            f"{f_row['p90']:>9.1f}{f_row['p99']:>9.1f}{f_row['max']:>9.1f}"
            f"{f_row['throughput']:>8.1f}{'':>11}"
        )
        print(f"signed events lost (flood)   {flood_inbox['lost']}")
        print(
            f"refused rows stored          {flood_rows['rows']} (+ {flood_rows['folded']} "
            f"refusals counted on them), largest "
            f"{flood_rows['max_bytes']} B (fields), PostgreSQL row "
            f"{flood_rows['pg_row_max'] or '-'} B, mean {flood_rows['mean_bytes']:.0f} B, "
            f"body sizes recorded up to {flood_rows['body_size_max']} B"
        )
        print(
            f"flood verdict: {'PASS' if flood_ok else 'FAIL'}: signed p99 {f_row['p99']:.1f} ms "
            f"during the flood (target < {FLOOD_TARGET_P99_MS:.0f} ms), "
            f"refused rows <= {flood_rows['max_bytes']} B (target <= {REFUSED_ROW_MAX_BYTES})"
        )
    print(f"load average at the end      {os.getloadavg()[0]:.1f} (other work on the machine)")

    ok = (
        app["p99"] < TARGET_P99_MS
        and received["lost"] == 0
        and received["rows"] == received["unique_sent"]
        and app["ok"] == app["requests"]
        and processed["attempts_over_1"] == 0
        and processed["never_processed"] == 0
        and flood_ok
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
