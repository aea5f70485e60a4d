"""`product_code_ensure`: the webhook path, one product and its variations."""

from __future__ import annotations

import json

import pytest

from blingsync.models import AuditLog, RuntimeSettings
from products.code_rules import NEEDS_SUBCATEGORY, NO_CATEGORY, NOT_MIRRORED, POLICY_SKIP
from products.codes import (
    ALREADY_CODED,
    CODED,
    SKIPPED,
    WOULD_CODE,
    code_allocate,
    product_code_ensure,
)
from products.models import CodeAssignment, CodeCounter
from tests.products.codes_catalog import prepare

pytestmark = pytest.mark.django_db


def test_it_codes_a_product_and_its_variations(fake_bling, bling_connected):
    r = prepare(fake_bling)
    parent = r.ids["Notebook com variações"]
    result = product_code_ensure(product_id=parent, dry_run=False)
    assert (result.outcome, result.code) == (CODED, "NTB00042")
    assert [(v.outcome, v.code) for v in result.variations] == [
        (CODED, "NTB00043"),
        (CODED, "NTB00044"),
        (ALREADY_CODED, "NTB00040"),
    ]
    assert fake_bling.products[parent]["codigo"] == "NTB00042"
    assert fake_bling.products[r.ids["Notebook com variações 8GB"]]["codigo"] == "NTB00043"
    variation = CodeAssignment.objects.get(code="NTB00043")
    assert variation.parent_product_id == parent
    # one detail read, one lookup, three writes
    assert len(fake_bling.calls(method="GET", path=f"/produtos/{parent}")) == 1
    assert len(fake_bling.calls(method="PATCH")) == 3


def test_a_variation_is_coded_with_its_parents_rule(fake_bling, bling_connected):
    r = prepare(fake_bling)
    result = product_code_ensure(product_id=r.ids["Notebook com variações 16GB"], dry_run=False)
    assert (result.outcome, result.code) == (CODED, "NTB00042")
    assert fake_bling.products[r.ids["Notebook com variações"]]["codigo"] == ""


def test_a_product_never_gets_two_codes(fake_bling, bling_connected):
    r = prepare(fake_bling)
    pid = r.ids["Placa nova"]
    first = product_code_ensure(product_id=pid, dry_run=False)
    again = product_code_ensure(product_id=pid, dry_run=False)
    assert (first.outcome, first.code) == (CODED, "PLMA00011")
    assert (again.outcome, again.code) == (ALREADY_CODED, "PLMA00011")
    assert CodeAssignment.objects.filter(bling_product_id=pid).count() == 1
    assert CodeCounter.objects.get(prefix="PLMA").last_value == 11


def test_an_allocated_code_is_reused_when_bling_already_has_it(fake_bling, bling_connected):
    """A write whose answer was lost: the next attempt finds the code in Bling."""
    r = prepare(fake_bling)
    pid = r.ids["Placa nova"]
    assignment = code_allocate(product_id=pid, prefix="PLMA")
    fake_bling.products[pid]["codigo"] = assignment.code
    result = product_code_ensure(product_id=pid, dry_run=False)
    assert (result.outcome, result.code) == (ALREADY_CODED, "PLMA00011")
    assert CodeAssignment.objects.get(bling_product_id=pid).status == "applied"


