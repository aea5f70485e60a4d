"""Benchmark of the invoices sweep (issue 15): `python bench/invoices.py [--nfe 400]`.

Against a temporary database (PostgreSQL when one answers at BENCH_POSTGRES_URL, else a
SQLite file in WAL mode; `--db` forces one) and the fake Bling in this process with Bling's
rate limit (`--rate`, 429 past it); `--database-url` uses a given empty database instead:

1. a catalog of `--products` coded products, blingsync's code assignments for all but
   `--foreign` of them (codes Bling has but blingsync never assigned: found by the batched
   `codigos[]` lookup), `--nfe` outgoing NF-e and `--nfce` NFC-e of 1 to 3 items over the
   last 20 days, 5% of them cancelled and 5% pending;
2. `sweep_invoices` (first run), then `--new` more invoices issued now and a second,
   incremental run.

Bound (the issue's target): per listing (NF-e, NFC-e, and their cancelled listings) one
page per 100 invoices plus the short or empty page that ends it, plus one detail per new
invoice (not yet read, or whose situation changed). Code lookups (`GET /produtos` with
`codigos[]`, one batch per page of invoices that has unknown codes, every stock state) are
counted apart. Verdict: PASS when list pages <= the page bound, details == the new invoices
of each run, the second run details only the new ones, 0 x 429, and every sale line matches
an authorised invoice item.
"""

from __future__ import annotations

import argparse
import os
import random
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.ratelimit import (  # noqa: E402
    CLIENT_ID,
    CLIENT_SECRET,
    TempDatabase,
    _env,
    _setup,
    temp_database,
)
from bench.sweep import _manage  # noqa: E402
from tests.fakebling import FakeBling  # noqa: E402 (stdlib-only fake)

PAGE = 100
COUNTED = {5, 6, 7}


def _catalog(fake: FakeBling, products: int) -> list[str]:
    codes = []
    for n in range(products):
        code = f"BENC{n:05d}"
        fake.add_product(f"Produto {n}", codigo=code, stock=5.0)
        codes.append(code)
    return codes


def _invoices(
    fake: FakeBling,
    rng: random.Random,
    kind: str,
    count: int,
    codes: list[str],
    days: float = 20,
):
    now = datetime.now()
    for _ in range(count):
        roll = rng.random()
        situacao = 2 if roll < 0.05 else 1 if roll < 0.10 else rng.choice((5, 6, 7))
        when = now - timedelta(days=rng.uniform(0, days))
        items = [(code, float(rng.randint(1, 3))) for code in rng.sample(codes, rng.randint(1, 3))]
        fake.add_invoice(
            items=items,
            kind=kind,
            situacao=situacao,
            data_emissao=when.strftime("%Y-%m-%d %H:%M:%S"),
        )


def _assign(env: dict[str, str], fake: FakeBling, codes: list[str], foreign: int) -> None:
    """CodeAssignments (applied) for every code but the last `foreign` ones."""
    ids = {p["codigo"]: pid for pid, p in fake.products.items()}
    rows = [(ids[c], c) for c in codes[: len(codes) - foreign]]
    script = (
        "import django, json, sys; django.setup();"
        "from products.models import CodeAssignment as C;"
        "rows = json.loads(sys.stdin.read());"
        "C.objects.bulk_create([C(bling_product_id=p, code=c, prefix='BENC', number=int(c[4:]),"
        " status=C.Status.APPLIED) for p, c in rows])"
    )
    import json

    subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        env=env,
        input=json.dumps(rows),
        text=True,
        check=True,
    )


def _page_bound(fake: FakeBling, new: dict[str, int]) -> int:
    pages = 0
    for kind in ("nfe", "nfce"):
        listed = sum(1 for i in fake.invoices[kind].values() if i["situacao"] != 2)
        cancelled = sum(1 for i in fake.invoices[kind].values() if i["situacao"] == 2)
        pages += listed // PAGE + 1 + cancelled // PAGE + 1
    return pages


def _sweep(fake: FakeBling, env: dict[str, str], known: set[tuple[str, int]]) -> dict:
    new = {
        (kind, iid)
        for kind in ("nfe", "nfce")
        for iid, inv in fake.invoices[kind].items()
        if inv["situacao"] != 2 and (kind, iid) not in known
    }
    bound = _page_bound(fake, {})
    with fake.lock:
        fake.requests.clear()
    started = time.monotonic()
    output = _manage(env, "sweep_invoices")
    wall = time.monotonic() - started
    calls = fake.calls()
    refused = sum(1 for c in calls if c.status == 429)
    ok_calls = [c for c in calls if c.status != 429]
    lists = sum(1 for c in ok_calls if c.path in ("/nfe", "/nfce"))
    details = sum(1 for c in ok_calls if c.path.startswith(("/nfe/", "/nfce/")))
    lookups = sum(1 for c in ok_calls if c.path == "/produtos")
    served = sorted(c.at for c in ok_calls)
    span = served[-1] - served[0] if len(served) > 1 else 0.0
    known.update(new)
    summary = next((ln for ln in output.splitlines() if ln.startswith("invoices sweep")), "")
    return {
        "new": len(new),
        "page_bound": bound,
        "lists": lists,
        "details": details,
        "lookups": lookups,
        "other": len(ok_calls) - lists - details - lookups,
        "total": len(ok_calls),
        "refused": refused,
        "wall": wall,
        "rate": (len(served) - 1) / span if span else 0.0,
        "summary": summary,
    }


