"""Sold-out reasons are worded once: the rules return facts, and every sentence (the text
stored in Portuguese with a decision, and what the admin shows in the reader's language) is
made from them by the registry in `products.reasons`. No database, no HTTP."""

from __future__ import annotations

import json
from dataclasses import replace
from decimal import Decimal as D

import pytest
from django.utils import translation

from blingsync.audit_reasons import reason_rule_label, reason_sentence
from products.soldout_rules import (
    Rule,
    SoldOutDecision,
    kit_decide,
    sold_out_decide,
)
from tests.products.test_kit_rules import (
    IN_STOCK,
    KIT_CASES,
    SOLD_BY_SALES,
    SOLD_IN_KITS,
    kit,
    part,
)
from tests.products.test_soldout_rules import CASES, at, entry, exit_, facts, sale

# Every decision of the rule tables, plus the shapes the tables do not show.
DECISIONS: list[tuple[str, SoldOutDecision]] = [
    *((name, sold_out_decide(f)) for name, f, _verdict, _rule in CASES),
    *((case[0], kit_decide(case[1])) for case in KIT_CASES),
    ("sold inside kits", sold_out_decide(SOLD_IN_KITS)),
    (
        "sold on an NF-e and an NFC-e",
        sold_out_decide(
            facts(
                movements=[entry(1, "4", "4"), exit_(2, "4", "0")],
                sales=[
                    replace(sale(45, 2, "2"), source="nfe"),
                    replace(sale(7, 2, "2"), source="nfce"),
                ],
            )
        ),
    ),
    (
        "only a cancelled invoice",
        sold_out_decide(
            facts(
                movements=[entry(1, "1", "1"), exit_(2, "1", "0")],
                sales=[
                    replace(
                        sale(46, 2, "1", counted=False), source="nfe", situation_name="Cancelada"
                    )
                ],
            )
        ),
    ),
    (
        "a virtual kit whose short parts are not at zero",
        kit_decide(kit(parts=[part(1, "3", replace(IN_STOCK, available_stock=D(1)))])),
    ),
    (
        "a kit in grace",
        kit_decide(
            kit(grace_minutes=30, sold_out_since=at(5, 14, 50), parts=[part(1, "1", SOLD_BY_SALES)])
        ),
    ),
    (
        "a kit deactivated by us, back in stock, parts unknown",
        kit_decide(kit(situation="I", deactivated_by_blingsync=True, available_stock=D(2))),
    ),
]


def _stored(decision: SoldOutDecision) -> dict:
    return json.loads(json.dumps(decision.facts))  # as the audit row keeps them


def test_every_rule_has_its_sentence_and_the_tables_show_every_rule():
    assert {decision.rule for _name, decision in DECISIONS} == set(Rule)
    for rule in Rule:
        assert reason_rule_label(f"soldout.{rule}") != f"soldout.{rule}", rule


@pytest.mark.parametrize(("name", "decision"), DECISIONS, ids=[d[0] for d in DECISIONS])
def test_the_stored_text_is_the_registry_sentence_in_portuguese(name, decision):
    data = _stored(decision)
    with translation.override("pt-br"):
        pt = reason_sentence(rule=f"soldout.{decision.rule}", data=data)
    with translation.override("en"):
        en = reason_sentence(rule=f"soldout.{decision.rule}", data=data)
    assert pt and pt == decision.reason
    assert pt[0].isupper() and pt.endswith(".")
    assert en and en != pt
    for portuguese in ("saldo", "pedido", "vendid", "inativ", "esgotad", "o kit usa"):
        assert portuguese not in en.lower(), (portuguese, en)


def test_kit_and_invoice_sales_are_named_in_both_languages():
    decision = dict(DECISIONS)["sold on an NF-e and an NFC-e"]
    assert "4 unidades vendidas nos documentos NFC-e nº 7, NF-e nº 45" in decision.reason
    with translation.override("en"):
        en = reason_sentence(rule=f"soldout.{decision.rule}", data=_stored(decision))
    assert "4 units sold in the documents NFC-e no. 7, NF-e no. 45" in en

    cancelled = dict(DECISIONS)["only a cancelled invoice"]
    assert "Só há vendas canceladas ou não autorizadas (NF-e nº 46 Cancelada)" in cancelled.reason


def test_a_virtual_kit_reason_quotes_its_part_in_the_readers_language():
    decision = kit_decide(kit(parts=[part(1, "2", SOLD_IN_KITS, "Memória 8GB")]))
    assert decision.rule == Rule.KIT_PART_SOLD_OUT
    assert decision.reason.startswith(
        "Kit de estoque virtual esgotado por vendas de peça: Memória 8GB (saldo 0, o kit usa 2): "
        "esgotado por vendas: 4 unidades vendidas: vendido no kit Kit Upgrade (pedido nº 71)"
    )
    with translation.override("en"):
        en = reason_sentence(rule=f"soldout.{decision.rule}", data=_stored(decision))
    assert en.startswith(
        "Virtual-stock kit sold out by sales of a part: Memória 8GB (stock 0, the kit uses 2): "
        "sold out by sales: 4 units sold: sold in kit Kit Upgrade (order no. 71)"
    )


def test_an_audit_row_written_before_the_facts_it_needs_shows_its_stored_text():
    """Rows of kit decisions (no facts then) and of invoices' sales (facts without the
    documents' shape) have no sentence: the admin shows the text written at the time."""
    assert reason_sentence(rule="soldout.kit_part_sold_out", data={}) == ""
    assert reason_sentence(rule="soldout.excluded_in_bling", data={}) == ""
    assert reason_sentence(rule="soldout.category_keeps", data={}) == ""
    old = {"stock": "0", "anchor": "none", "unanchored_days": 30, "sold": "2",
           "documents": ["NF-e nº 45"], "kits": [], "first_day": "2026-11-02",
           "last_day": "2026-11-02"}  # fmt: skip
    assert reason_sentence(rule="soldout.sold_out_by_sales", data=old) == ""
