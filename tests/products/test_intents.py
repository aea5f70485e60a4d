"""Intent before write, and recovery without a schedule (SPEC 5.6, 5.8).

A process killed between a Bling write and its outcome (a real subprocess that ends with
os._exit right after the call returned) leaves its intent open; recovery settles it by
reading Bling: a product inactive in Bling is marked as blingsync's (so the restock
reactivates it), a code Bling holds is applied. `process_events` alone, and a started
cluster with no schedules (a real qcluster process, real time), take back what a killed
worker left: events `processing` with expired claims, stock evaluations, reserved codes.
"""

from __future__ import annotations

import io
import json
import logging
import os
import subprocess
import sys
import time
from datetime import timedelta

import pytest
from django.conf import settings
from django.core.management import call_command
from django.utils import timezone
from django_q.models import Schedule

from blingsync.jobrunner import STALE_AFTER
from blingsync.models import AuditLog, JobRun
from blingsync.recovery import recovery_reclaim
from products.intents import INTENT_EXPIRES, code_claims_settle, stock_intents_settle
from products.models import CodeAssignment, ProductStockState, StockEvaluation
from tests.bling.processes import ROOT, database_url
from tests.products.soldout_support import (
    mode_live,
    sold_out_by_a_sale,
    stock_posting,
    tree_mirror,
)
from webhooks.models import WebhookEvent

Status = CodeAssignment.Status


def _env(fake) -> dict[str, str]:
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.settings",
        "DATABASE_URL": database_url(),
        "BLING_API_BASE_URL": fake.base_url,
        "BLING_CLIENT_ID": fake.client_id,
        "BLING_CLIENT_SECRET": fake.client_secret,
        "BLING_RATE_PER_SECOND": str(settings.BLING_RATE_PER_SECOND),
        "SECRET_KEY": settings.SECRET_KEY,
        "TOKEN_ENCRYPTION_KEY": settings.TOKEN_ENCRYPTION_KEY,
        "LOG_LEVEL": "WARNING",
    }


