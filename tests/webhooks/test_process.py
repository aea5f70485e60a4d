"""Processing stored events end to end: signed deliveries in, what the fake Bling holds out.

Deliveries are real signed requests (the fake's `webhook_body` + `sign`, or `send_webhook`
over HTTP to a live server); processing runs inline after commit (tests run django-q
synchronously), so each test sees what a worker would have done.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from blingsync.models import AuditLog, RuntimeSettings
from products.models import CodeAssignment, ProductStockState, StockEvaluation
from products.stock_evaluations import stock_evaluations_run_due
from tests.products.soldout_support import mode_live, tree_mirror
from webhooks.models import WebhookEvent
from webhooks.processing import MAX_ATTEMPTS, event_process

from .conftest import URL

pytestmark = pytest.mark.django_db

Status = WebhookEvent.Status


def _debounce(seconds: int) -> None:
    RuntimeSettings.load()
    RuntimeSettings.objects.filter(pk=1).update(stock_debounce_seconds=seconds)


def _stock_data(product_id: int, total: float, operation: str = "S", quantity: float = 1) -> dict:
    return {
        "produto": {"id": product_id},
        "deposito": {"id": 1, "saldoFisico": total, "saldoVirtual": total},
        "operacao": operation,
        "quantidade": quantity,
        "saldoFisicoTotal": total,
        "saldoVirtualTotal": total,
    }


def test_product_created_for_an_uncoded_product_gets_its_code(fake_bling, bling_connected, deliver):
    tree = tree_mirror(fake_bling)
    mode_live()
    pid = fake_bling.add_product("Memória 8GB DDR4", categoria_id=tree.memoria)["id"]
    event = deliver("product.created", {"id": pid, "codigo": "", "situacao": "A"})
    event.refresh_from_db()
    assert event.status == Status.PROCESSED
    assert fake_bling.products[pid]["codigo"] == "MEMO00001"
    assert "MEMO00001" in event.note
    entry = AuditLog.objects.get(action=AuditLog.Action.CODE_ASSIGNED, bling_product_id=pid)
    assert (entry.source, entry.source_ref) == ("webhook", event.event_id)


def test_the_echo_of_our_own_write_costs_no_bling_call(fake_bling, deliver):
    pid = fake_bling.add_product("Placa", codigo="PLMA00011")["id"]
    CodeAssignment.objects.create(
        bling_product_id=pid,
        code="PLMA00011",
        prefix="PLMA",
        number=11,
        status=CodeAssignment.Status.APPLIED,
        applied_at=timezone.now(),
    )
    fake_bling.requests.clear()
    event = deliver("product.updated", {"id": pid, "codigo": "PLMA00011", "situacao": "A"})
    event.refresh_from_db()
    assert event.status == Status.PROCESSED
    assert event.echo is True
    assert "PLMA00011" in event.note
    assert fake_bling.calls() == []


def test_a_change_that_is_not_our_echo_is_processed(fake_bling, bling_connected, deliver):
    tree = tree_mirror(fake_bling)
    mode_live()
    pid = fake_bling.add_product("Placa B450", categoria_id=tree.placa_mae)["id"]
    CodeAssignment.objects.create(  # an old write: outside the echo window
        bling_product_id=pid,
        code="PLMA00001",
        prefix="PLMA",
        number=1,
        status=CodeAssignment.Status.APPLIED,
        applied_at=timezone.now() - timedelta(hours=2),
    )
    event = deliver("product.updated", {"id": pid, "codigo": "PLMA00001", "situacao": "A"})
    event.refresh_from_db()
    assert event.echo is False
    assert fake_bling.calls(method="GET", path=f"/produtos/{pid}")


@pytest.mark.django_db(transaction=True)
def test_our_code_write_comes_back_as_an_echo_over_http(fake_bling, bling_connected, live_server):
    tree = tree_mirror(fake_bling)
    mode_live()
    fake_bling.webhook_url = live_server.url + URL  # the fake echoes our writes here
    pid = fake_bling.add_product("Memória 16GB", categoria_id=tree.memoria)["id"]
    status, _body, event_id = fake_bling.send_webhook(
        live_server.url + URL, "product.created", {"id": pid, "codigo": "", "situacao": "A"}
    )
    assert status == 200
    fake_bling.wait_webhooks()
    assert fake_bling.products[pid]["codigo"] == "MEMO00001"
    echo = WebhookEvent.objects.exclude(event_id=event_id).get(event_type="product.updated")
    assert echo.status == Status.PROCESSED
    assert echo.echo is True
    # one detail read and one write, both for the product.created; none for its echo
    assert len(fake_bling.calls(method="GET", path=f"/produtos/{pid}")) == 1
    assert len(fake_bling.calls(method="PATCH")) == 1


def test_stock_at_zero_after_an_order_deactivates_the_product(fake_bling, bling_connected, deliver):
    tree = tree_mirror(fake_bling)
    mode_live()
    _debounce(0)
    pid = fake_bling.add_product("Memória 4GB", codigo="MEMO00007", categoria_id=tree.memoria)["id"]
    fake_bling.set_stock(pid, 2)
    entry_date = (timezone.now() - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    body = fake_bling.webhook_body("stock.updated", _stock_data(pid, 2, "E", 2), date=entry_date)
    deliver("", {}, body=body)
    assert fake_bling.products[pid]["situacao"] == "A"

    order = fake_bling.add_order(items=[(pid, 2)])
    deliver("order.created", {"id": order["id"], "situacao": {"id": 9, "valor": 0}})
    fake_bling.set_stock(pid, 0)
    event = deliver("stock.updated", _stock_data(pid, 0, "S", 2))

    event.refresh_from_db()
    assert event.status == Status.PROCESSED
    assert fake_bling.products[pid]["situacao"] == "I"
    state = ProductStockState.objects.get(bling_product_id=pid)
    assert state.deactivated_by_blingsync is True


def test_a_burst_of_stock_events_causes_one_evaluation(fake_bling, bling_connected, deliver):
    tree = tree_mirror(fake_bling)
    mode_live()
    _debounce(30)
    pid = fake_bling.add_product("Memória 2GB", codigo="MEMO00008", categoria_id=tree.memoria)["id"]
    fake_bling.set_stock(pid, 5)
    for left in (4, 3, 2, 1, 0):
        deliver("stock.updated", _stock_data(pid, left))
    assert WebhookEvent.objects.filter(status=Status.PROCESSED).count() == 5
    pending = StockEvaluation.objects.get(bling_product_id=pid)
    assert pending.requests == 5
    fake_bling.requests.clear()

    assert stock_evaluations_run_due() == {}  # the window is still open
    later = timezone.now() + timedelta(seconds=31)
    assert stock_evaluations_run_due(now=later) == {"evaluated": 1}
    assert len(fake_bling.calls(method="GET", path=f"/produtos/{pid}")) == 1
    assert not StockEvaluation.objects.exists()
    assert stock_evaluations_run_due(now=later + timedelta(minutes=1)) == {}


def test_a_stock_event_during_an_evaluation_asks_for_one_more(
    fake_bling, bling_connected, monkeypatch
):
    from products import soldout
    from products.stock_evaluations import stock_evaluation_request, stock_evaluation_run

    tree = tree_mirror(fake_bling)
    mode_live()
    _debounce(30)
    pid = fake_bling.add_product("Memória 1GB", codigo="MEMO00009", categoria_id=tree.memoria)["id"]
    stock_evaluation_request(product_id=pid, event_id="e1")
    real = soldout.product_stock_evaluate

    def evaluate_while_an_event_arrives(**kwargs):
        # Another stock event is processed while this evaluation talks to Bling.
        stock_evaluation_request(product_id=pid, event_id="e2")
        return real(**kwargs)

    monkeypatch.setattr(soldout, "product_stock_evaluate", evaluate_while_an_event_arrives)
    later = timezone.now() + timedelta(seconds=31)
    assert stock_evaluation_run(product_id=pid, now=later) == "again"
    again = StockEvaluation.objects.get(bling_product_id=pid)
    assert again.claimed_at is None and again.due_at > timezone.now()  # not lost: one more
    monkeypatch.setattr(soldout, "product_stock_evaluate", real)
    assert stock_evaluations_run_due(now=later + timedelta(seconds=31)) == {"evaluated": 1}
    assert not StockEvaluation.objects.exists()


def test_a_failing_event_is_retried_with_backoff_then_left_failed(
    fake_bling, bling_connected, deliver
):
    tree = tree_mirror(fake_bling)
    mode_live()
    pid = fake_bling.add_product("Memória 32GB", categoria_id=tree.memoria)["id"]
    fake_bling.outage(503)
    event = deliver("product.created", {"id": pid, "codigo": "", "situacao": "A"})
    event.refresh_from_db()
    assert event.status == Status.FAILED
    assert event.attempts == 1
    assert event.next_attempt_at > timezone.now() + timedelta(seconds=50)
    assert "503" in event.last_error

    delays = []
    for _ in range(MAX_ATTEMPTS - 1):
        delays.append(event.next_attempt_at - timezone.now())
        # time passes: the retry is due
        WebhookEvent.objects.filter(pk=event.pk).update(next_attempt_at=timezone.now())
        event_process(event_id=event.pk)
        event.refresh_from_db()
    assert [round(d.total_seconds() / 60) for d in delays] == [1, 5, 25, 125]
    assert event.status == Status.FAILED
    assert event.attempts == MAX_ATTEMPTS
    assert event.next_attempt_at is None  # for good: waits for staff
    assert event.last_error.startswith(("BlingUnavailable", "BlingCircuitOpen"))
    assert event_process(event_id=event.pk) == "not_claimed"

    fake_bling.recover()
    from blingsync.bling.ratelimit import circuit_success
    from webhooks.maintenance import events_reprocess

    circuit_success()  # time passes: the breaker closes again

    events_reprocess(event_ids=[event.pk], queue=False)
    assert event_process(event_id=event.pk) == "processed"
    assert fake_bling.products[pid]["codigo"] == "MEMO00001"


def test_paused_mode_stores_events_and_processes_them_after_resume(
    fake_bling, bling_connected, deliver
):
    tree = tree_mirror(fake_bling)
    RuntimeSettings.load()
    RuntimeSettings.objects.filter(pk=1).update(mode=RuntimeSettings.Mode.PAUSED)
    pid = fake_bling.add_product("Memória 64GB", categoria_id=tree.memoria)["id"]
    fake_bling.requests.clear()
    event = deliver("product.created", {"id": pid, "codigo": "", "situacao": "A"})
    event.refresh_from_db()
    assert event.status == Status.PENDING
    assert event_process(event_id=event.pk) == "paused"
    assert fake_bling.calls() == []

    mode_live()
    WebhookEvent.objects.filter(pk=event.pk).update(
        received_at=timezone.now() - timedelta(minutes=5),
        recover_at=timezone.now() - timedelta(minutes=4),
    )
    from blingsync.jobrunner import job_run_now

    job_run_now(kind="events", trigger="schedule")
    event.refresh_from_db()
    assert event.status == Status.PROCESSED
    assert fake_bling.products[pid]["codigo"] == "MEMO00001"


def test_resuming_from_paused_processes_waiting_events_at_once(
    fake_bling, bling_connected, deliver, django_capture_on_commit_callbacks
):
    from blingsync.operations.mode import mode_set

    tree = tree_mirror(fake_bling)
    RuntimeSettings.load()
    RuntimeSettings.objects.filter(pk=1).update(mode=RuntimeSettings.Mode.PAUSED)
    pid = fake_bling.add_product("Memória 8GB", categoria_id=tree.memoria)["id"]
    event = deliver("product.created", {"id": pid, "codigo": "", "situacao": "A"})
    event.refresh_from_db()
    assert event.status == Status.PENDING  # received seconds ago, its own task found us paused

    with django_capture_on_commit_callbacks(execute=True):
        mode_set(mode=RuntimeSettings.Mode.LIVE, actor="ana")
    event.refresh_from_db()
    assert event.status == Status.PROCESSED
    assert fake_bling.products[pid]["codigo"] == "MEMO00001"


def test_order_deleted_forgets_the_order(fake_bling, bling_connected, deliver):
    from products.models import SaleLine

    tree = tree_mirror(fake_bling)
    pid = fake_bling.add_product("Memória", codigo="MEMO00002", categoria_id=tree.memoria)["id"]
    order = fake_bling.add_order(items=[(pid, 1)])
    deliver("order.updated", {"id": order["id"]})
    assert SaleLine.objects.filter(order_id=order["id"]).count() == 1
    event = deliver("order.deleted", {"id": order["id"]})
    event.refresh_from_db()
    assert event.status == Status.PROCESSED
    assert not SaleLine.objects.filter(order_id=order["id"]).exists()


def test_unhandled_and_deleted_product_events(fake_bling, deliver):
    unhandled = deliver("product_supplier.created", {"id": 1})
    assert unhandled.status == Status.IGNORED
    assert unhandled.ignore_reason == WebhookEvent.IgnoreReason.UNKNOWN_EVENT
    event = deliver("product.deleted", {"id": 123})
    event.refresh_from_db()
    assert event.status == Status.PROCESSED
    assert fake_bling.calls() == []


def test_without_a_connection_events_wait_without_spending_attempts(fake_bling, deliver):
    mode_live()
    event = deliver("product.created", {"id": 42, "codigo": "", "situacao": "A"})
    event.refresh_from_db()
    assert event.status == Status.PENDING
    assert event.attempts == 0
    assert "BlingNotConnected" in event.last_error
    assert fake_bling.calls() == []


def test_the_events_job_runs_an_evaluation_whose_schedule_was_lost(fake_bling, bling_connected):
    from blingsync.jobrunner import job_run_now

    tree = tree_mirror(fake_bling)
    mode_live()
    pid = fake_bling.add_product("Memória 128MB", codigo="MEMO00010", categoria_id=tree.memoria)[
        "id"
    ]
    StockEvaluation.objects.create(
        bling_product_id=pid, due_at=timezone.now() - timedelta(minutes=5), first_event_id="e9"
    )
    run = job_run_now(kind="events", trigger="schedule")
    assert run.details["stock_evaluations"] == {"evaluated": 1}
    assert not StockEvaluation.objects.exists()
    assert ProductStockState.objects.filter(bling_product_id=pid).exists()
