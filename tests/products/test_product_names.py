"""Products named wherever staff see one (issue 25): the sold items list shows the name and
code blingsync knows (stock state, code given, audit) instead of a Bling id with code "-"."""

from __future__ import annotations

from datetime import date

import pytest

from blingsync.audit import audit_record
from blingsync.models import AuditLog
from products.models import CodeAssignment, ProductStockState, SaleLine

pytestmark = pytest.mark.django_db


def _line(product_id: int, order_id: int) -> SaleLine:
    return SaleLine.objects.create(
        order_id=order_id, bling_product_id=product_id, quantity=1, order_date=date.today()
    )


def test_sold_items_name_the_products(role_client):
    ProductStockState.objects.create(bling_product_id=101, name="Notebook Dell", code="NTB00001")
    CodeAssignment.objects.create(bling_product_id=102, code="MONI00003", prefix="MONI", number=3)
    audit_record(
        action=AuditLog.Action.CODE_ASSIGNED,
        bling_product_id=102,
        product_name="Monitor 24",
        code="MONI00003",
        reason="teste",
    )
    for n, pid in enumerate((101, 102, 103), start=1):
        _line(pid, order_id=n)
    text = role_client("operacao").get("/admin/products/saleline/").content.decode()
    assert "Notebook Dell" in text and "NTB00001" in text
    assert "Monitor 24" in text and "MONI00003" in text
    assert "#103" in text  # never read: its Bling id, said as one
    assert "field-product_code" not in text


def test_code_assignments_name_the_products(role_client):
    ProductStockState.objects.create(bling_product_id=201, name="Placa Mãe X")
    CodeAssignment.objects.create(bling_product_id=201, code="PLMA00001", prefix="PLMA", number=1)
    text = role_client("operacao").get("/admin/products/codeassignment/").content.decode()
    assert "Placa Mãe X" in text