def _killed(fake, action: str) -> subprocess.CompletedProcess:
    proc = subprocess.run(
        [sys.executable, "-m", "tests.products.kill_worker", action],
        cwd=ROOT,
        env=_env(fake),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 9, f"exit {proc.returncode}: {proc.stderr[-2000:]}"
    return proc


def _later() -> timezone.datetime:
    """A moment when every intent left by the killed process has expired."""
    return timezone.now() + INTENT_EXPIRES + timedelta(seconds=1)


@pytest.mark.django_db(transaction=True)
def test_a_process_killed_after_the_deactivation_call_is_settled_as_ours_and_reactivated(
    fake_bling, bling_connected
):
    tree = tree_mirror(fake_bling)
    mode_live()
    sold = [sold_out_by_a_sale(fake_bling, tree.memoria, f"Memória {n}") for n in range(5)]

    _killed(fake_bling, "stock")

    # Bling has them inactive; blingsync has only the intent committed before the call.
    assert all(fake_bling.products[pid]["situacao"] == "I" for pid in sold)
    states = ProductStockState.objects.filter(bling_product_id__in=sold)
    assert states.count() == len(sold)
    assert all(s.intent_situation == "I" and not s.deactivated_by_blingsync for s in states)
    entries = AuditLog.objects.filter(
        action=AuditLog.Action.PRODUCT_DEACTIVATED, bling_product_id__in=sold
    )
    assert {e.outcome for e in entries} == {AuditLog.Outcome.PENDING}
    assert {s.intent_audit_id for s in states} == {e.pk for e in entries}

    # Recovery reads Bling: inactive, so the deactivation is ours and its audit applied.
    assert stock_intents_settle(now=_later()) == {"applied": len(sold), "not_applied": 0}
    for state in ProductStockState.objects.filter(bling_product_id__in=sold):
        assert state.deactivated_by_blingsync and state.deactivated_at is not None
        assert state.intent_situation == "" and state.intent_at is None
    assert {e.outcome for e in entries.all()} == {AuditLog.Outcome.OK}

    # Later the product is restocked: blingsync reactivates what it deactivated. (The killed
    # run's row is released once its heartbeat is stale: made stale here, not waited for.)
    JobRun.objects.filter(kind="stock", status=JobRun.Status.RUNNING).update(
        heartbeat_at=timezone.now() - STALE_AFTER - timedelta(seconds=1)
    )
    stock_posting(fake_bling, sold[0], "E", 3)
    call_command("sweep_stock", stdout=io.StringIO())
    assert fake_bling.products[sold[0]]["situacao"] == "A"
    assert all(fake_bling.products[pid]["situacao"] == "I" for pid in sold[1:])
    assert not ProductStockState.objects.get(bling_product_id=sold[0]).deactivated_by_blingsync


@pytest.mark.django_db(transaction=True)
def test_a_process_killed_after_a_code_write_is_settled_as_applied(fake_bling, bling_connected):
    tree = tree_mirror(fake_bling)
    mode_live()
    pids = [fake_bling.add_product(f"Memória {n}", categoria_id=tree.memoria)["id"] for n in (1, 2)]

    _killed(fake_bling, "codes")

    written = [pid for pid in pids if fake_bling.products[pid]["codigo"]]
    assert len(written) == 1
    assignment = CodeAssignment.objects.get(bling_product_id=written[0])
    assert assignment.status == Status.RESERVED and assignment.write_claimed_until is not None
    assert fake_bling.products[written[0]]["codigo"] == assignment.code

    settled = code_claims_settle(now=assignment.write_claimed_until + timedelta(seconds=1))
    assert settled == {"applied": 1, "released": 0, "discarded": 0}
    assignment.refresh_from_db()
    assert assignment.status == Status.APPLIED and assignment.write_claimed_until is None
    entry = AuditLog.objects.get(action=AuditLog.Action.CODE_ASSIGNED, bling_product_id=written[0])
    assert entry.outcome == AuditLog.Outcome.OK


def _left_by_a_killed_worker(fake, tree, company_id: str) -> dict[str, list[int]]:
    """What a worker SIGKILLed mid-work leaves, its claims expired: events `processing`, a
    code `reserved` with a claim (its write never reached Bling), a stock evaluation
    claimed."""
    past = timezone.now() - timedelta(minutes=5)
    products = [fake.add_product(f"Memória {n}", categoria_id=tree.memoria)["id"] for n in range(3)]
    for n, pid in enumerate(products):
        WebhookEvent.objects.create(
            event_id=f"ev-killed-{n}",
            event_type="product.created",
            resource_id=pid,
            body=json.dumps({"data": {"id": pid}}),
            signature_valid=True,
            company_id=company_id,
            status=WebhookEvent.Status.PROCESSING,
            attempts=1,
            claimed_at=past,
            recover_at=past + timedelta(seconds=60),
        )
    orphan = fake.add_product("Memória sem evento", categoria_id=tree.memoria)["id"]
    CodeAssignment.objects.create(
        bling_product_id=orphan,
        code="MEMO00050",
        prefix="MEMO",
        number=50,
        status=Status.RESERVED,
        write_claimed_until=past,
    )
    sold = sold_out_by_a_sale(fake, tree.memoria, "Memória esgotada")
    StockEvaluation.objects.create(
        bling_product_id=sold, due_at=past, claimed_at=past, recover_at=past + timedelta(seconds=60)
    )
    return {"events": products, "orphan": [orphan], "sold": [sold]}


def _assert_settled(fake, left: dict[str, list[int]]) -> None:
    assert not WebhookEvent.objects.exclude(status=WebhookEvent.Status.PROCESSED).exists()
    assert all(fake.products[pid]["codigo"].startswith("MEMO") for pid in left["events"])
    # The orphan code's write never reached Bling: its claim is released, the code kept for
    # the product (the next code sweep writes it).
    orphan = CodeAssignment.objects.get(bling_product_id=left["orphan"][0])
    assert orphan.status == Status.RESERVED and orphan.write_claimed_until is None
    assert orphan.code == "MEMO00050"
    assert not StockEvaluation.objects.exists()
    assert fake.products[left["sold"][0]]["situacao"] == "I"
    assert ProductStockState.objects.get(bling_product_id=left["sold"][0]).deactivated_by_blingsync


@pytest.mark.django_db
def test_process_events_alone_takes_back_what_a_killed_worker_left(fake_bling, bling_connected):
    assert not Schedule.objects.exists()  # no minute schedule: the command does it
    tree = tree_mirror(fake_bling)
    mode_live()
    left = _left_by_a_killed_worker(fake_bling, tree, bling_connected.company_id)

    out = io.StringIO()
    call_command("process_events", stdout=out)

    _assert_settled(fake_bling, left)
    assert "events_released=3" in out.getvalue()
    assert "codes_released=1" in out.getvalue()
    # Run again: nothing left to take back.
    assert not any(recovery_reclaim().values())


@pytest.mark.django_db(transaction=True)
def test_a_started_cluster_without_schedules_takes_back_what_a_killed_worker_left(
    fake_bling, bling_connected
):
    assert not Schedule.objects.exists()
    tree = tree_mirror(fake_bling)
    mode_live()
    left = _left_by_a_killed_worker(fake_bling, tree, bling_connected.company_id)
    # One more event whose claim is still held when the cluster starts (its worker was
    # killed moments ago): taken back when the claim expires.
    pid = fake_bling.add_product("Memória recente", categoria_id=tree.memoria)["id"]
    now = timezone.now()
    WebhookEvent.objects.create(
        event_id="ev-killed-recent",
        event_type="product.created",
        resource_id=pid,
        body=json.dumps({"data": {"id": pid}}),
        signature_valid=True,
        company_id=bling_connected.company_id,
        status=WebhookEvent.Status.PROCESSING,
        attempts=1,
        claimed_at=now,
        recover_at=now + timedelta(seconds=20),
    )
    left["events"].append(pid)

    env = {**_env(fake_bling), "Q_SYNC": "0", "Q_WORKERS": "1", "LOG_LEVEL": "INFO"}
    log_path = ROOT / f".qcluster-test-{os.getpid()}.log"
    started = time.monotonic()
    with open(log_path, "w") as log:
        cluster = subprocess.Popen(
            [sys.executable, "manage.py", "qcluster"],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = started + 180
        while time.monotonic() < deadline:
            if not WebhookEvent.objects.exclude(status=WebhookEvent.Status.PROCESSED).exists():
                if not StockEvaluation.objects.exists():
                    break
            assert cluster.poll() is None, log_path.read_text()[-3000:]
            time.sleep(1)
        took = time.monotonic() - started
    finally:
        cluster.terminate()
        try:
            cluster.wait(timeout=20)
        except subprocess.TimeoutExpired:
            cluster.kill()
            cluster.wait()
    text = log_path.read_text()
    log_path.unlink(missing_ok=True)
    assert took < 180, text[-3000:]
    _assert_settled(fake_bling, left)
    logging.getLogger(__name__).info("cluster start -> everything settled in %.1f s", took)
