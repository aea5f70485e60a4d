"""The counters and assignments admin."""

from __future__ import annotations

import pytest

from blingsync.models import AuditLog
from products.codes import code_allocate
from products.models import CodeAssignment, CodeCounter

pytestmark = pytest.mark.django_db


def test_staff_can_raise_a_counter(admin_client):
    code_allocate(product_id=1, prefix="NTB")
    counter = CodeCounter.objects.get(prefix="NTB")
    response = admin_client.post(
        f"/admin/products/codecounter/{counter.pk}/change/", {"last_value": "300"}
    )
    assert response.status_code == 302
    assert CodeCounter.objects.get(prefix="NTB").last_value == 300
    entry = AuditLog.objects.get(action=AuditLog.Action.COUNTER_ADJUSTED)
    assert (entry.actor, entry.source, entry.after["last_value"]) == ("admin", "admin", 300)


def test_a_counter_below_a_handed_out_code_is_refused_with_the_reason(admin_client):
    for pid in range(1, 4):
        code_allocate(product_id=pid, prefix="NTB")
    counter = CodeCounter.objects.get(prefix="NTB")
    response = admin_client.post(
        f"/admin/products/codecounter/{counter.pk}/change/", {"last_value": "1"}
    )
    assert response.status_code == 200
    assert "NTB00003 já foi atribuído" in response.content.decode()
    assert CodeCounter.objects.get(prefix="NTB").last_value == 3


def test_staff_can_add_a_counter_for_a_new_prefix(admin_client):
    response = admin_client.post(
        "/admin/products/codecounter/add/", {"prefix": "tvs", "last_value": "99"}
    )
    assert response.status_code == 302
    assert CodeCounter.objects.get(prefix="TVS").last_value == 99


def test_assignments_can_be_filtered_by_status_and_prefix(admin_client):
    code_allocate(product_id=1, prefix="NTB")
    code_allocate(product_id=2, prefix="MONI")
    CodeAssignment.objects.filter(bling_product_id=2).update(status="failed", error="boom")
    response = admin_client.get("/admin/products/codeassignment/?status=failed&prefix=MONI")
    assert response.status_code == 200
    text = response.content.decode()
    assert "MONI00001" in text and "NTB00001" not in text
