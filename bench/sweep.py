"""Benchmark of the code sweep (SPEC 9): `python bench/sweep.py [--products 10000]`.

What it does, against a temporary database (PostgreSQL when one answers at
BENCH_POSTGRES_URL, else a SQLite file in WAL mode; dropped afterwards):

1. starts the fake Bling in this process with a generated catalog (`--products` in
   `--categories` categories, a quarter of them subcategories, `--without-code` of the
   products without a code) and Bling's rate limit (`--rate`, 429 past it);
2. migrates, stores a connection with live tokens, mirrors the categories
   (`sync_categories`) and switches to live mode (child processes);
3. runs `manage.py sweep_codes` (our limiter at the same `--rate`) and times it;
4. checks the outcome in the fake (every product that had no code has one, no code twice)
   and counts the calls the sweep made, from the fake's request log.

Lower bound (what no sweep can do without): the list pages + one write per product without
a code. Bling answers an unfiltered listing for positive stock only (`filtroSaldoEstoque`
defaults to 1), so a complete listing is one listing per stock state (positive, zero,
negative): per category and state, one page per 100 products plus the short or empty page
that ends the listing. On top of that the sweep makes the code-check lookups the spec
requires before writing (`GET /produtos?codigos[]=...`, per 50 codes and stock state), the
category mirror refresh, the retry batch read (none on a first run) and token calls (none:
tokens are fresh).

Verdict: PASS when calls <= 1.1 x the lower bound, the achieved rate (calls - 1) / (last -
first call) >= 90% of the limit, no 429 was served, and every product got one distinct
code. A full run (10,000 products, 2,000 writes) takes ~15 minutes at 3 calls/s.

Options: --products 10000 --categories 20 --without-code 0.2 --sold-out 0.1 --rate 3
--db auto|postgres|sqlite --port 0 (the fake's port). BENCH_DATABASE_URL names an existing
PostgreSQL database to use instead of a temporary one (its schema is reset first).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.ratelimit import CLIENT_ID, CLIENT_SECRET, _env, _setup, temp_database  # noqa: E402
from tests.fakebling import FakeBling  # noqa: E402 (stdlib-only fake)

CALLS_FACTOR = 1.1
RATE_FLOOR = 0.9


def _manage(env: dict[str, str], *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        raise SystemExit(f"manage.py {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")
    return done.stdout


def _stock_state(fake: FakeBling, product_id: int) -> int:
    """The `filtroSaldoEstoque` value whose listing shows the product (1, 0 or 2)."""
    _, available = fake.catalog.totals(product_id)
    return 1 if available > 0 else 0 if available == 0 else 2


def _lower_bound(fake: FakeBling, page_size: int = 100) -> tuple[int, int]:
    """(list pages, writes) no sweep can avoid, from the catalog itself: per category and
    stock state, the pages of that listing (the last one short or empty)."""
    per_listing = Counter(
        (fake.catalog.category_of(p), _stock_state(fake, pid))
        for pid, p in fake.products.items()
        if p["situacao"] != "E"
    )
    pages = sum(
        per_listing.get((cid, state), 0) // page_size + 1
        for cid in fake.categories
        for state in (1, 0, 2)
    )
    writes = sum(1 for p in fake.products.values() if not p["codigo"] and p["situacao"] != "E")
    return pages, writes


def run(args: argparse.Namespace) -> bool:
    with tempfile.TemporaryDirectory(prefix="bench-sweep-") as tmp:
        db = temp_database(args.db, Path(tmp))
        fake = FakeBling(
            client_id=CLIENT_ID, client_secret=CLIENT_SECRET, rate_per_second=None, port=args.port
        )
        generated = fake.generate_catalog(
            args.products, args.categories, args.without_code, args.sold_out, 1
        )
        without_code = {pid for pid, p in fake.products.items() if not p["codigo"]}
        fake.start()
        try:
            env = _env(db.url, fake, args.rate, float(os.environ.get("BLING_RATE_MARGIN", 0.1)))
            _setup(env, fake)
            _manage(env, "sync_categories")
            _manage(env, "set_mode", "live")
            pages_lb, writes_lb = _lower_bound(fake)
            fake.rate_per_second = args.rate
            with fake.lock:
                fake.requests.clear()
            started = time.monotonic()
            output = _manage(env, "sweep_codes")
            wall = time.monotonic() - started
            calls = fake.calls()
            token_calls = len(fake.token_calls)
            codes = [p["codigo"] for p in fake.products.values()]
            coded = sum(1 for pid in without_code if fake.products[pid]["codigo"])
        finally:
            fake.stop()
            db.drop()

    served = sorted(c.at for c in calls if c.status != 429)
    refused = sum(1 for c in calls if c.status == 429)
    list_pages = sum(
        1 for c in calls if c.method == "GET" and c.path == "/produtos" and "idCategoria" in c.query
    )
    lookups = sum(
        1 for c in calls if c.method == "GET" and c.path == "/produtos" and "codigos[]" in c.query
    )
    writes = sum(1 for c in calls if c.method == "PATCH")
    other = len(calls) - refused - list_pages - lookups - writes
    total = len(calls) - refused
    lower = pages_lb + writes_lb
    ratio = total / lower if lower else 0.0
    span = served[-1] - served[0] if len(served) > 1 else 0.0
    achieved = (len(served) - 1) / span if span else 0.0
    duplicates = len([c for c in codes if c]) - len({c for c in codes if c})
    summary = next((line for line in output.splitlines() if line.startswith("codes sweep")), "")

    rows = [
        ("database", db.label),
        ("catalog", json.dumps(generated)),
        ("limit (fake and BLING_RATE_PER_SECOND)", f"{args.rate}/s"),
        (
            "lower bound: list pages (per stock state) + writes",
            f"{pages_lb} + {writes_lb} = {lower}",
        ),
        ("calls: list pages", str(list_pages)),
        ("calls: code-check lookups (codigos[])", str(lookups)),
        ("calls: writes (PATCH codigo)", str(writes)),
        ("calls: other (retry reads, ...)", str(other)),
        ("calls: total (429s excluded)", f"{total} ({ratio:.3f} x lower bound)"),
        ("token calls", str(token_calls)),
        ("429 served by the fake", str(refused)),
        ("wall time of sweep_codes", f"{wall:.1f} s"),
        ("achieved rate", f"{achieved:.3f}/s ({achieved / args.rate:.1%} of the limit)"),
        ("products coded / without code", f"{coded} / {len(without_code)}"),
        ("codes used twice", str(duplicates)),
        ("sweep summary", summary),
    ]
    width = max(len(label) for label, _ in rows)
    print(f"{'measure':<{width}}  value")
    print(f"{'-' * width}  {'-' * 40}")
    for label, value in rows:
        print(f"{label:<{width}}  {value}")
    ok = (
        ratio <= CALLS_FACTOR
        and achieved >= RATE_FLOOR * args.rate
        and refused == 0
        and coded == len(without_code)
        and duplicates == 0
    )
    print(
        f"{'PASS' if ok else 'FAIL'}: {total} calls = {ratio:.3f} x lower bound (<= {CALLS_FACTOR}),"
        f" {achieved:.2f}/s = {achieved / args.rate:.0%} of {args.rate}/s (>= {RATE_FLOOR:.0%}),"
        f" {refused} x 429, {coded}/{len(without_code)} coded, {duplicates} duplicates"
    )
    return ok


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--products", type=int, default=10000)
    parser.add_argument("--categories", type=int, default=20)
    parser.add_argument("--without-code", type=float, default=0.2)
    parser.add_argument("--sold-out", type=float, default=0.1)
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--rate", type=int, default=3)
    parser.add_argument("--db", choices=("auto", "postgres", "sqlite"), default="auto")
    sys.exit(0 if run(parser.parse_args()) else 1)


if __name__ == "__main__":
    main()
