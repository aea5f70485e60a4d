"""Kill batch: SIGKILL the qcluster during a deactivation batch, then recovery.

300 sold-out products (evidence: an entry, then a sale that took each to zero, recorded in
the app's ledger), a stock sweep queued for the cluster. Bling (the fake) applies the first
`POST /produtos/situacoes` batch (100 products) and is slow to answer it; the cluster's
process group is SIGKILLed in between: the write landed in Bling, the app never saw the
outcome. The cluster is restarted with no schedules (recovery at start, in real time): the
open intents are settled by reading Bling once they expire (2 minutes). Then the sweep runs
again and deactivates the rest.

Checks: products inactive in Bling without blingsync's mark (target 0, right after recovery
and at the end), audit lines still pending (0), seconds from the restart until the intents
are settled, every sold-out product inactive and marked at the end.
"""

from __future__ import annotations

import argparse
import time

from bench.drills import probes
from bench.drills.report import DrillResult
from bench.drills.scenario import app_bring_up, opt
from bench.drills.stack import Stack, StackOptions

BATCH_PATH = "POST /produtos/situacoes"
SETTLE_TARGET_S = 180.0
STALE_MINUTES = 11  # past the job runner's STALE_AFTER, for the killed run's row only

_EVIDENCE = """
import uuid
from datetime import timedelta
from django.utils import timezone
from products.evidence import order_record, stock_movement_from_payload
ids = {ids!r}
entry_at = timezone.now() - timedelta(hours=3)
sale_at = timezone.now() - timedelta(hours=2)
for pid in ids:
    for op, qty, balance, at in (("E", 1, 1, entry_at), ("S", 1, 0, sale_at)):
        stock_movement_from_payload(
            event_type="stock.updated",
            data={{"produto": {{"id": pid}}, "deposito": {{"id": 0, "saldoFisico": balance,
                  "saldoVirtual": balance}}, "operacao": op, "quantidade": qty,
                  "saldoFisicoTotal": balance, "saldoVirtualTotal": balance}},
            occurred_at=at,
            event_id=str(uuid.uuid4()),
        )
result = sum(order_record(order_id=oid) for oid in {orders!r})
"""

_STATE = """
from products.models import ProductStockState as S
from blingsync.models import AuditLog
ids = {ids!r}
rows = S.objects.filter(bling_product_id__in=ids)
result = {{
    "ours": list(rows.filter(deactivated_by_blingsync=True).values_list("bling_product_id", flat=True)),
    "open_intents": rows.exclude(intent_situation="").count(),
    "pending_audit": AuditLog.objects.filter(action="product_deactivated", outcome="pending").count(),
    "audit_ok": AuditLog.objects.filter(action="product_deactivated", outcome="ok").count(),
}}
"""


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--products", type=int, help="sold-out products (300; quick 120)")
    p.add_argument("--answer-delay", type=float, default=5.0, help="Bling's slow answer (s)")


def configure(opts: StackOptions, args: argparse.Namespace) -> None:
    pass


def _inactive_in_bling(stack: Stack, ids: list[int]) -> set[int]:
    with stack.fake.lock:
        return {pid for pid in ids if stack.fake.products[pid]["situacao"] == "I"}


def run(stack: Stack, args: argparse.Namespace, result: DrillResult) -> None:
    n = opt(args, "products", 300, 120)
    fake = stack.fake
    category = fake.add_category("Memória")["id"]
    ids = [
        fake.add_product(f"Memória drill {i:05d}", categoria_id=category)["id"] for i in range(n)
    ]
    orders = []
    for start in range(0, n, 50):  # the sales that took them to zero
        orders.append(fake.add_order(items=[(pid, 1) for pid in ids[start : start + 50]])["id"])
    with fake.lock:
        for pid in ids:  # their stock in Bling: zero
            for balance in fake.catalog.balances.get(pid, {}).values():
                balance["fisico"] = balance["virtual"] = 0.0
    app_bring_up(stack)
    result.add("sale lines recorded", stack.django(_EVIDENCE.format(ids=ids, orders=orders)))

    fake.answer_delays[BATCH_PATH] = args.answer_delay
    run_id = probes.queue_job(stack, "stock")
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline and not _inactive_in_bling(stack, ids):
        time.sleep(0.02)
    stack.worker.kill()  # SIGKILL to the process group, while Bling is still answering
    t_kill = time.time()
    fake.answer_delays.clear()
    at_kill = _inactive_in_bling(stack, ids)
    state = stack.django(_STATE.format(ids=ids))
    result.add("inactive in Bling at the kill", len(at_kill))
    result.add("intents open at the kill", state["open_intents"])
    result.add("audit lines pending at the kill", state["pending_audit"])
    result.add("marked ours at the kill", len(state["ours"]))

    # ---- restart with no schedules: recovery at start settles the intents once expired
    time.sleep(2)
    stack.start_worker()
    t_restart = time.time()
    settled_s = None
    while time.time() - t_restart < SETTLE_TARGET_S + 60:
        state = stack.django(_STATE.format(ids=ids))
        if state["open_intents"] == 0 and state["pending_audit"] == 0:
            settled_s = time.time() - t_restart
            break
        time.sleep(3)
    inactive = _inactive_in_bling(stack, ids)
    unmarked = inactive - set(state["ours"])
    result.check(
        "intents settled, from the restart",
        f"{settled_s:.0f} s" if settled_s is not None else "not settled",
        f"<= {SETTLE_TARGET_S:.0f} s",
        settled_s is not None and settled_s <= SETTLE_TARGET_S,
        "killbatch: open intents not settled in time",
    )
    result.check(
        "inactive in Bling without our mark, after recovery",
        len(unmarked),
        "0",
        not unmarked,
        f"killbatch: {len(unmarked)} products inactive without blingsync's mark",
    )
    result.check(
        "audit lines left pending", state["pending_audit"], "0", not state["pending_audit"]
    )

    # ---- the sweep again (the killed run's row aged past the runner's heartbeat timeout)
    stack.django(
        "from datetime import timedelta\nfrom django.utils import timezone\n"
        "from blingsync.models import JobRun\n"
        "result = JobRun.objects.filter(kind='stock', status='running').update("
        f"heartbeat_at=timezone.now() - timedelta(minutes={STALE_MINUTES}))"
    )
    rerun = probes.wait_run_finished(stack, probes.queue_job(stack, "stock"), timeout=900)
    state = stack.django(_STATE.format(ids=ids))
    inactive = _inactive_in_bling(stack, ids)
    unmarked = inactive - set(state["ours"])
    result.check(
        "rerun of the sweep",
        f"{rerun.get('status')} changed={rerun.get('changed')}",
        "succeeded",
        rerun.get("status") == "succeeded",
    )
    result.check(
        "sold-out products inactive and ours at the end",
        f"{len(inactive)}/{n}, unmarked {len(unmarked)}",
        f"{n}/{n}, unmarked 0",
        len(inactive) == n and not unmarked,
    )
    killed = probes.wait_run_finished(stack, run_id, timeout=0)
    result.add("killed run's row", f"{killed.get('status')}")
    result.add("seconds from kill to restart", round(t_restart - t_kill, 1))
