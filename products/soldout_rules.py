"""The sold-out rule of SPEC 5.5 as a pure function: plain data in, a verdict and its facts out.

No ORM and no HTTP here: `products.soldout` gathers the facts (Bling's current product, the
category rule, the evidence ledger) and applies the verdict. The rule words nothing: a
decision is its verdict, its rule and the facts it rests on; the sentences staff read are
made from those in `products.reasons`, in the reader's language.

The rule, in the words staff read in the admin:

* An **active** product is deactivated when its available stock (`saldoVirtualTotal`) is zero
  or less, its category rule allows it, and the zero was **reached by sales**:
  - the *anchor* is the last entry (`E`) or the last positive balance the ledger knows of
    (a stock movement that left a positive balance, or a positive balance blingsync itself
    observed when it read the product); with none known (e.g. stock webhooks started after
    the last restock), only the sales of the last `unanchored_days` (30) count;
  - at least one counted sale (cancelled orders do not count, nor cancelled, rejected or
    pending invoices; an order and the invoice issued from it are one sale) happened since
    the anchor;
  - no manual balance (`B`) was recorded after the anchor (every movement after the anchor
    left the product at zero or below, so a `B` there is what zeroed it);
  - no unexplained exit: what left the stock since the anchor (the `S` quantities recorded,
    or the drop from the anchor's balance to today's, whichever is larger) is covered by the
    counted sales since the anchor.
  A zero reached by a manual adjustment, a product that never had stock and a product with no
  sales evidence are left alone.
* Grace (anti-flapping): deactivation waits until the product has been sold out for
  `grace_minutes`; the sold-out moment is the first movement after the anchor when the ledger
  has one, else when blingsync first saw it sold out. A restock clears it.
* A product blingsync deactivated that someone reactivated by hand is not deactivated again
  on the same evidence: only a sale newer than that deactivation counts.
* An **inactive** product is reactivated only when blingsync deactivated it and its available
  stock is positive again; products staff deactivated by hand are never reactivated.

Sales are orders, NF-e and NFC-e (`Sale.source`). Orders and invoices carry a date (an
invoice's emission date) for the rule, not a time.

Kits (compositions, `formato` "E"): the sales of a kit that posts its stock on its parts
(`lancamentoEstoque` A or M) are sales of each part, times the part's quantity in the kit
(`Sale.kit_name` says which kit; the reason reads "vendido no kit X (pedido nº …)"). A kit of
virtual stock (`tipoEstoque` V) has no balance of its own and is judged by its parts with
`kit_decide` (below); a physical kit is judged like any product with `sold_out_decide`.

A sale counts as "since the anchor" when its date is after
the anchor's local date, or the same date and blingsync first saw the order at or after the
anchor (an order recorded late by the sweep therefore counts: erring towards the evidence we
have rather than inventing an order of events we cannot know).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta, tzinfo
from decimal import Decimal
from enum import StrEnum
from functools import cached_property
from zoneinfo import ZoneInfo

from blingsync.bling.types import ProductSituation
from products.reasons import soldout_reason_stored

ZERO = Decimal(0)
DEFAULT_TZ = ZoneInfo("America/Sao_Paulo")


class Verdict(StrEnum):
    DEACTIVATE = "deactivate"
    REACTIVATE = "reactivate"
    KEEP = "keep"
    WAIT_GRACE = "wait_grace"


class Rule(StrEnum):
    """Which branch of the rule decided (stable names for tests, audit and filters)."""

    EXCLUDED = "excluded_in_bling"
    IN_STOCK = "in_stock"
    STAFF_DEACTIVATED = "staff_deactivated"
    REACTIVATED_BY_HAND = "reactivated_by_hand"
    STILL_SOLD_OUT = "still_sold_out"
    RESTOCKED = "restocked"
    CATEGORY = "category_keeps"
    HAS_VARIATIONS = "has_variations"
    MANUAL_BALANCE = "manual_balance"
    NO_SALES = "no_sales"
    CANCELLED_ONLY = "cancelled_only"
    NEVER_STOCKED = "never_stocked"
    UNEXPLAINED_EXIT = "unexplained_exit"
    SOLD_OUT_BY_SALES = "sold_out_by_sales"
    GRACE = "grace"
    # Virtual kits (kit_decide)
    KIT_PART_SOLD_OUT = "kit_part_sold_out"
    KIT_PART_NOT_SOLD = "kit_part_not_sold"
    KIT_PARTS_BACK = "kit_parts_back"
    KIT_PART_STILL_OUT = "kit_part_still_out"
    KIT_WITHOUT_PARTS = "kit_without_parts"


@dataclass(frozen=True)
class Movement:
    """A stock movement from the ledger; `balance` is the available balance after it."""

    at: datetime
    operation: str  # "E", "S", "B" or "" (balances only: virtual stock, deleted posting)
    quantity: Decimal | None = None
    balance: Decimal | None = None


_DOCUMENT_KINDS = {"order": "pedido", "nfe": "NF-e", "nfce": "NFC-e"}


@dataclass(frozen=True)
class Sale:
    """A sale line: `day` is the document's date (order date, invoice emission date),
    `seen_at` when blingsync first recorded it. `source` is "order", "nfe" or "nfce";
    `same_sale_as` names the document this one repeats (the invoice of an order: one sale,
    counted once through the other document)."""

    order_id: int
    day: date
    quantity: Decimal
    counted: bool = True
    order_number: str = ""
    seen_at: datetime | None = None
    situation_name: str = ""
    # Set when this is a kit's sale counted for one of its parts (quantity already times
    # the part's quantity in the kit).
    kit_name: str = ""
    source: str = "order"
    same_sale_as: str = ""

    @property
    def label(self) -> str:
        return self.order_number or str(self.order_id)

    @property
    def document(self) -> str:
        """ "pedido 123", "NF-e nº 45", "NFC-e nº 7"."""
        if self.source == "order":
            return f"pedido {self.label}"
        return f"{_DOCUMENT_KINDS.get(self.source, self.source)} nº {self.label}"


@dataclass(frozen=True)
class SoldOutFacts:
    situation: str  # "A", "I" or "E"
    available_stock: Decimal
    now: datetime
    category_allows: bool = True
    # Why the category keeps it, as data (shown when it does): {"category": name,
    # "mirrored": True} or {"category_id": id, "mirrored": False}.
    category: dict = field(default_factory=dict)
    movements: Sequence[Movement] = ()
    sales: Sequence[Sale] = ()
    deactivated_by_blingsync: bool = False
    grace_minutes: int = 0
    sold_out_since: datetime | None = None
    # A positive balance blingsync observed itself (when it last read the product in stock).
    last_positive_at: datetime | None = None
    last_positive_stock: Decimal | None = None
    has_variations: bool = False
    # When blingsync last deactivated it: if it is active again, someone reactivated it, and
    # only a sale newer than that deactivation may deactivate it again (no tug of war).
    last_deactivated_at: datetime | None = None
    # With no entry or positive balance known at all, only sales this recent count.
    unanchored_days: int = 30
    tz: tzinfo = field(default=DEFAULT_TZ)


@dataclass(frozen=True)
class SoldOutDecision:
    """A verdict, the rule that gave it and the facts it rests on (JSON-friendly: audit
    `reason_data`). The rule words nothing: the sentence is made from `rule` and `facts` by
    the reasons registry (`products.reasons`), in the reader's language."""

    verdict: Verdict
    rule: Rule
    sold_out_since: datetime | None = None  # what to remember for the grace period
    evidence: dict = field(default_factory=dict)  # JSON-friendly summary for the audit log
    facts: dict = field(default_factory=dict)

    @cached_property
    def reason(self) -> str:
        """The sentence in Portuguese, the text stored with the decision (audit `reason`,
        the product's last reason): the registry's, so stored and rendered texts match."""
        return soldout_reason_stored(rule=str(self.rule), facts=self.facts)


