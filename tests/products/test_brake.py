"""The brake (SPEC 5.8): a switch to paused or dry-run, or "Parar" on a run, stops running
work at its next write to Bling, and nothing is written after the switch is saved.

Real time, the fake over HTTP: the sweep runs in this thread, the switch comes from another
thread once the fake has seen some writes; what counts is the fake's request log (when each
write reached it) against the moment the switch was committed.
"""

from __future__ import annotations

import io
import json
import threading
import time
from collections.abc import Callable

import pytest
from django.core.management import CommandError, call_command
from django.db import connections
from django.urls import reverse

from blingsync.bling.observers import RequestSent, observers_subscribe, observers_unsubscribe
from blingsync.jobrunner import job_run_now, job_stop_request
from blingsync.models import AuditLog, JobRun, RuntimeSettings
from blingsync.operations.mode import mode_set
from products.models import CodeAssignment, ProductStockState
from tests.conftest import role_user_create
from tests.products.soldout_support import mode_live, sold_out_by_a_sale, tree_mirror
from webhooks.models import WebhookEvent
from webhooks.processing import event_process

PRODUCTS = 150
SWITCH_AFTER = 10  # PATCHes seen by the fake before the switch


def _catalog(fake) -> list[int]:
    tree = tree_mirror(fake)
    ids = [
        fake.add_product(f"Memória {n}", categoria_id=tree.memoria)["id"] for n in range(PRODUCTS)
    ]
    mode_live()
    return ids


def _slow(fake, settings) -> None:
    """Bling at a pace a person can act within: ~10 calls a second."""
    settings.BLING_RATE_PER_SECOND = 10
    fake.delay = 0.02


def _switch_when_writing(fake, switch: Callable[[], None]) -> dict[str, float]:
    """Start a thread that runs `switch` once the fake has seen SWITCH_AFTER PATCHes;
    returns a dict that gets "at": time.time() right after `switch` returned (committed)."""
    moment: dict[str, float] = {}

    def watch() -> None:
        try:
            deadline = time.monotonic() + 120
            while len(fake.calls(method="PATCH")) < SWITCH_AFTER:
                if time.monotonic() > deadline:
                    return
                time.sleep(0.01)
            switch()
            moment["at"] = time.time()
        finally:
            connections.close_all()

    thread = threading.Thread(target=watch, daemon=True)
    thread.start()
    moment["_thread"] = 0.0
    return moment


def _assert_nothing_written_after(fake, switched_at: float) -> None:
    late = [c for c in fake.calls(method="PATCH") if c.received > switched_at]
    assert late == [], f"{len(late)} PATCH(es) reached Bling after the switch"


def _assert_intents_settled() -> None:
    assert not AuditLog.objects.filter(
        action=AuditLog.Action.CODE_ASSIGNED, outcome=AuditLog.Outcome.PENDING
    ).exists()
    assert not CodeAssignment.objects.filter(write_claimed_until__isnull=False).exists()


@pytest.mark.django_db(transaction=True)
def test_a_live_sweep_switched_to_paused_mid_run_writes_nothing_after_the_switch(
    fake_bling, bling_connected, settings
):
    _catalog(fake_bling)
    _slow(fake_bling, settings)
    switch = _switch_when_writing(
        fake_bling, lambda: mode_set(mode=RuntimeSettings.Mode.PAUSED, actor="teste")
    )
    started = time.monotonic()
    run = job_run_now(kind="codes", trigger="manual")
    took = time.monotonic() - started

    assert "at" in switch, "the switch never happened (the sweep wrote too little)"
    _assert_nothing_written_after(fake_bling, switch["at"])
    coded = [p for p in fake_bling.products.values() if p["codigo"]]
    assert SWITCH_AFTER <= len(coded) < PRODUCTS
    run.refresh_from_db()
    assert run.status == JobRun.Status.INTERRUPTED
    assert run.get_status_display() == "interrompida"
    assert "pausada" in run.error and "nada foi escrito" in run.error
    assert run.changed == len(coded)  # its counts so far
    assert run.details["interrupted_reason"] == "paused"
    assert took < 60  # it stopped; the whole sweep would take far longer
    _assert_intents_settled()
    # The refused write is on record: not applied, and why; no alert for a pause.
    refused = AuditLog.objects.filter(
        action=AuditLog.Action.CODE_ASSIGNED, outcome=AuditLog.Outcome.FAILED
    )
    assert refused.count() <= 1
    assert all("não enviado" in e.error for e in refused)


