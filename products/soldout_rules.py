"""The sold-out rule of SPEC 5.5 as a pure function: plain data in, a verdict and a reason out.

No ORM and no HTTP here: `products.soldout` gathers the facts (Bling's current product, the
category rule, the evidence ledger) and applies the verdict.

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
invoice's emission date) for the rule, not a time. A sale counts as "since the anchor" when its date is after
the anchor's local date, or the same date and blingsync first saw the order at or after the
anchor (an order recorded late by the sweep therefore counts: erring towards the evidence we
have rather than inventing an order of events we cannot know).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, tzinfo
from decimal import Decimal
from enum import StrEnum
from zoneinfo import ZoneInfo

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
    category_reason: str = ""  # why the category keeps it (shown when it does)
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
    verdict: Verdict
    rule: Rule
    reason: str
    sold_out_since: datetime | None = None  # what to remember for the grace period
    evidence: dict = field(default_factory=dict)  # JSON-friendly summary for the audit log


@dataclass(frozen=True)
class _Anchor:
    at: datetime
    kind: str  # "entry" | "positive" | "observed"
    balance: Decimal | None
    quantity: Decimal | None = None


def _num(value: Decimal | None) -> str:
    """A quantity as staff write it: 3, 2,5 (no trailing zeros)."""
    if value is None:
        return "?"
    normalized = value.normalize()
    if normalized == normalized.to_integral():
        return str(int(normalized))
    return format(normalized, "f").replace(".", ",")


def _units(value: Decimal) -> str:
    return f"{_num(value)} unidade" + ("" if value == 1 else "s")


def _sold(value: Decimal) -> str:
    return f"{_units(value)} vendida" + ("" if value == 1 else "s")


def _day(value: date) -> str:
    return value.strftime("%d/%m/%Y")


def _moment(value: datetime, tz: tzinfo) -> str:
    return value.astimezone(tz).strftime("%d/%m/%Y %H:%M")


def _shown(labels: list[str]) -> str:
    return ", ".join(labels[:5]) + (f" e mais {len(labels) - 5}" if len(labels) > 5 else "")


def _orders(sales: Sequence[Sale]) -> str:
    """Where it was sold: "no pedido 123", "nos pedidos 1, 2", "na NFC-e nº 7", "nos
    documentos pedido 1, NF-e nº 45"."""
    if all(sale.source == "order" for sale in sales):
        labels = list(dict.fromkeys(sale.label for sale in sales))
        if len(labels) == 1:
            return f"no pedido {labels[0]}"
        return f"nos pedidos {_shown(labels)}"
    documents = list(dict.fromkeys(sale.document for sale in sales))
    if len(documents) == 1:
        return f"na {documents[0]}"
    return f"nos documentos {_shown(documents)}"


def _not_counted(sales: Sequence[Sale]) -> str:
    if all(sale.source == "order" for sale in sales):
        return f"só há pedidos cancelados ({', '.join(s.label for s in sales)})"
    documents = ", ".join(dict.fromkeys(f"{s.document} {s.situation_name}".strip() for s in sales))
    return f"só há vendas canceladas ou não autorizadas ({documents})"


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


def _anchor_text(anchor: _Anchor | None, tz: tzinfo, unanchored_days: int = 0) -> str:
    if anchor is None:
        return (
            f"nos últimos {unanchored_days} dias (nenhuma entrada nem saldo positivo "
            "registrado antes)"
        )
    when = _moment(anchor.at, tz)
    if anchor.kind == "entry":
        qty = f" de {_units(anchor.quantity)}" if anchor.quantity is not None else ""
        return f"desde a última entrada{qty} em {when}"
    if anchor.kind == "positive":
        return f"desde o último saldo positivo ({_num(anchor.balance)}) em {when}"
    return f"desde o último saldo positivo visto pelo blingsync ({_num(anchor.balance)}) em {when}"


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
                **({"same_sale_as": s.same_sale_as} if s.same_sale_as else {}),
            }
            for s in sales
        ],
    }


