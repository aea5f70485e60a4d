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