@pytest.mark.django_db(transaction=True)
def test_parar_stops_a_running_sweep_before_its_next_write(fake_bling, bling_connected, settings):
    _catalog(fake_bling)
    _slow(fake_bling, settings)

    def stop() -> None:
        run = JobRun.objects.get(kind="codes", status=JobRun.Status.RUNNING)
        assert job_stop_request(run_id=run.pk, actor="gerente")

    switch = _switch_when_writing(fake_bling, stop)
    run = job_run_now(kind="codes", trigger="manual")

    assert "at" in switch
    _assert_nothing_written_after(fake_bling, switch["at"])
    run.refresh_from_db()
    assert run.status == JobRun.Status.INTERRUPTED
    assert "gerente" in run.error
    assert run.stop_requested_by == "gerente"
    assert RuntimeSettings.load().mode == RuntimeSettings.Mode.LIVE  # only that run stopped
    _assert_intents_settled()
    assert AuditLog.objects.filter(action=AuditLog.Action.JOB_STOPPED, actor="gerente").exists()
    # The next run writes the rest, with the codes the stopped run had reserved.
    rerun = job_run_now(kind="codes", trigger="manual")
    assert rerun.status == JobRun.Status.SUCCEEDED
    codes = [p["codigo"] for p in fake_bling.products.values() if p["codigo"]]
    assert len(codes) == PRODUCTS
    assert sorted(codes) == [f"MEMO{n:05d}" for n in range(1, PRODUCTS + 1)]


def _event_processed_while_the_mode_switches_to(fake, company_id: str, mode: str) -> tuple:
    """A product.created event processed while staff switch the mode (after its claim and
    first read, before its write: a subscriber of the client's RequestSent does it).
    Returns (product id, the event row, what processing said)."""
    tree = tree_mirror(fake)
    mode_live()
    pid = fake.add_product("Memória 8GB", categoria_id=tree.memoria)["id"]
    event = WebhookEvent.objects.create(
        event_id=f"ev-brake-{mode}",
        event_type="product.created",
        resource_id=pid,
        body=json.dumps({"data": {"id": pid}}),
        signature_valid=True,
        status=WebhookEvent.Status.PENDING,
        company_id=company_id,
    )

    def switch_on_first_read(sent: RequestSent) -> None:
        RuntimeSettings.objects.filter(pk=1).update(mode=mode)

    observers_subscribe(RequestSent, switch_on_first_read)
    try:
        outcome = event_process(event_id=event.pk)
    finally:
        observers_unsubscribe(RequestSent, switch_on_first_read)
    event.refresh_from_db()
    return pid, event, outcome


@pytest.mark.django_db
def test_an_event_whose_write_the_brake_holds_back_waits_and_is_written_when_live(
    fake_bling, bling_connected
):
    pid, event, outcome = _event_processed_while_the_mode_switches_to(
        fake_bling, bling_connected.company_id, RuntimeSettings.Mode.PAUSED
    )
    assert outcome == "held"
    assert not fake_bling.calls(method="PATCH")
    assert event.status == WebhookEvent.Status.PENDING  # not failed, not lost
    assert event.attempts == 0 and "não enviado" in event.last_error
    assignment = CodeAssignment.objects.get(bling_product_id=pid)
    assert assignment.status == CodeAssignment.Status.RESERVED
    assert assignment.write_claimed_until is None
    entry = AuditLog.objects.get(action=AuditLog.Action.CODE_ASSIGNED, bling_product_id=pid)
    assert entry.outcome == AuditLog.Outcome.FAILED and "pausada" in entry.error

    mode_live()
    call_command("process_events", stdout=io.StringIO())
    event.refresh_from_db()
    assert event.status == WebhookEvent.Status.PROCESSED
    assert fake_bling.products[pid]["codigo"] == assignment.code


@pytest.mark.django_db
def test_a_switch_to_dry_run_also_holds_writes_back(fake_bling, bling_connected):
    pid, event, outcome = _event_processed_while_the_mode_switches_to(
        fake_bling, bling_connected.company_id, RuntimeSettings.Mode.DRY_RUN
    )
    assert outcome == "held" and event.status == WebhookEvent.Status.PENDING
    assert not fake_bling.calls(method="PATCH")
    assert fake_bling.products[pid]["codigo"] == ""


def _running_run() -> JobRun:
    return JobRun.objects.create(kind="codes", trigger="manual", status=JobRun.Status.RUNNING)