def _lines_check(env: dict[str, str], fake: FakeBling) -> tuple[int, int]:
    """(sale lines counted in the database, authorised invoice items in the fake)."""
    expected = sum(
        len(inv["itens"])
        for kind in ("nfe", "nfce")
        for inv in fake.invoices[kind].values()
        if inv["situacao"] in COUNTED
    )
    script = (
        "import django; django.setup();"
        "from products.models import SaleLine;"
        "print(SaleLine.objects.filter(counted=True).count())"
    )
    done = subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return int(done.stdout.strip()), expected


def run(args: argparse.Namespace) -> bool:
    rng = random.Random(7)
    with tempfile.TemporaryDirectory(prefix="bench-invoices-") as tmp:
        db = (
            TempDatabase(args.database_url, "PostgreSQL (given)", lambda: None)
            if args.database_url
            else temp_database(args.db, Path(tmp))
        )
        fake = FakeBling(
            client_id=CLIENT_ID, client_secret=CLIENT_SECRET, rate_per_second=None, port=args.port
        )
        codes = _catalog(fake, args.products)
        _invoices(fake, rng, "nfe", args.nfe, codes)
        _invoices(fake, rng, "nfce", args.nfce, codes)
        fake.start()
        try:
            env = _env(db.url, fake, args.rate, float(os.environ.get("BLING_RATE_MARGIN", 0.1)))
            _setup(env, fake)
            _manage(env, "set_mode", "live")
            _assign(env, fake, codes, args.foreign)
            fake.rate_per_second = args.rate
            known: set[tuple[str, int]] = set()
            first = _sweep(fake, env, known)
            # Issued since the first run (an invoice is issued when it is created).
            _invoices(fake, rng, "nfe", args.new // 2, codes, days=0.01)
            _invoices(fake, rng, "nfce", args.new - args.new // 2, codes, days=0.01)
            second = _sweep(fake, env, known)
            counted, expected = _lines_check(env, fake)
        finally:
            fake.stop()
            db.drop()

    rows = [("database", db.label), ("limit (fake and BLING_RATE_PER_SECOND)", f"{args.rate}/s")]
    rows.append(("invoices (NF-e + NFC-e, 5% cancelled)", f"{args.nfe} + {args.nfce}"))
    for name, r in (("first run", first), ("second run", second)):
        rows += [
            (f"{name}: new invoices", str(r["new"])),
            (f"{name}: list pages / bound", f"{r['lists']} / {r['page_bound']}"),
            (f"{name}: details", str(r["details"])),
            (f"{name}: code lookups (codigos[], x3 stock states)", str(r["lookups"])),
            (f"{name}: other calls", str(r["other"])),
            (f"{name}: total calls (429s excluded)", str(r["total"])),
            (f"{name}: 429 served", str(r["refused"])),
            (f"{name}: wall time", f"{r['wall']:.1f} s ({r['rate']:.2f} calls/s)"),
            (f"{name}: summary", r["summary"]),
        ]
    rows.append(("counted sale lines / authorised invoice items", f"{counted} / {expected}"))
    width = max(len(label) for label, _ in rows)
    print(f"{'measure':<{width}}  value")
    print(f"{'-' * width}  {'-' * 40}")
    for label, value in rows:
        print(f"{label:<{width}}  {value}")
    ok = (
        all(
            r["lists"] <= r["page_bound"] and r["details"] == r["new"] and r["refused"] == 0
            for r in (first, second)
        )
        and counted == expected
    )
    print(
        f"{'PASS' if ok else 'FAIL'}: first run {first['lists']} pages (bound "
        f"{first['page_bound']}) + {first['details']} details for {first['new']} new invoices; "
        f"second run {second['lists']} pages + {second['details']} details for "
        f"{second['new']} new; {first['refused'] + second['refused']} x 429; "
        f"{counted}/{expected} sale lines"
    )
    return ok


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--products", type=int, default=2000)
    parser.add_argument("--foreign", type=int, default=200)
    parser.add_argument("--nfe", type=int, default=400)
    parser.add_argument("--nfce", type=int, default=200)
    parser.add_argument("--new", type=int, default=40)
    parser.add_argument("--rate", type=int, default=3)
    parser.add_argument("--db", choices=("auto", "postgres", "sqlite"), default="auto")
    parser.add_argument("--port", type=int, default=0, help="the fake Bling's port (0: any)")
    parser.add_argument(
        "--database-url", help="use this (empty) database instead of a temporary one"
    )
    sys.exit(0 if run(parser.parse_args()) else 1)


if __name__ == "__main__":
    main()
