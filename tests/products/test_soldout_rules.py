"""The pure sold-out rule (SPEC 5.5), as a table of examples: no database, no HTTP."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal as D

import pytest

from products.soldout_rules import (
    DEFAULT_TZ,
    Movement,
    Rule,
    Sale,
    SoldOutFacts,
    Verdict,
    sold_out_decide,
)

NOW = datetime(2026, 11, 5, 15, 0, tzinfo=DEFAULT_TZ)


def at(day: int, hour: int = 10, minute: int = 0) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=DEFAULT_TZ)


def entry(day: int, qty: str, bal: str, hour: int = 10) -> Movement:
    return Movement(at(day, hour), "E", D(qty), D(bal))


def exit_(day: int, qty: str, bal: str, hour: int = 11) -> Movement:
    return Movement(at(day, hour), "S", D(qty), D(bal))


def balance(day: int, bal: str, hour: int = 12) -> Movement:
    return Movement(at(day, hour), "B", D(bal), D(bal))


def sale(order: int, day: int, qty: str, counted: bool = True, hour: int = 11) -> Sale:
    return Sale(
        order_id=order,
        order_number=str(order),
        day=date(2026, 11, day),
        quantity=D(qty),
        counted=counted,
        seen_at=at(day, hour),
    )


def facts(**kwargs) -> SoldOutFacts:
    kwargs.setdefault("situation", "A")
    kwargs.setdefault("available_stock", D(0))
    kwargs.setdefault("now", NOW)
    return SoldOutFacts(**kwargs)


CASES = [
    # (name, facts, verdict, rule)
    (
        "sold to zero after an entry",
        facts(movements=[entry(2, "3", "3"), exit_(3, "3", "0")], sales=[sale(123, 3, "3")]),
        Verdict.DEACTIVATE,
        Rule.SOLD_OUT_BY_SALES,
    ),
    (
        "sold to zero by several orders, balances between",
        facts(
            movements=[entry(2, "3", "3"), exit_(3, "1", "2"), exit_(4, "2", "0")],
            sales=[sale(1, 3, "1"), sale(2, 4, "2")],
        ),
        Verdict.DEACTIVATE,
        Rule.SOLD_OUT_BY_SALES,
    ),
    (
        "sold with no stock webhooks recorded at all",
        facts(sales=[sale(5, 3, "1")]),
        Verdict.DEACTIVATE,
        Rule.SOLD_OUT_BY_SALES,
    ),
    (
        "only an old sale and nothing known about the stock since",
        facts(sales=[Sale(order_id=1, day=date(2026, 9, 1), quantity=D(1))]),
        Verdict.KEEP,
        Rule.NO_SALES,
    ),
    (
        "sale reserved (virtual stock only) took it to zero",
        facts(
            movements=[entry(2, "1", "1"), Movement(at(3, 11), "", None, D(0))],
            sales=[sale(7, 3, "1")],
        ),
        Verdict.DEACTIVATE,
        Rule.SOLD_OUT_BY_SALES,
    ),
    (
        "zero by a manual balance",
        facts(movements=[entry(2, "3", "3"), balance(3, "0")]),
        Verdict.KEEP,
        Rule.MANUAL_BALANCE,
    ),
    (
        "sold, then a manual balance after the sale",
        facts(
            movements=[entry(2, "3", "3"), exit_(3, "3", "0"), balance(4, "0")],
            sales=[sale(1, 3, "3")],
        ),
        Verdict.KEEP,
        Rule.MANUAL_BALANCE,
    ),
    (
        "zero by a manual exit with no sale",
        facts(movements=[entry(2, "3", "3"), exit_(3, "3", "0")]),
        Verdict.KEEP,
        Rule.NO_SALES,
    ),
    (
        "one unit sold but five left the stock",
        facts(movements=[entry(2, "5", "5"), exit_(3, "5", "0")], sales=[sale(1, 3, "1")]),
        Verdict.KEEP,
        Rule.UNEXPLAINED_EXIT,
    ),
    (
        "drop from the last balance larger than the sales (exit not recorded)",
        facts(movements=[entry(2, "4", "4")], sales=[sale(1, 3, "1")]),
        Verdict.KEEP,
        Rule.UNEXPLAINED_EXIT,
    ),
    (
        "never had stock",
        facts(),
        Verdict.KEEP,
        Rule.NEVER_STOCKED,
    ),
    (
        "cancelled order only",
        facts(sales=[sale(9, 3, "1", counted=False)]),
        Verdict.KEEP,
        Rule.CANCELLED_ONLY,
    ),
    (
        "sales only before the last entry",
        facts(movements=[entry(3, "2", "2"), exit_(4, "2", "0")], sales=[sale(1, 2, "2")]),
        Verdict.KEEP,
        Rule.NO_SALES,
    ),
    (
        "a same-day sale seen before the entry does not count",
        facts(
            movements=[entry(3, "2", "2", hour=15), exit_(3, "2", "0", hour=16)],
            sales=[sale(1, 3, "2", hour=9)],
        ),
        Verdict.KEEP,
        Rule.NO_SALES,
    ),
    (
        "a same-day sale seen after the entry counts",
        facts(
            movements=[entry(3, "2", "2", hour=8), exit_(3, "2", "0", hour=9)],
            sales=[sale(1, 3, "2", hour=9)],
        ),
        Verdict.DEACTIVATE,
        Rule.SOLD_OUT_BY_SALES,
    ),
    (
        "still in stock",
        facts(available_stock=D(2), sales=[sale(1, 3, "1")]),
        Verdict.KEEP,
        Rule.IN_STOCK,
    ),
    (
        "category does not deactivate (Notebook)",
        facts(
            sales=[sale(1, 3, "1")],
            category_allows=False,
            category={"category": "Notebook", "mirrored": True},
        ),
        Verdict.KEEP,
        Rule.CATEGORY,
    ),
    (
        "negative stock (oversold) by sales",
        facts(
            available_stock=D(-1),
            movements=[entry(2, "1", "1"), exit_(3, "2", "-1")],
            sales=[sale(1, 3, "2")],
        ),
        Verdict.DEACTIVATE,
        Rule.SOLD_OUT_BY_SALES,
    ),
    (
        "positive balance observed by blingsync after the sales",
        facts(
            sales=[sale(1, 2, "1")],
            last_positive_at=at(3, 9),
            last_positive_stock=D(1),
        ),
        Verdict.KEEP,
        Rule.NO_SALES,
    ),
    (
        "parent with variations is left to its variations",
        facts(sales=[sale(1, 3, "1")], has_variations=True),
        Verdict.KEEP,
        Rule.HAS_VARIATIONS,
    ),
    (
        "reactivated by hand after blingsync deactivated it, no new sale",
        facts(
            movements=[entry(2, "1", "1"), exit_(3, "1", "0")],
            sales=[sale(1, 3, "1")],
            last_deactivated_at=at(3, 12),
        ),
        Verdict.KEEP,
        Rule.REACTIVATED_BY_HAND,
    ),
    (
        "reactivated by hand, then sold again (oversold)",
        facts(
            available_stock=D(-1),
            movements=[entry(2, "1", "1"), exit_(3, "1", "0"), exit_(4, "1", "-1")],
            sales=[sale(1, 3, "1"), sale(2, 4, "1")],
            last_deactivated_at=at(3, 12),
        ),
        Verdict.DEACTIVATE,
        Rule.SOLD_OUT_BY_SALES,
    ),
    (
        "deactivated by blingsync, restocked",
        facts(situation="I", available_stock=D(4), deactivated_by_blingsync=True),
        Verdict.REACTIVATE,
        Rule.RESTOCKED,
    ),
    (
        "deactivated by blingsync, still sold out",
        facts(situation="I", deactivated_by_blingsync=True),
        Verdict.KEEP,
        Rule.STILL_SOLD_OUT,
    ),
    (
        "deactivated by staff, with stock",
        facts(situation="I", available_stock=D(4)),
        Verdict.KEEP,
        Rule.STAFF_DEACTIVATED,
    ),
    (
        "excluded in Bling",
        facts(situation="E", deactivated_by_blingsync=True, available_stock=D(1)),
        Verdict.KEEP,
        Rule.EXCLUDED,
    ),
]


@pytest.mark.parametrize(
    ("facts_", "verdict", "rule"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_the_rule_table(facts_: SoldOutFacts, verdict: Verdict, rule: Rule) -> None:
    decision = sold_out_decide(facts_)
    assert (decision.verdict, decision.rule) == (verdict, rule), decision.reason
    assert decision.reason


def test_the_reason_names_the_evidence() -> None:
    decision = sold_out_decide(
        facts(movements=[entry(2, "3", "3"), exit_(3, "3", "0")], sales=[sale(123, 3, "3")])
    )
    assert decision.reason.startswith("Esgotado por vendas: 3 unidades vendidas no pedido 123")
    assert "desde a última entrada de 3 unidades em 02/11/2026 10:00" in decision.reason
    assert decision.evidence["sales"][0]["order"] == "123"


def test_a_manual_balance_reason_says_when() -> None:
    decision = sold_out_decide(facts(movements=[entry(2, "3", "3"), balance(3, "0")]))
    assert "balanço (B) em 03/11/2026 12:00" in decision.reason


def test_grace_waits_then_deactivates() -> None:
    base = {
        "movements": [entry(2, "1", "1"), exit_(5, "1", "0", hour=14)],
        "sales": [sale(1, 5, "1", hour=14)],
        "grace_minutes": 120,
    }
    waiting = sold_out_decide(facts(now=at(5, 15), **base))
    assert waiting.verdict == Verdict.WAIT_GRACE
    assert waiting.sold_out_since == at(5, 14)
    assert "carência de 120 min" in waiting.reason
    later = sold_out_decide(facts(now=at(5, 16, 1), **base))
    assert later.verdict == Verdict.DEACTIVATE


def test_grace_counts_from_when_it_was_first_seen_sold_out_without_movements() -> None:
    first = sold_out_decide(facts(sales=[sale(1, 5, "1")], grace_minutes=30, now=at(5, 15)))
    assert first.verdict == Verdict.WAIT_GRACE
    assert first.sold_out_since == at(5, 15)
    second = sold_out_decide(
        facts(
            sales=[sale(1, 5, "1")],
            grace_minutes=30,
            now=at(5, 15) + timedelta(minutes=31),
            sold_out_since=first.sold_out_since,
        )
    )
    assert second.verdict == Verdict.DEACTIVATE


def test_a_restock_clears_the_sold_out_moment() -> None:
    decision = sold_out_decide(facts(available_stock=D(1), sold_out_since=at(4)))
    assert decision.sold_out_since is None
