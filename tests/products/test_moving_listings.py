"""Listings that move (bling-v3.md §9b): Bling pages by offset, recomputes every page and
does not document its order. With the fake ordering by last change (the harsher reading: a
product written while the listing is paged moves to its end, and every row behind it shifts
towards the pages already read), one sweep still covers every product.
"""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command

from blingsync.models import JobRun
from products.models import ProductStockState
from tests.products.soldout_support import mode_live, sold_out_by_a_sale, tree_mirror

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("order", ["changed", "id"])
def test_a_code_sweep_codes_450_products_of_one_category_in_one_run(
    fake_bling, bling_connected, order
):
    tree = tree_mirror(fake_bling)
    mode_live()
    fake_bling.list_order = order
    ids = [
        fake_bling.add_product(f"Memória {n}", categoria_id=tree.memoria)["id"] for n in range(450)
    ]

    call_command("sweep_codes", stdout=io.StringIO())

    codes = [fake_bling.products[pid]["codigo"] for pid in ids]
    assert all(codes), f"{sum(1 for c in codes if not c)} of 450 left without a code"
    assert sorted(codes) == [f"MEMO{n:05d}" for n in range(1, 451)]
    run = JobRun.objects.filter(kind="codes").latest("id")
    assert run.status == JobRun.Status.SUCCEEDED and run.changed == 450


def test_the_fake_moves_a_written_product_to_the_end_of_a_listing_by_last_change(
    fake_bling, bling_connected
):
    """The premise of the test above: with the knob, a write shifts the pages."""
    from blingsync.bling import catalog

    tree = tree_mirror(fake_bling)
    fake_bling.list_order = "changed"
    ids = [fake_bling.add_product(f"M {n}", categoria_id=tree.memoria)["id"] for n in range(4)]
    first = [
        p.id
        for p in catalog.products_page(
            page=1, page_size=2, category_id=tree.memoria, stock_filter=0
        )
    ]
    assert first == ids[:2]
    with fake_bling.lock:
        fake_bling.catalog.touch(ids[0])
    second = [
        p.id
        for p in catalog.products_page(
            page=2, page_size=2, category_id=tree.memoria, stock_filter=0
        )
    ]
    assert second == [ids[3], ids[0]]  # ids[2] moved onto page 1, already read: skipped


def test_a_stock_sweep_deactivates_every_candidate_although_each_leaves_the_listing(
    fake_bling, bling_connected
):
    tree = tree_mirror(fake_bling)
    mode_live()
    fake_bling.list_order = "changed"
    sold = [sold_out_by_a_sale(fake_bling, tree.memoria, f"Memória {n}") for n in range(250)]

    call_command("sweep_stock", stdout=io.StringIO())

    still_active = [pid for pid in sold if fake_bling.products[pid]["situacao"] != "I"]
    assert still_active == [], f"{len(still_active)} of 250 candidates left active"
    assert ProductStockState.objects.filter(
        bling_product_id__in=sold, deactivated_by_blingsync=True
    ).count() == len(sold)