@dataclass(frozen=True)
class _Anchor:
    at: datetime
    kind: str  # "entry" | "positive" | "observed"
    balance: Decimal | None
    quantity: Decimal | None = None


def _plain(value: Decimal) -> str:
    """A quantity for data (audit facts, CSV): 2, 2.5, 10 (no trailing zeros, no exponent)."""
    text = format(value.normalize(), "f")
    return text if text != "-0" else "0"


def _sales_facts(sales: Sequence[Sale], *, situations: bool = False) -> dict:
    """Where it was sold, as facts: `orders` (their numbers) when every sale is an order of
    the product itself (cancelled ones: every sale an order, a kit's too); else `sales`,
    one item per document: {"doc": "order" | "nfe" | "nfce", "number", "kit"} (and its
    `situation` for sales that do not count)."""
    orders_only = all(
        sale.source == "order" and (situations or not sale.kit_name) for sale in sales
    )
    if orders_only:
        return {"orders": list(dict.fromkeys(sale.label for sale in sales))}
    items: dict[tuple, dict[str, str]] = {}
    for sale in sales:
        item = {"doc": sale.source, "number": sale.label, "kit": sale.kit_name}
        if situations:
            item["situation"] = sale.situation_name
        items.setdefault(tuple(item.values()), item)
    return {"sales": list(items.values())}


