"""The code write claim names the code (issue 23): a renumber racing a write can never leave
the record saying one code while Bling holds another. Asserted on the fake's PATCHes."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from products import codes
from products.codes import BEING_WRITTEN, CODED, SKIPPED, code_allocate, product_code_ensure
from products.models import CodeAssignment, CodeCounter
from tests.products.codes_catalog import prepare

pytestmark = pytest.mark.django_db


def test_a_code_renumbered_after_it_was_read_is_not_written(
    fake_bling, bling_connected, monkeypatch
):
    r = prepare(fake_bling)
    pid = r.ids["Placa nova"]
    assignment = code_allocate(product_id=pid, prefix="PLMA")
    read_code = assignment.code
    real_lookup = codes._codes_in_use

    def lookup_then_renumbered_elsewhere(found):
        used = real_lookup(found)
        # Another process renumbers the assignment between our read and our write claim.
        CodeAssignment.objects.filter(pk=assignment.pk).update(code="PLMA00099", number=99)
        return used

    monkeypatch.setattr(codes, "_codes_in_use", lookup_then_renumbered_elsewhere)
    result = product_code_ensure(product_id=pid, dry_run=False)

    assert (result.outcome, result.reason) == (SKIPPED, BEING_WRITTEN)
    assert fake_bling.calls(method="PATCH") == []  # the stale code never reached Bling
    assert fake_bling.products[pid]["codigo"] == ""
    row = CodeAssignment.objects.get(pk=assignment.pk)
    assert row.code == "PLMA00099" != read_code and row.write_claimed_until is None

    monkeypatch.setattr(codes, "_codes_in_use", real_lookup)
    result = product_code_ensure(product_id=pid, dry_run=False)

    assert (result.outcome, result.code) == (CODED, "PLMA00099")
    assert [c.json for c in fake_bling.calls(method="PATCH")] == [{"codigo": "PLMA00099"}]
    row.refresh_from_db()
    assert (row.code, row.status) == (fake_bling.products[pid]["codigo"], "applied")


def test_a_code_being_written_is_not_renumbered(fake_bling, bling_connected):
    r = prepare(fake_bling)
    assignment = code_allocate(product_id=r.ids["Placa nova"], prefix="PLMA")
    CodeAssignment.objects.filter(pk=assignment.pk).update(
        write_claimed_until=timezone.now() + timedelta(minutes=2)
    )
    counter = CodeCounter.objects.get(prefix="PLMA").last_value

    renumbered = codes._code_renumber(assignment, used_number=None)

    assert renumbered.code == assignment.code  # the PATCH in flight names this code
    assert CodeCounter.objects.get(prefix="PLMA").last_value == counter  # no number spent