def sold_out_decide(facts: SoldOutFacts) -> SoldOutDecision:
    """Decide what to do with one product (see the module docstring for the rule)."""
    stock = facts.available_stock
    tz = facts.tz
    in_stock = stock > ZERO
    since = None if in_stock else (facts.sold_out_since or facts.now)

    if facts.situation == "E":
        return SoldOutDecision(Verdict.KEEP, Rule.EXCLUDED, "produto excluído no Bling", since)

    if facts.situation != "A":
        if not facts.deactivated_by_blingsync:
            return SoldOutDecision(
                Verdict.KEEP,
                Rule.STAFF_DEACTIVATED,
                "inativado pela equipe, não pelo blingsync: nunca é reativado automaticamente"
                f" (saldo disponível {_num(stock)})",
                since,
            )
        if in_stock:
            return SoldOutDecision(
                Verdict.REACTIVATE,
                Rule.RESTOCKED,
                f"o blingsync inativou este produto por esgotado e o saldo disponível voltou a "
                f"{_num(stock)}",
                None,
            )
        return SoldOutDecision(
            Verdict.KEEP,
            Rule.STILL_SOLD_OUT,
            f"inativado pelo blingsync; continua sem saldo disponível ({_num(stock)})",
            since,
        )

    if in_stock:
        return SoldOutDecision(
            Verdict.KEEP, Rule.IN_STOCK, f"em estoque: saldo disponível {_num(stock)}", None
        )
    if not facts.category_allows:
        reason = facts.category_reason or "a regra da categoria não inativa produtos esgotados"
        return SoldOutDecision(Verdict.KEEP, Rule.CATEGORY, reason, since)
    if facts.has_variations:
        return SoldOutDecision(
            Verdict.KEEP,
            Rule.HAS_VARIATIONS,
            "produto com variações: cada variação é avaliada por conta própria",
            since,
        )

    anchor = _anchor_of(facts)
    anchor_text = _anchor_text(anchor, tz, facts.unanchored_days)
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
    stock_text = f"saldo disponível {_num(stock)}"
    # The first movement after the anchor is when the ledger saw it go to zero.
    if after and facts.sold_out_since is None:
        since = after[0].at
    elif after and facts.sold_out_since is not None:
        since = min(after[0].at, facts.sold_out_since)

    def keep(rule: Rule, text: str) -> SoldOutDecision:
        return SoldOutDecision(Verdict.KEEP, rule, text, since, evidence)

    balances = [m for m in after if m.operation == "B"]
    if balances:
        last = balances[-1]
        return keep(
            Rule.MANUAL_BALANCE,
            f"zerado por ajuste manual: balanço (B) em {_moment(last.at, tz)} deixou o saldo em "
            f"{_num(last.balance)} depois do último saldo positivo ou venda; não inativado",
        )
    if not counted:
        if cancelled:
            return keep(
                Rule.CANCELLED_ONLY,
                f"{_not_counted(cancelled)} {anchor_text}: cancelados não contam como venda; "
                f"{stock_text}",
            )
        if anchor is None and not ordered and not facts.sales:
            return keep(
                Rule.NEVER_STOCKED,
                f"nenhuma venda nem movimento de estoque registrado: o produto nunca teve "
                f"estoque ou zerou sem vendas; {stock_text}",
            )
        exits = [m for m in after if m.operation == "S"]
        detail = ""
        if exits:
            qty = sum((m.quantity or ZERO for m in exits), ZERO)
            detail = f"; saída manual (S) de {_units(qty)} sem venda"
        return keep(Rule.NO_SALES, f"nenhuma venda registrada {anchor_text}{detail}; {stock_text}")

    last_off = facts.last_deactivated_at
    if last_off is not None and not any(_after(s, last_off, tz) for s in counted):
        return keep(
            Rule.REACTIVATED_BY_HAND,
            f"reativado depois que o blingsync o inativou em {_moment(last_off, tz)}: nenhuma "
            f"venda nova desde então, não é inativado de novo; {stock_text}",
        )

    sold = sum((s.quantity for s in counted), ZERO)
    exited = sum((m.quantity or ZERO for m in after if m.operation == "S"), ZERO)
    if anchor is not None and anchor.balance is not None:
        exited = max(exited, anchor.balance - stock)
    if exited > sold:
        return keep(
            Rule.UNEXPLAINED_EXIT,
            f"saída sem venda: {_units(exited)} saíram do estoque {anchor_text}, mas só "
            f"{_sold(sold)} {_orders(counted)}; {stock_text}",
        )

    first_day = counted[0].day
    sold_text = f"{_sold(sold)} {_orders(counted)} ({_day(first_day)}) {anchor_text}"
    if len({s.day for s in counted}) > 1:
        sold_text = (
            f"{_sold(sold)} {_orders(counted)} ({_day(first_day)} a "
            f"{_day(counted[-1].day)}) {anchor_text}"
        )
    reason = (
        f"esgotado por vendas: {sold_text}; nenhum balanço manual nem saída sem venda depois; "
        f"{stock_text}"
    )
    if facts.grace_minutes > 0:
        since = since or facts.now
        until = since + timedelta(minutes=facts.grace_minutes)
        if facts.now < until:
            return SoldOutDecision(
                Verdict.WAIT_GRACE,
                Rule.GRACE,
                f"{reason}; aguardando a carência de {facts.grace_minutes} min (esgotado desde "
                f"{_moment(since, tz)}, inativa a partir de {_moment(until, tz)})",
                since,
                evidence,
            )
    return SoldOutDecision(Verdict.DEACTIVATE, Rule.SOLD_OUT_BY_SALES, reason, since, evidence)