def _anchor_of(facts: SoldOutFacts) -> _Anchor | None:
    anchor: _Anchor | None = None
    for mv in sorted(facts.movements, key=lambda m: m.at):
        if mv.operation == "E":
            anchor = _Anchor(mv.at, "entry", mv.balance, mv.quantity)
        elif mv.balance is not None and mv.balance > ZERO:
            anchor = _Anchor(mv.at, "positive", mv.balance)
    observed = facts.last_positive_at
    if observed is not None and (anchor is None or observed > anchor.at):
        anchor = _Anchor(observed, "observed", facts.last_positive_stock)
    return anchor


def _anchor_facts(anchor: _Anchor | None, unanchored_days: int) -> dict[str, object]:
    if anchor is None:
        return {"anchor": "none", "unanchored_days": unanchored_days}
    return {
        "anchor": anchor.kind,
        "anchor_at": anchor.at.isoformat(),
        "anchor_balance": None if anchor.balance is None else _plain(anchor.balance),
        "anchor_qty": None if anchor.quantity is None else _plain(anchor.quantity),
    }


def _since(sale: Sale, anchor: _Anchor | None, tz: tzinfo) -> bool:
    if anchor is None:
        return True
    anchor_day = anchor.at.astimezone(tz).date()
    if sale.day != anchor_day:
        return sale.day > anchor_day
    return sale.seen_at is None or sale.seen_at >= anchor.at


def _after(sale: Sale, moment: datetime, tz: tzinfo) -> bool:
    if sale.seen_at is not None:
        return sale.seen_at > moment
    return sale.day > moment.astimezone(tz).date()


def _evidence(
    anchor: _Anchor | None, after: Sequence[Movement], sales: Sequence[Sale]
) -> dict[str, object]:
    return {
        "anchor": None
        if anchor is None
        else {
            "kind": anchor.kind,
            "at": anchor.at.isoformat(),
            "balance": None if anchor.balance is None else str(anchor.balance),
        },
        "movements_after": [
            {
                "at": m.at.isoformat(),
                "op": m.operation,
                "qty": str(m.quantity),
                "bal": str(m.balance),
            }
            for m in after
        ],
        "sales": [
            {
                "order": s.label,
                "source": s.source,
                "day": s.day.isoformat(),
                "qty": str(s.quantity),
                "counted": s.counted,
                **({"kit": s.kit_name} if s.kit_name else {}),
                **({"same_sale_as": s.same_sale_as} if s.same_sale_as else {}),
            }
            for s in sales
        ],
    }


