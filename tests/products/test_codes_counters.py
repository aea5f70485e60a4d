"""Counters: seeding from Bling, staff raising them, allocation."""

from __future__ import annotations

import io

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command

from blingsync.models import AuditLog
from products.codes import code_allocate, counter_raise
from products.models import CodeAssignment, CodeCounter

pytestmark = pytest.mark.django_db


def _seed(*args: str) -> str:
    out = io.StringIO()
    call_command("seed_counters", *args, stdout=out)
    return out.getvalue()


def test_seed_counters_raises_each_counter_to_the_highest_code_in_bling(
    fake_bling, bling_connected
):
    for code in ("NTB00041", "NTB00007", "NTB100002", "MONI00003", "SKU-0001", "abc12", ""):
        fake_bling.add_product(f"produto {code}", codigo=code)
    fake_bling.add_product("excluído", codigo="PLMA00090", situacao="E")
    for i in range(150):  # more than a page
        fake_bling.add_product(f"p{i}", codigo=f"TEMO{i:05d}")
    CodeCounter.objects.create(prefix="MONI", last_value=10)
    output = _seed()
    counters = dict(CodeCounter.objects.values_list("prefix", "last_value"))
    assert counters == {"NTB": 100002, "MONI": 10, "PLMA": 90, "TEMO": 149}
    # The list pages per stock state (these products have no stock): positive, one empty
    # page; zero, two pages of 100; negative, one empty page.
    calls = fake_bling.calls(method="GET", path="/produtos")
    assert [c.query["filtroSaldoEstoque"][0] for c in calls] == ["1", "0", "0", "2"]
    assert all(c.query["criterio"] == ["5"] for c in fake_bling.calls(path="/produtos"))
    assert AuditLog.objects.filter(action=AuditLog.Action.COUNTER_ADJUSTED).count() == 3
    assert "NTB" in output


def test_seed_counters_dry_run_changes_nothing(fake_bling, bling_connected):
    fake_bling.add_product("x", codigo="NTB00041")
    output = _seed("--dry-run")
    assert not CodeCounter.objects.exists()
    assert "NTB" in output


def test_allocation_takes_the_next_number_and_keeps_one_code_per_product(db):
    first = code_allocate(product_id=1, prefix="NTB")
    second = code_allocate(product_id=2, prefix="NTB")
    again = code_allocate(product_id=1, prefix="NTB")
    assert (first.code, second.code, again.code) == ("NTB00001", "NTB00002", "NTB00001")
    assert CodeCounter.objects.get(prefix="NTB").last_value == 2


def test_allocation_past_99999_grows_the_number(db):
    CodeCounter.objects.create(prefix="NTB", last_value=99999)
    assert code_allocate(product_id=1, prefix="NTB").code == "NTB100000"


def test_a_counter_left_behind_a_handed_out_code_is_repaired(db):
    code_allocate(product_id=1, prefix="NTB")
    code_allocate(product_id=2, prefix="NTB")
    CodeCounter.objects.filter(prefix="NTB").update(last_value=0)  # edited by hand
    third = code_allocate(product_id=3, prefix="NTB")
    assert third.code == "NTB00003"
    assert CodeAssignment.objects.count() == 3


def test_staff_may_raise_a_counter(db):
    code_allocate(product_id=1, prefix="NTB")
    counter = counter_raise(prefix="NTB", value=500, actor="ana")
    assert counter.last_value == 500
    entry = AuditLog.objects.get(action=AuditLog.Action.COUNTER_ADJUSTED)
    assert (entry.before, entry.after, entry.actor) == (
        {"prefix": "NTB", "last_value": 1},
        {"prefix": "NTB", "last_value": 500},
        "ana",
    )
    assert code_allocate(product_id=2, prefix="NTB").code == "NTB00501"


def test_a_counter_never_goes_below_a_code_handed_out(db):
    for pid in range(1, 6):
        code_allocate(product_id=pid, prefix="NTB")
    with pytest.raises(ValidationError, match="NTB00005"):
        counter_raise(prefix="NTB", value=4, actor="ana")
    assert CodeCounter.objects.get(prefix="NTB").last_value == 5
    assert not AuditLog.objects.filter(action=AuditLog.Action.COUNTER_ADJUSTED).exists()
