"""The evidence admin: staff can answer "why was this product deactivated?"."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from blingsync.audit import audit_begin, audit_complete
from blingsync.models import AuditLog
from products.models import ProductStockState, SaleLine, StockMovement

pytestmark = pytest.mark.django_db

PID = 16000000001


@pytest.fixture
def evidence():
    StockMovement.objects.create(
        bling_product_id=PID,
        operation="E",
        quantity=Decimal(3),
        virtual_total=Decimal(3),
        occurred_at=timezone.now(),
    )
    StockMovement.objects.create(
        bling_product_id=PID,
        operation="S",
        quantity=Decimal(3),
        virtual_total=Decimal(0),
        occurred_at=timezone.now(),
    )
    SaleLine.objects.create(
        order_id=20000000001,
        order_number="123",
        bling_product_id=PID,
        quantity=Decimal(3),
        situation_name="Atendido",
        order_date=date(2026, 11, 2),
    )
    SaleLine.objects.create(
        order_id=20000000002,
        order_number="124",
        bling_product_id=PID,
        quantity=Decimal(1),
        situation_name="Cancelado",
        counted=False,
        order_date=date(2026, 11, 2),
    )
    reason = "esgotado por vendas: 3 unidades vendidas no pedido 123"
    entry = audit_begin(
        action=AuditLog.Action.PRODUCT_DEACTIVATED,
        dry_run=False,
        bling_product_id=PID,
        before={"situacao": "A"},
        after={"situacao": "I"},
        reason=reason,
    )
    audit_complete(entry, ok=True)
    return ProductStockState.objects.create(
        bling_product_id=PID,
        code="MEMO00001",
        name="Memória DDR4",
        situation="I",
        available_stock=Decimal(0),
        deactivated_by_blingsync=True,
        last_verdict="deactivate",
        last_rule="sold_out_by_sales",
        last_reason=reason,
        last_evaluated_at=timezone.now(),
    )


def test_a_product_page_shows_its_evidence_and_decisions(admin_client, evidence):
    url = reverse("admin:products_productstockstate_change", args=[evidence.pk])
    page = admin_client.get(url).content.decode()
    assert "esgotado por vendas: 3 unidades vendidas no pedido 123" in page
    assert "Atendido" in page and "não (cancelado)" in page
    assert "entrada" in page and "saída" in page
    assert "produto inativado" in page
    assert f"bling_product_id={PID}" in page


def test_the_state_list_filters_by_who_deactivated(admin_client, evidence):
    url = reverse("admin:products_productstockstate_changelist")
    assert "MEMO00001" in admin_client.get(url + "?by=blingsync").content.decode()
    assert "MEMO00001" not in admin_client.get(url + "?by=other").content.decode()


@pytest.mark.parametrize(
    ("model", "query", "count"),
    [
        ("stockmovement", f"?bling_product_id={PID}", 2),
        ("stockmovement", f"?bling_product_id={PID}&operation__exact=B", 0),
        ("stockmovement", f"?q={PID}", 2),
        ("saleline", "?counted__exact=0", 1),
        ("saleline", "?q=123", 1),
        ("saleline", f"?bling_product_id={PID}", 2),
    ],
)
def test_the_ledger_lists_filter(admin_client, evidence, model, query, count):
    url = reverse(f"admin:products_{model}_changelist") + query
    response = admin_client.get(url)
    assert response.status_code == 200
    assert response.context["cl"].result_count == count


def test_staff_can_stop_automatic_reactivation(admin_client, evidence):
    url = reverse("admin:products_productstockstate_changelist")
    admin_client.post(
        url, {"action": "stop_reactivation", "_selected_action": [evidence.pk]}, follow=True
    )
    evidence.refresh_from_db()
    assert not evidence.deactivated_by_blingsync
    assert AuditLog.objects.filter(action=AuditLog.Action.RULE_CHANGED, bling_product_id=PID)


# --- "Reavaliar agora": asks as a stock event does (debounce row, nothing while paused) ------


def _evaluate_again(client, state):
    return client.post(
        reverse("admin:products_productstockstate_changelist"),
        {"action": "evaluate_again", "_selected_action": [state.pk]},
        follow=True,
    )


def _evaluation_world() -> dict:
    from django_q.models import OrmQ, Schedule

    from products.models import StockEvaluation

    return {
        "evaluations": sorted(
            StockEvaluation.objects.values_list("bling_product_id", "requests", "due_at")
        ),
        "schedules": Schedule.objects.count(),
        "queued": OrmQ.objects.count(),
        "audit": AuditLog.objects.count(),
        "states": sorted(ProductStockState.objects.values_list("pk", "last_evaluated_at")),
    }


def test_evaluate_again_goes_through_the_debounce_row(
    role_client, evidence, fake_bling, django_capture_on_commit_callbacks
):
    from django_q.models import Schedule

    from blingsync.models import RuntimeSettings
    from products.models import StockEvaluation
    from products.stock_evaluations import EVALUATE_TASK

    RuntimeSettings.objects.update_or_create(pk=1, defaults={"mode": "live"})
    client = role_client("gestao")
    before = timezone.now()
    with django_capture_on_commit_callbacks(execute=True):
        page = _evaluate_again(client, evidence).content.decode()

    row = StockEvaluation.objects.get(bling_product_id=PID)
    debounce = RuntimeSettings.load().stock_debounce_seconds
    assert row.requests == 1 and row.due_at >= before + timezone.timedelta(seconds=debounce)
    schedule = Schedule.objects.get(func=EVALUATE_TASK)
    assert schedule.args == repr(PID)
    assert "1 produto na fila de reavaliação" in page
    assert fake_bling.requests == []  # nothing evaluated inside the request

    # Asked again inside the window: it joins the waiting row, like a burst of stock events.
    with django_capture_on_commit_callbacks(execute=True):
        _evaluate_again(client, evidence)
    assert StockEvaluation.objects.get(bling_product_id=PID).requests == 2
    assert Schedule.objects.filter(func=EVALUATE_TASK).count() == 1


@pytest.mark.parametrize(
    ("role", "mode", "said"),
    [
        # paused: nothing evaluated nor queued, and staff are told why
        ("gestao", "paused", "O blingsync está pausado: nenhum produto foi reavaliado nem posto"),
        # operação lacks the live permission: the action is not even offered
        ("operacao", "live", ""),
    ],
)
def test_a_refused_evaluate_again_changes_nothing(
    role, mode, said, role_client, evidence, fake_bling, django_capture_on_commit_callbacks
):
    from blingsync.models import RuntimeSettings

    RuntimeSettings.objects.update_or_create(pk=1, defaults={"mode": mode})
    client = role_client(role)
    before = _evaluation_world()
    with django_capture_on_commit_callbacks(execute=True):
        response = _evaluate_again(client, evidence)

    assert response.status_code in (200, 403)
    assert said in response.content.decode()
    assert _evaluation_world() == before
    assert fake_bling.requests == []


def test_the_product_page_says_the_last_reason_in_the_readers_language(role_client):
    """The last decision's reason is made from its rule and facts (the stored text is the
    Portuguese one of the same registry)."""
    from products.soldout_rules import kit_decide
    from tests.products.test_kit_rules import SOLD_IN_KITS, kit, part

    decision = kit_decide(kit(parts=[part(1, "2", SOLD_IN_KITS, "Memória 8GB")]))
    state = ProductStockState.objects.create(
        bling_product_id=PID,
        last_verdict=str(decision.verdict),
        last_rule=str(decision.rule),
        last_reason=decision.reason,
        last_reason_data=decision.facts,
        last_evaluated_at=timezone.now(),
    )
    client = role_client("operacao")
    url = reverse("admin:products_productstockstate_change", args=[state.pk])
    pt = client.get(url, HTTP_ACCEPT_LANGUAGE="pt-br").content.decode()
    en = client.get(url, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Kit de estoque virtual esgotado por vendas de peça: Memória 8GB" in pt
    assert "vendido no kit Kit Upgrade (pedido nº 71)" in pt
    assert "Virtual-stock kit sold out by sales of a part: Memória 8GB" in en
    assert "sold in kit Kit Upgrade (order no. 71)" in en
    assert "vendido no kit" not in en
    listing = client.get(
        reverse("admin:products_productstockstate_changelist"), HTTP_ACCEPT_LANGUAGE="en"
    ).content.decode()
    assert "Virtual-stock kit sold out by sales of a part" in listing