def _grace_wait(
    since: datetime | None,
    now: datetime,
    grace_minutes: int,
    evidence: dict,
    *,
    postponed: Rule,
    facts: dict,
) -> SoldOutDecision | None:
    """WAIT_GRACE while a product sold out `since` is within its grace period, else None.

    `facts` are those of the decision it postpones (`postponed`); the grace period's own
    are added."""
    if grace_minutes <= 0:
        return None
    since = since or now
    until = since + timedelta(minutes=grace_minutes)
    if now >= until:
        return None
    return SoldOutDecision(
        Verdict.WAIT_GRACE,
        Rule.GRACE,
        since,
        evidence,
        facts={
            **facts,
            **({"postponed": str(postponed)} if postponed != Rule.SOLD_OUT_BY_SALES else {}),
            "grace_minutes": grace_minutes,
            "sold_out_since": since.isoformat(),
            "until": until.isoformat(),
        },
    )


def sold_out_decide(facts: SoldOutFacts) -> SoldOutDecision:
    """Decide what to do with one product (see the module docstring for the rule)."""
    stock = facts.available_stock
    tz = facts.tz
    in_stock = stock > ZERO
    since = None if in_stock else (facts.sold_out_since or facts.now)

    stock_facts = {"stock": _plain(stock)}

    def decided(
        verdict: Verdict, rule: Rule, when: datetime | None, **more: object
    ) -> SoldOutDecision:
        return SoldOutDecision(verdict, rule, when, facts={**stock_facts, **more})

    if facts.situation == ProductSituation.EXCLUDED:
        return decided(Verdict.KEEP, Rule.EXCLUDED, since)

    if facts.situation != ProductSituation.ACTIVE:
        if not facts.deactivated_by_blingsync:
            return decided(Verdict.KEEP, Rule.STAFF_DEACTIVATED, since)
        if in_stock:
            return decided(Verdict.REACTIVATE, Rule.RESTOCKED, None)
        return decided(Verdict.KEEP, Rule.STILL_SOLD_OUT, since)

    if in_stock:
        return decided(Verdict.KEEP, Rule.IN_STOCK, None)
    if not facts.category_allows:
        return decided(Verdict.KEEP, Rule.CATEGORY, since, **facts.category)
    if facts.has_variations:
        return decided(Verdict.KEEP, Rule.HAS_VARIATIONS, since)

    anchor = _anchor_of(facts)
    ordered = sorted(facts.movements, key=lambda m: m.at)
    after = [m for m in ordered if anchor is None or m.at > anchor.at]
    sales_since = [s for s in facts.sales if _since(s, anchor, tz)]
    if anchor is None:
        # Without a known entry or positive balance, only recent sales say how it got to zero.
        oldest = (facts.now - timedelta(days=facts.unanchored_days)).astimezone(tz).date()
        sales_since = [s for s in sales_since if s.day >= oldest]
    counted = sorted((s for s in sales_since if s.counted), key=lambda s: (s.day, s.order_id))
    # The invoice of a counted order is the same sale: neither counted again nor "cancelled".
    cancelled = [s for s in sales_since if not s.counted and not s.same_sale_as]
    evidence = _evidence(anchor, after, sales_since)
    # The first movement after the anchor is when the ledger saw it go to zero.
    if after and facts.sold_out_since is None:
        since = after[0].at
    elif after and facts.sold_out_since is not None:
        since = min(after[0].at, facts.sold_out_since)

    base_facts = {**stock_facts, **_anchor_facts(anchor, facts.unanchored_days)}

    def keep(rule: Rule, **more: object) -> SoldOutDecision:
        return SoldOutDecision(Verdict.KEEP, rule, since, evidence, facts={**base_facts, **more})

    balances = [m for m in after if m.operation == "B"]
    if balances:
        last = balances[-1]
        return keep(
            Rule.MANUAL_BALANCE,
            balance_at=last.at.isoformat(),
            balance=None if last.balance is None else _plain(last.balance),
        )
    if not counted:
        if cancelled:
            return keep(Rule.CANCELLED_ONLY, **_sales_facts(cancelled, situations=True))
        if anchor is None and not ordered and not facts.sales:
            return keep(Rule.NEVER_STOCKED)
        exits = [m for m in after if m.operation == "S"]
        qty = sum((m.quantity or ZERO for m in exits), ZERO)
        return keep(Rule.NO_SALES, manual_exit=_plain(qty) if exits else None)

    last_off = facts.last_deactivated_at
    if last_off is not None and not any(_after(s, last_off, tz) for s in counted):
        return keep(Rule.REACTIVATED_BY_HAND, deactivated_at=last_off.isoformat())

    sold = sum((s.quantity for s in counted), ZERO)
    sale_facts = {"sold": _plain(sold), **_sales_facts(counted)}
    exited = sum((m.quantity or ZERO for m in after if m.operation == "S"), ZERO)
    if anchor is not None and anchor.balance is not None:
        exited = max(exited, anchor.balance - stock)
    if exited > sold:
        return keep(Rule.UNEXPLAINED_EXIT, exited=_plain(exited), **sale_facts)

    sold_facts = {
        **base_facts,
        **sale_facts,
        "first_day": counted[0].day.isoformat(),
        "last_day": counted[-1].day.isoformat(),
    }
    waiting = _grace_wait(
        since,
        facts.now,
        facts.grace_minutes,
        evidence,
        postponed=Rule.SOLD_OUT_BY_SALES,
        facts=sold_facts,
    )
    if waiting is not None:
        return waiting
    return SoldOutDecision(
        Verdict.DEACTIVATE, Rule.SOLD_OUT_BY_SALES, since, evidence, facts=sold_facts
    )