def test_a_code_another_process_is_writing_is_not_written_twice(fake_bling, bling_connected):
    """A webhook and a sweep at once: the one that lost the write claim sends no PATCH."""
    from datetime import timedelta

    from django.utils import timezone

    from products.codes import BEING_WRITTEN

    r = prepare(fake_bling)
    pid = r.ids["Placa nova"]
    assignment = code_allocate(product_id=pid, prefix="PLMA")
    CodeAssignment.objects.filter(pk=assignment.pk).update(
        write_claimed_until=timezone.now() + timedelta(minutes=2)
    )
    result = product_code_ensure(product_id=pid, dry_run=False)
    assert (result.outcome, result.reason) == (SKIPPED, BEING_WRITTEN)
    assert fake_bling.calls(method="PATCH") == []
    assert not AuditLog.objects.filter(action=AuditLog.Action.CODE_ASSIGNED).exists()

    # The claim of a process that died expires: the same code is written then.
    CodeAssignment.objects.filter(pk=assignment.pk).update(
        write_claimed_until=timezone.now() - timedelta(seconds=1)
    )
    result = product_code_ensure(product_id=pid, dry_run=False)
    assert (result.outcome, result.code) == (CODED, assignment.code)
    assert fake_bling.products[pid]["codigo"] == assignment.code
    assert CodeAssignment.objects.get(pk=assignment.pk).write_claimed_until is None


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("Sem categoria", NO_CATEGORY),
        ("Submáquina", POLICY_SKIP),
        ("Peça de submáquina", POLICY_SKIP),
        ("Submáquina de notebook", POLICY_SKIP),
        ("Peça sem subcategoria", NEEDS_SUBCATEGORY),
    ],
)
def test_it_leaves_ineligible_products_alone_with_a_reason(
    fake_bling, bling_connected, name, reason
):
    r = prepare(fake_bling)
    result = product_code_ensure(product_id=r.ids[name], dry_run=False)
    assert (result.outcome, result.reason) == (SKIPPED, reason)
    assert fake_bling.products[r.ids[name]]["codigo"] == ""
    assert not fake_bling.calls(method="PATCH")


def test_a_category_created_since_the_last_sync_is_mirrored_first(fake_bling, bling_connected):
    prepare(fake_bling)
    late = fake_bling.add_category("Impressora")["id"]
    pid = fake_bling.add_product("Impressora nova", categoria_id=late)["id"]
    result = product_code_ensure(product_id=pid, dry_run=False)
    assert (result.outcome, result.code) == (CODED, "IMPR00001")
    assert fake_bling.products[pid]["codigo"] == "IMPR00001"


def test_a_category_unknown_to_bling_gives_no_code(fake_bling, bling_connected):
    prepare(fake_bling)
    pid = fake_bling.add_product("Órfão", categoria_id=987654)["id"]
    result = product_code_ensure(product_id=pid, dry_run=False)
    assert (result.outcome, result.reason) == (SKIPPED, NOT_MIRRORED)
    assert fake_bling.products[pid]["codigo"] == ""


def test_a_deleted_product_is_skipped(fake_bling, bling_connected):
    prepare(fake_bling)
    result = product_code_ensure(product_id=123456789, dry_run=False)
    assert (result.outcome, result.reason) == (SKIPPED, "product_not_found")


def test_in_dry_run_it_only_says_what_it_would_do(fake_bling, bling_connected):
    r = prepare(fake_bling, live=False)
    pid = r.ids["Monitor novo"]
    result = product_code_ensure(product_id=pid, dry_run=True)
    assert (result.outcome, result.code) == (WOULD_CODE, "MONI00008")
    assert fake_bling.products[pid]["codigo"] == ""
    assert CodeCounter.objects.get(prefix="MONI").last_value == 7
    entry = AuditLog.objects.get(action=AuditLog.Action.CODE_ASSIGNED)
    assert (entry.outcome, entry.code, entry.dry_run) == ("would_do", "MONI00008", True)


def test_when_paused_it_does_not_touch_bling(fake_bling, bling_connected):
    # The paused check is made by the entry point (webhook processing), not by the service.
    from webhooks.models import WebhookEvent
    from webhooks.processing import event_process

    r = prepare(fake_bling)
    RuntimeSettings.objects.filter(pk=1).update(mode=RuntimeSettings.Mode.PAUSED)
    calls = len(fake_bling.calls())
    pid = r.ids["Monitor novo"]
    event = WebhookEvent.objects.create(
        event_id="paused-1",
        event_type="product.updated",
        resource_id=pid,
        signature_valid=True,
        body=json.dumps({"data": {"id": pid}}),
    )
    assert event_process(event_id=event.pk) == "paused"
    assert len(fake_bling.calls()) == calls
