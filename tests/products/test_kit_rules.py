"""The pure kit rules (SPEC 5.5, Kits), as tables of examples: a part's sales inside kits,
and virtual kits judged by their parts. No database, no HTTP."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal as D

import pytest

from products.soldout_rules import (
    KitFacts,
    KitPart,
    Rule,
    Sale,
    Verdict,
    kit_decide,
    sold_out_decide,
)
from tests.products.test_soldout_rules import NOW, at, balance, entry, exit_, facts, sale


def kit_sale(order: int, day: int, qty: str, kit: str = "Kit Upgrade", hour: int = 11) -> Sale:
    return replace(sale(order, day, qty, hour=hour), kit_name=kit)


SOLD_BY_SALES = facts(movements=[entry(1, "2", "2"), exit_(2, "2", "0")], sales=[sale(70, 2, "2")])
SOLD_IN_KITS = facts(
    movements=[entry(1, "4", "4"), exit_(2, "4", "0")], sales=[kit_sale(71, 2, "4")]
)
ZEROED_BY_HAND = facts(movements=[entry(1, "2", "2"), balance(2, "0")])
IN_STOCK = facts(available_stock=D(3), movements=[entry(1, "3", "3")])


def part(pid: int, quantity: str, part_facts, label: str = "") -> KitPart:
    return KitPart(pid, label or f"Peça {pid}", D(quantity), part_facts)


def kit(**kwargs) -> KitFacts:
    kwargs.setdefault("situation", "A")
    kwargs.setdefault("available_stock", D(0))
    kwargs.setdefault("now", NOW)
    return KitFacts(**kwargs)


def test_a_part_sold_to_zero_only_inside_kits_is_sold_out_by_sales():
    decision = sold_out_decide(SOLD_IN_KITS)
    assert decision.verdict == Verdict.DEACTIVATE
    assert decision.rule == Rule.SOLD_OUT_BY_SALES
    assert "4 unidades vendidas: vendido no kit Kit Upgrade (pedido nº 71)" in decision.reason
    assert decision.evidence["sales"][0]["kit"] == "Kit Upgrade"


def test_direct_and_kit_sales_are_named_together():
    mixed = replace(
        SOLD_IN_KITS,
        movements=[entry(1, "5", "5"), exit_(2, "5", "0")],
        sales=[sale(70, 2, "1"), kit_sale(71, 2, "2"), kit_sale(72, 2, "2")],
    )
    decision = sold_out_decide(mixed)
    assert decision.verdict == Verdict.DEACTIVATE
    assert (
        "5 unidades vendidas no pedido 70 e vendido no kit Kit Upgrade (pedidos nº 71, 72)"
        in decision.reason
    )


def test_kit_sales_that_do_not_cover_the_exits_are_an_unexplained_exit():
    short = replace(SOLD_IN_KITS, sales=[kit_sale(71, 2, "2")])
    decision = sold_out_decide(short)
    assert decision.rule == Rule.UNEXPLAINED_EXIT
    assert "vendido no kit Kit Upgrade (pedido nº 71)" in decision.reason


KIT_CASES = [
    # (name, kit facts, verdict, rule)
    (
        "a part sold out by sales deactivates the kit",
        kit(parts=[part(1, "1", SOLD_BY_SALES), part(2, "1", IN_STOCK)]),
        Verdict.DEACTIVATE,
        Rule.KIT_PART_SOLD_OUT,
    ),
    (
        "a part sold out inside kits deactivates the kit",
        kit(parts=[part(1, "2", SOLD_IN_KITS), part(2, "1", IN_STOCK)]),
        Verdict.DEACTIVATE,
        Rule.KIT_PART_SOLD_OUT,
    ),
    (
        "a part zeroed by a manual balance keeps the kit",
        kit(parts=[part(1, "1", ZEROED_BY_HAND), part(2, "1", IN_STOCK)]),
        Verdict.KEEP,
        Rule.KIT_PART_NOT_SOLD,
    ),
    (
        "a part short but not at zero is not sold out",
        kit(parts=[part(1, "2", replace(IN_STOCK, available_stock=D(1)))]),
        Verdict.KEEP,
        Rule.KIT_PART_NOT_SOLD,
    ),
    (
        "a kit with stock is kept",
        kit(available_stock=D(1), parts=[part(1, "1", IN_STOCK)]),
        Verdict.KEEP,
        Rule.IN_STOCK,
    ),
    (
        "the kit's category rule keeps it",
        kit(category_allows=False, parts=[part(1, "1", SOLD_BY_SALES)]),
        Verdict.KEEP,
        Rule.CATEGORY,
    ),
    (
        "a kit with no known parts is kept",
        kit(),
        Verdict.KEEP,
        Rule.KIT_WITHOUT_PARTS,
    ),
    (
        "grace: waits",
        kit(grace_minutes=30, sold_out_since=at(5, 14, 50), parts=[part(1, "1", SOLD_BY_SALES)]),
        Verdict.WAIT_GRACE,
        Rule.GRACE,
    ),
    (
        "grace over: deactivates",
        kit(grace_minutes=30, sold_out_since=at(5, 14, 0), parts=[part(1, "1", SOLD_BY_SALES)]),
        Verdict.DEACTIVATE,
        Rule.KIT_PART_SOLD_OUT,
    ),
    (
        "reactivated by hand, no newer sale of the part: kept",
        kit(last_deactivated_at=at(3), parts=[part(1, "1", SOLD_BY_SALES)]),
        Verdict.KEEP,
        Rule.REACTIVATED_BY_HAND,
    ),
    (
        "reactivated by hand, a newer sale of the part: deactivated again",
        kit(
            last_deactivated_at=at(3),
            parts=[
                part(
                    1,
                    "1",
                    replace(
                        SOLD_BY_SALES,
                        movements=[entry(4, "1", "1"), exit_(4, "1", "0", hour=12)],
                        sales=[sale(80, 4, "1", hour=12)],
                    ),
                )
            ],
        ),
        Verdict.DEACTIVATE,
        Rule.KIT_PART_SOLD_OUT,
    ),
    (
        "ours, inactive, every part back: reactivated",
        kit(
            situation="I",
            deactivated_by_blingsync=True,
            available_stock=D(1),
            parts=[part(1, "1", IN_STOCK), part(2, "3", IN_STOCK)],
        ),
        Verdict.REACTIVATE,
        Rule.KIT_PARTS_BACK,
    ),
    (
        "ours, inactive, a part still short: kept",
        kit(
            situation="I",
            deactivated_by_blingsync=True,
            parts=[part(1, "1", IN_STOCK), part(2, "4", IN_STOCK)],
        ),
        Verdict.KEEP,
        Rule.KIT_PART_STILL_OUT,
    ),
    (
        "staff deactivated it: never reactivated",
        kit(situation="I", available_stock=D(2), parts=[part(1, "1", IN_STOCK)]),
        Verdict.KEEP,
        Rule.STAFF_DEACTIVATED,
    ),
    (
        "excluded in Bling",
        kit(situation="E", parts=[part(1, "1", SOLD_BY_SALES)]),
        Verdict.KEEP,
        Rule.EXCLUDED,
    ),
]


@pytest.mark.parametrize(
    ("name", "kit_facts", "verdict", "rule"), KIT_CASES, ids=[c[0] for c in KIT_CASES]
)
def test_kit_decide(name, kit_facts, verdict, rule):
    decision = kit_decide(kit_facts)
    assert (decision.verdict, decision.rule) == (verdict, rule), decision.reason


def test_the_kit_reason_names_the_part_and_its_evidence():
    decision = kit_decide(
        kit(parts=[part(1, "2", SOLD_IN_KITS, "Memória 8GB"), part(2, "1", IN_STOCK)])
    )
    assert "Memória 8GB (saldo 0, o kit usa 2)" in decision.reason
    assert "vendido no kit Kit Upgrade (pedido nº 71)" in decision.reason
    assert decision.evidence["kit_parts_judged"][0]["rule"] == "sold_out_by_sales"


def test_a_part_zeroed_by_hand_is_named_in_the_kept_reason():
    decision = kit_decide(kit(parts=[part(1, "1", ZEROED_BY_HAND, "Placa B450")]))
    assert "Placa B450" in decision.reason and "balanço (B)" in decision.reason


@pytest.mark.parametrize(
    "sales,shown,english",
    [
        (
            [kit_sale(71, 2, "4")],
            "vendido no kit Kit Upgrade (pedido nº 71)",
            "sold in kit Kit Upgrade (order no. 71)",
        ),
        ([replace(sale(45, 2, "4"), source="nfce")], "na NFC-e nº 45", "on NFC-e no. 45"),
    ],
)
def test_the_admin_never_calls_a_kits_or_an_invoices_sale_an_order(sales, shown, english):
    """A kit's or an invoice's sale is named as such in the facts, and the admin renders
    from them the same sentence the decision stored, in the reader's language."""
    import json

    from django.utils import translation

    from blingsync.audit_reasons import reason_sentence

    decision = sold_out_decide(
        facts(movements=[entry(1, "4", "4"), exit_(2, "4", "0")], sales=sales)
    )
    assert decision.rule == Rule.SOLD_OUT_BY_SALES and shown in decision.reason
    assert "orders" not in decision.facts and decision.facts["sales"]
    data = json.loads(json.dumps(decision.facts))  # as stored
    with translation.override("pt-br"):
        assert reason_sentence(rule=f"soldout.{decision.rule}", data=data) == decision.reason
    with translation.override("en"):
        assert english in reason_sentence(rule=f"soldout.{decision.rule}", data=data)