# ---------------------------------------------------------------- virtual kits


@dataclass(frozen=True)
class KitPart:
    """A part of a virtual kit: `quantity` units per kit; `facts` are the part's own (its
    available stock, ledger and sales, its sales inside kits included)."""

    product_id: int
    label: str
    quantity: Decimal
    facts: SoldOutFacts


@dataclass(frozen=True)
class KitFacts:
    """A kit of virtual stock (`tipoEstoque` V): its situation, its available stock (what
    Bling computes from the parts), its category rule and state, and its parts."""

    situation: str
    available_stock: Decimal
    now: datetime
    parts: Sequence[KitPart] = ()
    category_allows: bool = True
    category: dict = field(default_factory=dict)  # as `SoldOutFacts.category`
    deactivated_by_blingsync: bool = False
    grace_minutes: int = 0
    sold_out_since: datetime | None = None
    last_deactivated_at: datetime | None = None
    tz: tzinfo = field(default=DEFAULT_TZ)


def _part_facts(part: KitPart, judged: SoldOutDecision | None = None) -> dict:
    """A part as facts: its name, available stock, what the kit uses of it, and when it was
    judged, the rule and facts of that judgement."""
    data: dict[str, object] = {
        "label": part.label,
        "stock": _plain(part.facts.available_stock),
        "qty": _plain(part.quantity),
    }
    if judged is not None:
        data.update(rule=str(judged.rule), facts=judged.facts)
    return data


def _part_judged(part: KitPart) -> SoldOutDecision:
    """Whether the part's own zero was reached by sales: the plain rule on the part's
    evidence, as if it were an active product its category lets go (the part's situation
    and category decide about the part, not about the kit)."""
    return sold_out_decide(
        replace(
            part.facts,
            situation=ProductSituation.ACTIVE,
            category_allows=True,
            has_variations=False,
            deactivated_by_blingsync=False,
            last_deactivated_at=None,
            grace_minutes=0,
        )
    )