@pytest.mark.django_db
def test_operacao_cannot_stop_a_run_and_nothing_changes(client, django_user_model):
    run = _running_run()
    client.force_login(role_user_create(django_user_model, "operacao"))
    page = client.get(reverse("admin:blingsync_jobrun_change", args=[run.pk]))
    assert page.status_code == 200 and b"jobrun-stop" not in page.content
    response = client.post(reverse("admin:blingsync_jobrun_stop", args=[run.pk]))
    assert response.status_code == 403
    run.refresh_from_db()
    assert run.stop_requested_at is None and run.stop_requested_by == ""
    assert run.status == JobRun.Status.RUNNING
    assert not AuditLog.objects.filter(action=AuditLog.Action.JOB_STOPPED).exists()


@pytest.mark.django_db
def test_gestao_stops_a_running_run_with_parar(client, django_user_model):
    run = _running_run()
    client.force_login(role_user_create(django_user_model, "gestao"))
    page = client.get(reverse("admin:blingsync_jobrun_change", args=[run.pk]))
    assert b"jobrun-stop" in page.content
    response = client.post(reverse("admin:blingsync_jobrun_stop", args=[run.pk]))
    assert response.status_code == 302
    run.refresh_from_db()
    assert run.stop_requested_at is not None and run.stop_requested_by == "staff-gestao"
    entry = AuditLog.objects.get(action=AuditLog.Action.JOB_STOPPED)
    assert (entry.actor, entry.source) == ("staff-gestao", AuditLog.Source.ADMIN)
    # Asking again changes nothing.
    client.post(reverse("admin:blingsync_jobrun_stop", args=[run.pk]))
    assert AuditLog.objects.filter(action=AuditLog.Action.JOB_STOPPED).count() == 1


@pytest.mark.django_db
def test_job_stop_command(db):
    run = _running_run()
    out = io.StringIO()
    call_command("job_stop", "--run", str(run.pk), stdout=out)
    run.refresh_from_db()
    assert run.stop_requested_at is not None
    assert f"#{run.pk}" in out.getvalue()
    with pytest.raises(CommandError):
        call_command("job_stop", "--run", str(run.pk), stdout=io.StringIO())  # already asked
    with pytest.raises(CommandError):
        call_command("job_stop", "--run", "999999", stdout=io.StringIO())
    finished = JobRun.objects.create(kind="codes", trigger="manual", status="succeeded")
    with pytest.raises(CommandError):
        call_command("job_stop", "--run", str(finished.pk), stdout=io.StringIO())
    finished.refresh_from_db()
    assert finished.stop_requested_at is None


@pytest.mark.django_db
def test_a_stock_sweep_paused_after_its_first_batch_writes_no_other(fake_bling, bling_connected):
    tree = tree_mirror(fake_bling)
    mode_live()
    sold = [sold_out_by_a_sale(fake_bling, tree.memoria, f"Memória {n}") for n in range(250)]

    def pause_after_first_batch(sent: RequestSent) -> None:
        if sent.method == "POST" and sent.path == "/produtos/situacoes":
            RuntimeSettings.objects.filter(pk=1).update(mode=RuntimeSettings.Mode.PAUSED)

    observers_subscribe(RequestSent, pause_after_first_batch)
    try:
        run = job_run_now(kind="stock", trigger="manual")
    finally:
        observers_unsubscribe(RequestSent, pause_after_first_batch)

    batches = fake_bling.calls(method="POST", path="/produtos/situacoes")
    assert len(batches) == 1 and len(batches[0].json["idsProdutos"]) == 100
    inactive = [pid for pid in sold if fake_bling.products[pid]["situacao"] == "I"]
    assert len(inactive) == 100
    assert run.status == JobRun.Status.INTERRUPTED and "pausada" in run.error
    assert run.changed == 100  # its counts so far
    # What was written is ours; what was held back is settled (not applied, why); no intent
    # is left open.
    states = ProductStockState.objects.filter(bling_product_id__in=sold)
    assert set(
        states.filter(deactivated_by_blingsync=True).values_list("bling_product_id", flat=True)
    ) == set(inactive)
    assert not states.exclude(intent_situation="").exists()
    entries = AuditLog.objects.filter(action=AuditLog.Action.PRODUCT_DEACTIVATED)
    assert entries.filter(outcome=AuditLog.Outcome.OK).count() == 100
    # (The run stopped at its progress report right after the batch, before auditing the
    # next one; a write refused at the gate would be audited failed, "não enviado".)
    held = entries.filter(outcome=AuditLog.Outcome.FAILED)
    assert all("não enviado" in e.error for e in held)
    assert not entries.filter(outcome=AuditLog.Outcome.PENDING).exists()
