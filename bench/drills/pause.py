"""Pause: switch to paused while a live code sweep over 2,000 products is writing.

The sweep is queued for the cluster (as the admin's "run now"); Bling (the fake) answers at
its real 3 requests/s. Once the fake has seen some code writes, staff switch the mode to
paused with `set_mode paused` (its own process, as an operator would). The switch's commit
moment is `RuntimeSettings.updated_at`; the fake records when each request *reached* it.

Measured: seconds from the switch to the last write the fake received (target <= 2 s; the
brake reads the mode before every write, so in practice no write reaches Bling after the
commit: the figure is negative, the last write came before it), writes received after the
switch (target 0), seconds from the switch until the run's row says "interrompida", and the
run's counts. Then live again: a new sweep codes the rest with the codes already reserved.
"""

from __future__ import annotations

import argparse
import time
from datetime import datetime

from bench.drills import probes
from bench.drills.report import DrillResult
from bench.drills.scenario import app_bring_up, catalog_seed, opt
from bench.drills.stack import Stack, StackOptions

TARGET_S = 2.0


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--products", type=int, help="uncoded products (2000; quick 300)")
    p.add_argument("--writes-before", type=int, default=20, help="code writes before the pause")


def configure(opts: StackOptions, args: argparse.Namespace) -> None:
    pass


def _code_writes(stack: Stack) -> list:
    return [
        r
        for r in stack.fake.calls(method="PATCH", prefix="/produtos/")
        if isinstance(r.json, dict) and "codigo" in r.json
    ]


_SWITCH = """
from blingsync.models import RuntimeSettings
row = RuntimeSettings.load()
result = {"mode": row.mode, "updated_at": row.updated_at.timestamp()}
"""


def run(stack: Stack, args: argparse.Namespace, result: DrillResult) -> None:
    n_products = opt(args, "products", 2000, 300)
    catalog_seed(stack, products=n_products, share_without_code=1.0)
    app_bring_up(stack)
    run_id = probes.queue_job(stack, "codes")

    deadline = time.monotonic() + 900
    while time.monotonic() < deadline and len(_code_writes(stack)) < args.writes_before:
        time.sleep(0.05)
    writes_before = len(_code_writes(stack))
    result.add("code writes when the pause was asked", writes_before)
    stack.set_mode("paused")
    switch = stack.django(_SWITCH)
    switched_at = float(switch["updated_at"])

    run_row = probes.wait_run_finished(stack, run_id, timeout=120, poll=0.5)
    seen_finished = time.time()
    time.sleep(3)  # anything still on its way to the fake arrives meanwhile
    writes = _code_writes(stack)
    after = [r for r in writes if r.received > switched_at]
    last = max((r.received for r in writes), default=switched_at)
    to_last = last - switched_at
    result.check(
        "seconds from the switch to the last write",
        round(to_last, 2),
        f"<= {TARGET_S:.0f} s",
        to_last <= TARGET_S,
        f"pause: a write reached Bling {to_last:.2f} s after the switch",
    )
    result.check(
        "writes received after the switch",
        len(after),
        "0",
        not after,
        f"pause: {len(after)} code writes reached Bling after the switch",
    )
    finished_at = run_row.get("finished_at")
    if isinstance(finished_at, str):
        ended = datetime.fromisoformat(finished_at).timestamp()
    else:
        ended = seen_finished
    result.add("seconds from the switch to the run's end", round(ended - switched_at, 2))
    result.check(
        "run status",
        f"{run_row.get('status')}: {str(run_row.get('error'))[:90]}",
        "interrupted",
        run_row.get("status") == "interrupted",
        f"pause: the run ended {run_row.get('status')}",
    )
    coded = n_products - len(probes.fake_codes(stack)["without_code"])
    result.check(
        "run's count of codes = codes in Bling",
        f"{run_row.get('changed')} / {coded}",
        "equal",
        run_row.get("changed") == coded,
    )
    result.add("codes written before the pause", coded)

    # Live again: the next run writes the rest (codes already reserved keep their value).
    stack.set_mode("live")
    rerun_id = probes.queue_job(stack, "codes")
    rerun = probes.wait_run_finished(stack, rerun_id, timeout=n_products * 2 + 300)
    fc = probes.fake_codes(stack)
    result.check(
        "rerun codes the rest",
        f"{rerun.get('status')}, {len(fc['without_code'])} left",
        "succeeded, 0 left",
        rerun.get("status") == "succeeded" and not fc["without_code"],
    )
    result.check(
        "duplicate codes in Bling",
        len(fc["duplicate_codes"]),
        "0",
        not fc["duplicate_codes"],
    )