def kit_decide(facts: KitFacts) -> SoldOutDecision:
    """Decide about a virtual kit by its parts.

    * Active, available stock zero or less, category allows: deactivated when a part it
      needs (one with less than the kit uses) is itself sold out (zero or less) and its zero
      was reached by sales (`sold_out_decide` on the part's evidence says so). A part short
      because of a manual balance, an unexplained exit or no sales keeps the kit, and so does
      a part that is short but not at zero (not "sold out").
    * Inactive and deactivated by blingsync: reactivated when every part is back (each part
      has at least what one kit uses).
    * Excluded, deactivated by staff, in stock, or a category that keeps it: as any product.

    The facts say `kit: True` (the sentences speak of a kit) and list the parts concerned.
    """
    stock = facts.available_stock
    tz = facts.tz
    in_stock = stock > ZERO
    since = None if in_stock else (facts.sold_out_since or facts.now)
    parts = list(facts.parts)
    short = [p for p in parts if p.facts.available_stock < p.quantity]
    evidence: dict = {
        "kit_parts": [
            {
                "id": p.product_id,
                "qty": str(p.quantity),
                "available": str(p.facts.available_stock),
            }
            for p in parts
        ]
    }
    kit_facts = {"kit": True, "stock": _plain(stock)}

    def decision(
        verdict: Verdict, rule: Rule, when: datetime | None = since, **more: object
    ) -> SoldOutDecision:
        return SoldOutDecision(verdict, rule, when, evidence, facts={**kit_facts, **more})

    if facts.situation == ProductSituation.EXCLUDED:
        return decision(Verdict.KEEP, Rule.EXCLUDED)
    if facts.situation != ProductSituation.ACTIVE:
        if not facts.deactivated_by_blingsync:
            return decision(Verdict.KEEP, Rule.STAFF_DEACTIVATED)
        if parts and not short:
            return decision(
                Verdict.REACTIVATE,
                Rule.KIT_PARTS_BACK,
                None,
                parts=[_part_facts(p) for p in parts],
            )
        if not parts and in_stock:
            return decision(Verdict.REACTIVATE, Rule.RESTOCKED, None)
        return decision(
            Verdict.KEEP, Rule.KIT_PART_STILL_OUT, parts=[_part_facts(p) for p in short]
        )

    if in_stock:
        return decision(Verdict.KEEP, Rule.IN_STOCK, None)
    if not facts.category_allows:
        return decision(Verdict.KEEP, Rule.CATEGORY, **facts.category)
    if not parts:
        return decision(Verdict.KEEP, Rule.KIT_WITHOUT_PARTS)

    judged = [(p, _part_judged(p)) for p in short if p.facts.available_stock <= ZERO]
    by_sales = [(p, d) for p, d in judged if d.rule == Rule.SOLD_OUT_BY_SALES]
    evidence["kit_parts_judged"] = [
        {"id": p.product_id, "rule": str(d.rule), "facts": d.facts} for p, d in judged
    ]
    if not by_sales:
        return decision(
            Verdict.KEEP,
            Rule.KIT_PART_NOT_SOLD,
            parts=[_part_facts(p, d) for p, d in judged] or [_part_facts(p) for p in short],
            judged=bool(judged),
        )

    last_off = facts.last_deactivated_at
    if last_off is not None and not any(
        _after(sale, last_off, tz) for p, _d in by_sales for sale in p.facts.sales if sale.counted
    ):
        return decision(Verdict.KEEP, Rule.REACTIVATED_BY_HAND, deactivated_at=last_off.isoformat())

    sold_parts = [_part_facts(p, d) for p, d in by_sales]
    sold_facts = {**kit_facts, "parts": sold_parts}
    waiting = _grace_wait(
        since,
        facts.now,
        facts.grace_minutes,
        evidence,
        postponed=Rule.KIT_PART_SOLD_OUT,
        facts=sold_facts,
    )
    if waiting is not None:
        return waiting
    return decision(Verdict.DEACTIVATE, Rule.KIT_PART_SOLD_OUT, parts=sold_parts)
