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

Issue 27 added, for catalogs of 100,000 products (`--products 100000 --categories 40 --rate
100`: the fake's and our rate raised for the run, so the table names it; the achieved rate is
then not judged): a share of products with negative stock (`--negative`, every stock state
present), the peak RSS and CPU time of the `sweep_codes` process (os.wait4, against the same
command's start-up alone), an incremental run after `--changes` products change (half new
without a code, half edited; its bound: the pages of the listings it asked, as the fake
filters them, + its writes), and the daily budget on the default schedules
(`blingsync.operations.schedules`: calls per run measured here x runs a day, against 120,000).

Verdict: PASS when calls <= 1.1 x the lower bound (the incremental run too), the achieved rate (calls - 1) / (last -
first call) >= 90% of the limit, no 429 was served, and every product got one distinct
code. A full run (10,000 products, 2,000 writes) takes ~15 minutes at 3 calls/s.

Options: --products 10000 --categories 20 --without-code 0.2 --sold-out 0.1 --negative 0.02
--changes 200 --rate 3
--db auto|postgres|sqlite --port 0 (the fake's port). BENCH_DATABASE_URL names an existing
PostgreSQL database to use instead of a temporary one (its schema is reset first).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.ratelimit import CLIENT_ID, CLIENT_SECRET, _env, _setup, temp_database  # noqa: E402
from tests.fakebling import FakeBling  # noqa: E402 (stdlib-only fake)
from tests.fakebling.state import now_str  # noqa: E402
from tests.fakebling.stock import apply_balance  # noqa: E402

CALLS_FACTOR = 1.1
MACHINE = f"{os.cpu_count()} CPUs, {platform.platform()}, Python {platform.python_version()}"
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


@dataclass
class Measured:
    """One child process: its output, wall time, peak RSS (KiB) and CPU seconds."""

    output: str
    wall: float
    max_rss_kib: int
    cpu: float


def _hwm_kib(pid: int) -> int:
    """The process's peak RSS since its exec (VmHWM; 0 once it is gone)."""
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def _manage_measured(env: dict[str, str], *args: str) -> Measured:
    """`manage.py <args>` with its own resource usage: CPU from os.wait4 (this child only),
    peak RSS from its VmHWM read every 0.2 s while it runs (ru_maxrss would count the pages
    of this process, the fake with its catalog, that the child had between fork and exec)."""
    started = time.monotonic()
    with tempfile.TemporaryFile("w+") as out:
        proc = subprocess.Popen(
            [sys.executable, "manage.py", *args], cwd=ROOT, env=env, stdout=out, stderr=out
        )
        peak = 0
        while True:
            done_pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if done_pid:
                break
            peak = max(peak, _hwm_kib(proc.pid))
            time.sleep(0.2)
        proc.returncode = os.waitstatus_to_exitcode(status)
        wall = time.monotonic() - started
        out.seek(0)
        text = out.read()
    if proc.returncode != 0:
        raise SystemExit(f"manage.py {' '.join(args)} failed:\n{text}")
    return Measured(text, wall, peak, usage.ru_utime + usage.ru_stime)


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


def _listings_bound(fake: FakeBling, calls: list, page_size: int = 100) -> int:
    """List pages no sweep with the same `since` can avoid: for each listing the run asked
    (category, stock state, changed since), the pages of the products it matches (as the
    fake filters them now), the last one short or empty."""
    listings = {
        (
            int(c.query["idCategoria"][0]),
            int(c.query.get("filtroSaldoEstoque", ["1"])[0]),
            c.query.get("dataAlteracaoInicial", [""])[0],
        )
        for c in calls
        if c.method == "GET" and c.path == "/produtos" and "idCategoria" in c.query
    }
    with fake.lock:
        rows = [
            (fake.catalog.category_of(p), _stock_state(fake, pid), p["dataAlteracao"])
            for pid, p in fake.products.items()
            if p["situacao"] != "E" and not p.get("idProdutoPai")
        ]
    pages = 0
    for category, state, since in listings:
        n = sum(1 for c, st, at in rows if c == category and st == state and at >= since)
        pages += n // page_size + 1
    return pages


def _negative_stock(fake: FakeBling, share: float, seed: int = 7) -> int:
    """Give a share of the in-stock products a negative balance (every stock state present:
    the generator makes positive and zero ones)."""
    rng = random.Random(seed)
    deposit = fake.catalog.default_deposit_id()
    with fake.lock:
        positive = [pid for pid in fake.products if _stock_state(fake, pid) == 1]
        chosen = rng.sample(positive, int(len(fake.products) * share))
        for pid in chosen:
            apply_balance(fake, pid, deposit, -float(rng.randint(1, 5)), None)
    return len(chosen)


def _change_products(fake: FakeBling, changes: int, seed: int = 11) -> int:
    """`changes` products change in Bling: half are new products without a code, half are
    existing coded products edited (a new name). Returns the writes they need (the new)."""
    rng = random.Random(seed)
    new = changes // 2
    with fake.lock:
        coded = [pid for pid, p in fake.products.items() if p["codigo"]]
        categories = list(fake.categories)
    for pid in rng.sample(coded, changes - new):
        with fake.lock:
            fake.products[pid]["nome"] += " (editado)"
            fake.products[pid]["dataAlteracao"] = now_str()
    for i in range(new):
        fake.add_product(f"Produto novo {i + 1:04d}", categoria_id=rng.choice(categories))
    return new


def _counts(calls: list) -> dict[str, int]:
    refused = sum(1 for c in calls if c.status == 429)
    list_pages = sum(
        1 for c in calls if c.method == "GET" and c.path == "/produtos" and "idCategoria" in c.query
    )
    lookups = sum(
        1 for c in calls if c.method == "GET" and c.path == "/produtos" and "codigos[]" in c.query
    )
    writes = sum(1 for c in calls if c.method == "PATCH")
    total = len(calls) - refused
    return {
        "refused": refused,
        "list_pages": list_pages,
        "lookups": lookups,
        "writes": writes,
        "other": total - list_pages - lookups - writes,
        "total": total,
    }


def _sweep_run(fake: FakeBling, env: dict[str, str]) -> tuple[Measured, list]:
    with fake.lock:
        fake.requests.clear()
    measured = _manage_measured(env, "sweep_codes")
    return measured, fake.calls()


def run(args: argparse.Namespace) -> bool:
    with tempfile.TemporaryDirectory(prefix="bench-sweep-") as tmp:
        db = temp_database(args.db, Path(tmp))
        fake = FakeBling(
            client_id=CLIENT_ID, client_secret=CLIENT_SECRET, rate_per_second=None, port=args.port
        )
        generated = fake.generate_catalog(
            args.products, args.categories, args.without_code, args.sold_out, 1
        )
        generated["negative"] = _negative_stock(fake, args.negative)
        without_code = {pid for pid, p in fake.products.items() if not p["codigo"]}
        fake.start()
        try:
            env = _env(db.url, fake, args.rate, float(os.environ.get("BLING_RATE_MARGIN", 0.1)))
            _setup(env, fake)
            _manage(env, "sync_categories")
            _manage(env, "set_mode", "live")
            baseline = _manage_measured(env, "sweep_codes", "--help")  # start-up alone
            pages_lb, writes_lb = _lower_bound(fake)
            fake.rate_per_second = args.rate
            full, calls = _sweep_run(fake, env)
            token_calls = len(fake.token_calls)
            codes = [p["codigo"] for p in fake.products.values()]
            coded = sum(1 for pid in without_code if fake.products[pid]["codigo"])
            incremental = None
            if args.changes:
                time.sleep(1.1)  # the changes are stamped after the full run's last write
                inc_writes_lb = _change_products(fake, args.changes)
                inc_new = {pid for pid, p in fake.products.items() if not p["codigo"]}
                inc, inc_calls = _sweep_run(fake, env)
                inc_pages_lb = _listings_bound(fake, inc_calls)
                incremental = (
                    inc,
                    _counts(inc_calls),
                    inc_pages_lb,
                    inc_writes_lb,
                    sum(1 for pid in inc_new if fake.products[pid]["codigo"]),
                    len(inc_new),
                )
                codes = [p["codigo"] for p in fake.products.values()]
            budget = _budget(fake, env, incremental[1]["total"] if incremental else total_of(calls))
        finally:
            fake.stop()
            db.drop()

    counted = _counts(calls)
    served = sorted(c.at for c in calls if c.status != 429)
    refused, total = counted["refused"], counted["total"]
    lower = pages_lb + writes_lb
    ratio = total / lower if lower else 0.0
    span = served[-1] - served[0] if len(served) > 1 else 0.0
    achieved = (len(served) - 1) / span if span else 0.0
    duplicates = len([c for c in codes if c]) - len({c for c in codes if c})
    summary = next((line for line in full.output.splitlines() if line.startswith("codes ")), "")
    listed = args.products
    cpu_app = max(full.cpu - baseline.cpu, 0.0)

    rows = [
        ("database", db.label),
        ("machine", MACHINE),
        ("catalog", json.dumps(generated)),
        ("limit (fake and BLING_RATE_PER_SECOND)", f"{args.rate}/s" + RAISED(args.rate)),
        (
            "lower bound: list pages (per stock state) + writes",
            f"{pages_lb} + {writes_lb} = {lower}",
        ),
        ("calls: list pages", str(counted["list_pages"])),
        ("calls: code-check lookups (codigos[])", str(counted["lookups"])),
        ("calls: writes (PATCH codigo)", str(counted["writes"])),
        ("calls: other (categories, retry reads, ...)", str(counted["other"])),
        ("calls: total (429s excluded)", f"{total} ({ratio:.3f} x lower bound)"),
        ("token calls", str(token_calls)),
        ("429 served by the fake", str(refused)),
        ("wall time of sweep_codes", f"{full.wall:.1f} s"),
        ("achieved rate", f"{achieved:.3f}/s ({achieved / args.rate:.1%} of the limit)"),
        ("peak RSS of sweep_codes", f"{full.max_rss_kib / 1024:.1f} MiB"),
        ("peak RSS of its start-up alone (--help)", f"{baseline.max_rss_kib / 1024:.1f} MiB"),
        (
            "CPU of sweep_codes less start-up",
            f"{cpu_app:.1f} s = {1000 * cpu_app / listed:.2f} ms per listed product",
        ),
        ("products coded / without code", f"{coded} / {len(without_code)}"),
        ("codes used twice", str(duplicates)),
        ("sweep summary", summary),
    ]
    inc_ok = True
    if incremental is not None:
        inc, inc_counted, inc_pages_lb, inc_writes_lb, inc_coded, inc_need = incremental
        inc_lower = inc_pages_lb + inc_writes_lb
        inc_ratio = inc_counted["total"] / inc_lower if inc_lower else 0.0
        inc_ok = inc_ratio <= CALLS_FACTOR and inc_counted["refused"] == 0 and inc_coded == inc_need
        inc_summary = next(
            (line for line in inc.output.splitlines() if line.startswith("codes ")), ""
        )
        rows += [
            (
                f"incremental: {args.changes} products changed",
                f"{inc_writes_lb} of them new, uncoded",
            ),
            (
                "incremental: bound (pages of its listings + writes)",
                f"{inc_pages_lb} + {inc_writes_lb} = {inc_lower}",
            ),
            (
                "incremental: calls (pages/lookups/writes/other)",
                f"{inc_counted['list_pages']}/{inc_counted['lookups']}/{inc_counted['writes']}"
                f"/{inc_counted['other']} = {inc_counted['total']} ({inc_ratio:.3f} x its bound)",
            ),
            ("incremental: 429 / coded", f"{inc_counted['refused']} / {inc_coded} of {inc_need}"),
            ("incremental: wall, peak RSS", f"{inc.wall:.1f} s, {inc.max_rss_kib / 1024:.1f} MiB"),
            ("incremental: summary", inc_summary),
        ]
    rows += budget
    width = max(len(label) for label, _ in rows)
    print(f"{'measure':<{width}}  value")
    print(f"{'-' * width}  {'-' * 40}")
    for label, value in rows:
        print(f"{label:<{width}}  {value}")
    rate_ok = achieved >= RATE_FLOOR * args.rate or args.rate > 3
    ok = (
        ratio <= CALLS_FACTOR
        and rate_ok
        and refused == 0
        and coded == len(without_code)
        and duplicates == 0
        and inc_ok
    )
    print(
        f"{'PASS' if ok else 'FAIL'}: {args.products} products, {total} calls = {ratio:.3f} x lower"
        f" bound (<= {CALLS_FACTOR}), {achieved:.2f}/s = {achieved / args.rate:.0%} of"
        f" {args.rate}/s{'' if args.rate <= 3 else ' (raised: rate not judged)'}, {refused} x 429,"
        f" {coded}/{len(without_code)} coded, {duplicates} duplicates, peak RSS"
        f" {full.max_rss_kib / 1024:.0f} MiB"
        + (
            ""
            if incremental is None
            else f"; incremental {incremental[1]['total']} calls ="
            f" {incremental[1]['total'] / max(incremental[2] + incremental[3], 1):.3f} x its bound"
        )
    )
    return ok


def total_of(calls: list) -> int:
    return sum(1 for c in calls if c.status != 429)


BUDGET_KINDS = {  # schedule kind -> the command that runs one sweep of it
    "stock": ("sweep_stock",),
    "orders": ("sweep_orders",),
    "invoices": ("sweep_invoices",),
    "categories": ("sync_categories",),
}
DAY_LIMIT = 120_000


def _budget(fake: FakeBling, env: dict[str, str], codes_run: int) -> list[tuple[str, str]]:
    """What the catalog spends per day on the default schedules (`blingsync.operations.schedules`):
    each kind's calls per run as measured here, times its runs a day. Codes: the incremental
    run above (its `since` reaches 15 minutes before the full run's start, so it re-lists
    what that run wrote: an upper figure for a quiet 15 minutes). The others: one run each
    after it (nothing sold: the catalog's sold-out products have no sales evidence, so they
    stay candidates every run, which is the steady state of a store).
    Tokens, events and recovery make no Bling call when nothing is wrong (a token refresh
    is one call every few hours)."""
    script = (
        "import json; from blingsync.operations.schedules import SCHEDULES; "
        "print('@@' + json.dumps({s.kind: s.minutes for s in SCHEDULES}))"
    )
    out = _manage(env, "shell", "-c", script)
    cadence = json.loads(next(x for x in out.splitlines() if x.startswith("@@"))[2:])
    per_run: dict[str, int] = {"codes": codes_run}
    for kind, command in BUDGET_KINDS.items():
        with fake.lock:
            fake.requests.clear()
        _manage(env, *command)
        per_run[kind] = total_of(fake.calls())
    rows = []
    day = 0
    for kind, minutes in cadence.items():
        runs = 24 * 60 // max(int(minutes), 1)
        calls = per_run.get(kind, 0)
        day += runs * calls
        rows.append(
            (f"daily budget: {kind} every {minutes} min", f"{runs} runs x {calls} = {runs * calls}")
        )
    rows.append(
        (
            "daily budget: total on the schedules (no sales, no webhooks)",
            f"{day} calls = {day / DAY_LIMIT:.1%} of Bling's {DAY_LIMIT}/day",
        )
    )
    return rows


def RAISED(rate: int) -> str:  # noqa: N802 - a label
    return "" if rate <= 3 else " (RAISED for this run; Bling allows 3/s)"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--products", type=int, default=10000)
    parser.add_argument("--categories", type=int, default=20)
    parser.add_argument("--without-code", type=float, default=0.2)
    parser.add_argument("--sold-out", type=float, default=0.1)
    parser.add_argument("--negative", type=float, default=0.02)
    parser.add_argument("--changes", type=int, default=200)
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--rate", type=int, default=3)
    parser.add_argument("--db", choices=("auto", "postgres", "sqlite"), default="auto")
    sys.exit(0 if run(parser.parse_args()) else 1)


if __name__ == "__main__":
    main()
