"""Benchmark of applying a plan (SPEC 5.14, issue 24): `python bench/plans.py [--items 2000]`.

What it does, against a temporary database (PostgreSQL when one answers at
BENCH_POSTGRES_URL, else a SQLite file in WAL mode; dropped afterwards):

1. starts the fake Bling in this process with a generated catalog in which `--items`
   products have no code (`--products` in all), at Bling's rate (`--rate`, 429 past it);
2. migrates, stores a connection, mirrors the categories and seeds the counters; the
   installation stays in dry-run mode;
3. runs `sweep_codes` (a simulation: its plan holds one `code_assign` item per product
   without a code) without a rate limit in the fake (the simulation is not measured);
4. runs `plan_apply --latest codes` with our limiter and the fake at `--rate`, and counts
   the calls it made from the fake's request log.

Bound. No apply can do without one write per item (`PATCH /produtos/{id}` {"codigo"}) and
re-reading the items' products: `GET /produtos?idsProdutos[]=...`, 100 ids per call, once
per stock state that still holds unfound ids (at most 3 per 100). Before writing, the codes
are looked up in Bling as the spec requires (`GET /produtos?codigos[]=...`, 50 codes per call,
the most the client sends, once per stock state: 3 per 50 when the codes are free, as they
are). Bound = writes + 3 x ceil(items / 100) re-reads + 3 x ceil(items / 50) lookups; lower
bound = writes + ceil(items / 100).

Verdict: PASS when every item was applied (the fake holds exactly the plan's codes and no
code twice), calls <= the bound, no 429 was served and the achieved rate >= 90% of the
limit. 2,000 items take ~12 minutes at 3 calls/s.

Options: --items 2000 --products 2500 --categories 20 --rate 3 --db auto|postgres|sqlite
--port 0.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.ratelimit import CLIENT_ID, CLIENT_SECRET, _env, _setup, temp_database  # noqa: E402
from bench.sweep import _manage  # noqa: E402
from tests.fakebling import FakeBling  # noqa: E402 (stdlib-only fake)

RATE_FLOOR = 0.9


def run(args: argparse.Namespace) -> bool:
    with tempfile.TemporaryDirectory(prefix="bench-plans-") as tmp:
        db = temp_database(args.db, Path(tmp))
        fake = FakeBling(
            client_id=CLIENT_ID, client_secret=CLIENT_SECRET, rate_per_second=None, port=args.port
        )
        share = args.items / args.products
        generated = fake.generate_catalog(args.products, args.categories, share, 0.1, 1)
        without_code = {pid for pid, p in fake.products.items() if not p["codigo"]}
        fake.start()
        try:
            env = _env(db.url, fake, args.rate, float(os.environ.get("BLING_RATE_MARGIN", 0.1)))
            _setup(env, fake)
            _manage(env, "sync_categories")
            _manage(env, "seed_counters")
            started = time.monotonic()
            simulation = _manage(env, "sweep_codes")
            simulated = time.monotonic() - started
            plan_line = next((x for x in simulation.splitlines() if x.startswith("Plano #")), "")
            fake.rate_per_second = args.rate
            with fake.lock:
                fake.requests.clear()
            started = time.monotonic()
            output = _manage(env, "plan_apply", "--latest", "codes")
            wall = time.monotonic() - started
            calls = fake.calls()
            codes = [p["codigo"] for p in fake.products.values()]
            coded = sum(1 for pid in without_code if fake.products[pid]["codigo"])
        finally:
            fake.stop()
            db.drop()

    served = sorted(c.at for c in calls if c.status != 429)
    start = min((c.at for c in calls), default=0.0)
    # When a 429 came, with the calls of the second before it (what the fake counted).
    moments = [
        f"{c.at - start:.1f}s {c.method} {c.path[:24]} after "
        f"{sum(1 for d in calls if c.at - 1.0 <= d.at < c.at and d.status != 429)} in 1 s"
        for c in calls
        if c.status == 429
    ]
    refused = sum(1 for c in calls if c.status == 429)
    rereads = sum(
        1
        for c in calls
        if c.method == "GET" and c.path == "/produtos" and "idsProdutos[]" in c.query
    )
    lookups = sum(
        1 for c in calls if c.method == "GET" and c.path == "/produtos" and "codigos[]" in c.query
    )
    writes = sum(1 for c in calls if c.method == "PATCH")
    details = sum(1 for c in calls if c.method == "GET" and c.path.startswith("/produtos/"))
    total = len(calls) - refused
    items = len(without_code)
    batches = math.ceil(items / 100)
    bound = items + 3 * batches + 3 * math.ceil(items / 50)
    lower = items + batches
    span = served[-1] - served[0] if len(served) > 1 else 0.0
    achieved = (len(served) - 1) / span if span else 0.0
    duplicates = len([c for c in codes if c]) - len({c for c in codes if c})
    summary = next((x for x in output.splitlines() if x.startswith("Plano #")), "")

    rows = [
        ("database", db.label),
        ("catalog", json.dumps(generated)),
        ("plan items (products without code)", str(items)),
        ("simulation (not measured)", f"{simulated:.1f} s; {plan_line[:90]}"),
        ("limit (fake and BLING_RATE_PER_SECOND)", f"{args.rate}/s"),
        ("lower bound: writes + re-reads per 100", f"{items} + {batches} = {lower}"),
        ("bound: writes + 3 re-reads per 100 + 3 lookups per 50", str(bound)),
        ("calls: re-reads (idsProdutos[])", str(rereads)),
        ("calls: code-check lookups (codigos[])", str(lookups)),
        ("calls: writes (PATCH codigo)", str(writes)),
        ("calls: product details (GET /produtos/{id})", str(details)),
        ("calls: total (429s excluded)", f"{total} ({total / lower:.3f} x lower bound)"),
        ("429 served by the fake", str(refused)),
        ("429 moments", "; ".join(moments) or "—"),
        ("wall time of plan_apply", f"{wall:.1f} s"),
        ("achieved rate", f"{achieved:.3f}/s ({achieved / args.rate:.1%} of the limit)"),
        ("products coded / plan items", f"{coded} / {items}"),
        ("codes used twice", str(duplicates)),
        ("plan_apply summary", summary),
    ]
    width = max(len(label) for label, _ in rows)
    print(f"{'measure':<{width}}  value")
    print(f"{'-' * width}  {'-' * 40}")
    for label, value in rows:
        print(f"{label:<{width}}  {value}")
    ok = (
        total <= bound
        and details == 0
        and achieved >= RATE_FLOOR * args.rate
        and refused == 0
        and coded == items
        and duplicates == 0
    )
    print(
        f"{'PASS' if ok else 'FAIL'}: {total} calls (bound {bound}, lower bound {lower}),"
        f" {details} detail calls, {achieved:.2f}/s = {achieved / args.rate:.0%} of"
        f" {args.rate}/s (>= {RATE_FLOOR:.0%}), {refused} x 429, {coded}/{items} coded,"
        f" {duplicates} duplicates"
    )
    return ok


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=2000)
    parser.add_argument("--products", type=int, default=2500)
    parser.add_argument("--categories", type=int, default=20)
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--rate", type=int, default=3)
    parser.add_argument("--db", choices=("auto", "postgres", "sqlite"), default="auto")
    sys.exit(0 if run(parser.parse_args()) else 1)


if __name__ == "__main__":
    main()
