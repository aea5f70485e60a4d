"""Sentences of the audit reasons of products (codes, counters, rules, sold-out), in the
reader's language (see `blingsync.audit_reasons`). The facts come from `CodeDecision`
(`products.code_rules`) and `SoldOutDecision.facts` (`products.soldout_rules`).

The sold-out rules word nothing themselves: every sentence about a sold-out decision is made
here, from its rule and facts, whether shown (audit admin, evidence page, CSV, dashboard) in
the reader's language or stored in Portuguese with the decision (`soldout_reason_stored`)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any

from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from blingsync.audit_reasons import fmt_day, fmt_list, fmt_moment, fmt_number, reason_register

Data = Mapping[str, Any]
# The language of the reason text stored with a decision (audit `reason`): staff's.
STORED_LANGUAGE = "pt-br"

# --- codes ----------------------------------------------------------------------------------


def _with_policy(sentence: str, data: Data) -> str:
    """Add which rule says to generate codes, when it is not the category named already
    (the default, generating, needs no mention)."""
    deciding = data.get("policy_category") or ""
    if not deciding or deciding == data.get("prefix_category"):
        return sentence
    return (
        sentence
        + " "
        + _("Códigos gerados conforme a regra de “%(category)s”.") % {"category": deciding}
    )


@reason_register("code.prefix_derived", gettext_lazy("código: prefixo derivado do nome"))
def _code_prefix_derived(data: Data) -> str:
    sentence = _("Prefixo %(prefix)s, derivado do nome da categoria “%(derived_from)s”.") % {
        "prefix": data["prefix"],
        "derived_from": data["derived_from"],
    }
    return _with_policy(sentence, data)


@reason_register("code.prefix_rule", gettext_lazy("código: prefixo definido em uma regra"))
def _code_prefix_rule(data: Data) -> str:
    sentence = _("Prefixo %(prefix)s, definido na regra da categoria “%(prefix_category)s”.") % {
        "prefix": data["prefix"],
        "prefix_category": data["prefix_category"],
    }
    return _with_policy(sentence, data)


@reason_register("code.retry", gettext_lazy("código: nova tentativa"))
def _code_retry(data: Data) -> str:
    return _("Nova tentativa de gravar o código %(code)s, já reservado para este produto.") % {
        "code": data["code"]
    }


@reason_register("code.in_use", gettext_lazy("código: já usado no Bling"))
def _code_in_use(data: Data) -> str:
    return _(
        "O código %(code)s já é usado no Bling por outro produto (id %(ids)s); "
        "este produto recebe o próximo número."
    ) % {"code": data["code"], "ids": fmt_list(data["used_by"])}


@reason_register("counter.adjusted", gettext_lazy("contador ajustado pela equipe"))
def _counter_adjusted(data: Data) -> str:
    return _("Contador %(prefix)s ajustado de %(before)s para %(after)s por %(actor)s.") % {
        "prefix": data["prefix"],
        "before": data["before"],
        "after": data["after"],
        "actor": data["actor"],
    }


@reason_register("counter.seeded", gettext_lazy("contador semeado do Bling"))
def _counter_seeded(data: Data) -> str:
    return _("O maior código %(prefix)s já usado no Bling é %(code)s.") % {
        "prefix": data["prefix"],
        "code": data["code"],
    }


# --- category rules -------------------------------------------------------------------------

_RULE_WHAT = {
    "criada": gettext_lazy("Regra de categoria criada por %(actor)s."),
    "alterada": gettext_lazy("Regra de categoria alterada por %(actor)s."),
    "removida": gettext_lazy("Regra de categoria removida por %(actor)s."),
}
_RULE_HOW = {
    "associada": gettext_lazy("Regra por nome associada à categoria espelhada “%(category)s”."),
    "copiada": gettext_lazy("Regra por nome copiada para a categoria espelhada “%(category)s”."),
}


@reason_register("rule.edited", gettext_lazy("regra editada pela equipe"))
def _rule_edited(data: Data) -> str:
    return str(_RULE_WHAT[data["what"]]) % {"actor": data["actor"]}


@reason_register("rule.attached_by_name", gettext_lazy("regra associada pelo nome"))
def _rule_attached(data: Data) -> str:
    return str(_RULE_HOW[data["how"]]) % {"category": data["category"]}


# --- sold-out -------------------------------------------------------------------------------
#
# Each rule of `products.soldout_rules` has a clause here, made from the facts of its
# decision (`SoldOutDecision.facts`): lower case, no full stop, so a kit's sentence can quote
# the clause of a part. The audit reason `soldout.<rule>` is the clause as a sentence.

Clause = Callable[[Data], str]
_CLAUSES: dict[str, Clause] = {}


def _sentence(clause: str) -> str:
    return clause[:1].upper() + clause[1:] + "."


def _soldout_rule(rule: str, label: Any) -> Callable[[Clause], Clause]:
    """Register the clause of a sold-out rule and its sentence (audit reason
    `soldout.<rule>`)."""

    def decorator(clause: Clause) -> Clause:
        def sentence(data: Data) -> str:
            if "stock" not in data:
                # Every decision's facts say the stock; a row without it was written before
                # kits kept their facts: its stored text says more than a sentence from {}.
                raise KeyError("stock")
            return _sentence(clause(data))

        _CLAUSES[rule] = clause
        reason_register(f"soldout.{rule}", label)(sentence)
        return clause

    return decorator


def soldout_clause(*, rule: str, facts: Data) -> str:
    """The clause of a sold-out decision, in the active language."""
    return _CLAUSES[rule](facts)


def soldout_reason_stored(*, rule: str, facts: Data) -> str:
    """The sentence of a sold-out decision in Portuguese: the text stored with it (audit
    `reason`, the product's last reason), the same words the admin renders from its facts."""
    with translation.override(STORED_LANGUAGE):
        return _sentence(soldout_clause(rule=rule, facts=facts))


def _one(value: Any) -> bool:
    return Decimal(str(value)) == 1


def _units(value: Any) -> str:
    if _one(value):
        return _("%(n)s unidade") % {"n": fmt_number(value)}
    return _("%(n)s unidades") % {"n": fmt_number(value)}


def _sold(value: Any) -> str:
    if _one(value):
        return _("%(n)s unidade vendida") % {"n": fmt_number(value)}
    return _("%(n)s unidades vendidas") % {"n": fmt_number(value)}


def _stock(data: Data) -> str:
    if data.get("kit"):
        return _("saldo disponível do kit %(stock)s") % {"stock": fmt_number(data["stock"])}
    return _("saldo disponível %(stock)s") % {"stock": fmt_number(data["stock"])}


def _document(item: Data) -> str:
    """ "pedido 123", "NF-e nº 45", "NFC-e nº 7"."""
    number = {"number": item["number"]}
    if item["doc"] == "order":
        return _("pedido %(number)s") % number
    if item["doc"] == "nfe":
        return _("NF-e nº %(number)s") % number
    if item["doc"] == "nfce":
        return _("NFC-e nº %(number)s") % number
    return f"{item['doc']} nº {item['number']}"


def _in_orders(labels: list[str]) -> str:
    if len(labels) == 1:
        return _("no pedido %(number)s") % {"number": labels[0]}
    return _("nos pedidos %(numbers)s") % {"numbers": fmt_list(labels)}


def _kit_documents(items: list[Data]) -> str:
    """A kit's sales as they follow its name: "pedido nº 5", "pedidos nº 5, 6", "NF-e nº 45"."""
    if all(item["doc"] == "order" for item in items):
        labels = list(dict.fromkeys(str(item["number"]) for item in items))
        if len(labels) == 1:
            return _("pedido nº %(numbers)s") % {"numbers": labels[0]}
        return _("pedidos nº %(numbers)s") % {"numbers": fmt_list(labels)}
    return fmt_list(list(dict.fromkeys(_document(item) for item in items)))


def _where(data: Data) -> str:
    """Where it was sold, as it follows "N unidades vendidas": " no pedido 123", " nos
    pedidos 1, 2", " na NFC-e nº 7", " nos documentos pedido 1, NF-e nº 45", and for a kit's
    sales ": vendido no kit X (pedido nº 5)" (a space before the product's own sales, a colon
    before a kit's)."""
    if "orders" in data:
        return " " + _in_orders([str(o) for o in data["orders"]])
    items: list[Data] = data["sales"]
    texts = []
    direct = [item for item in items if not item.get("kit")]
    if direct:
        if all(item["doc"] == "order" for item in direct):
            texts.append(_in_orders(list(dict.fromkeys(str(i["number"]) for i in direct))))
        else:
            documents = list(dict.fromkeys(_document(item) for item in direct))
            if len(documents) == 1:
                texts.append(_("na %(document)s") % {"document": documents[0]})
            else:
                texts.append(_("nos documentos %(documents)s") % {"documents": fmt_list(documents)})
    for kit in dict.fromkeys(item["kit"] for item in items if item.get("kit")):
        kit_items = [item for item in items if item.get("kit") == kit]
        texts.append(
            _("vendido no kit %(kit)s (%(documents)s)")
            % {"kit": kit, "documents": _kit_documents(kit_items)}
        )
    joined = texts[0]
    for text in texts[1:]:
        joined = _("%(first)s e %(then)s") % {"first": joined, "then": text}
    return (" " if direct else ": ") + joined


def _anchor(data: Data) -> str:
    kind = data["anchor"]
    if kind == "none":
        return _(
            "nos últimos %(days)d dias (nenhuma entrada nem saldo positivo registrado antes)"
        ) % {"days": int(data["unanchored_days"])}
    when = fmt_moment(data["anchor_at"])
    if kind == "entry":
        if data.get("anchor_qty") is not None:
            return _("desde a última entrada de %(units)s em %(when)s") % {
                "units": _units(data["anchor_qty"]),
                "when": when,
            }
        return _("desde a última entrada em %(when)s") % {"when": when}
    if kind == "positive":
        return _("desde o último saldo positivo (%(balance)s) em %(when)s") % {
            "balance": fmt_number(data["anchor_balance"]),
            "when": when,
        }
    return _("desde o último saldo positivo visto pelo blingsync (%(balance)s) em %(when)s") % {
        "balance": fmt_number(data["anchor_balance"]),
        "when": when,
    }


def _days(data: Data) -> str:
    first, last = fmt_day(data["first_day"]), fmt_day(data["last_day"])
    return first if first == last else _("%(first)s a %(last)s") % {"first": first, "last": last}


@_soldout_rule("sold_out_by_sales", gettext_lazy("esgotado por vendas"))
def _soldout_sales(data: Data) -> str:
    return _(
        "esgotado por vendas: %(sold)s%(where)s (%(days)s) %(anchor)s; nenhum balanço manual "
        "nem saída sem venda depois; %(stock)s"
    ) % {
        "sold": _sold(data["sold"]),
        "where": _where(data),
        "days": _days(data),
        "anchor": _anchor(data),
        "stock": _stock(data),
    }


@_soldout_rule("grace", gettext_lazy("esgotado: aguardando a carência"))
def _soldout_grace(data: Data) -> str:
    postponed = data.get("postponed", "sold_out_by_sales")
    return _(
        "%(reason)s; aguardando a carência de %(minutes)d min (esgotado desde %(since)s, "
        "inativa a partir de %(until)s)"
    ) % {
        "reason": _CLAUSES[postponed](data),
        "minutes": int(data["grace_minutes"]),
        "since": fmt_moment(data["sold_out_since"]),
        "until": fmt_moment(data["until"]),
    }


@_soldout_rule("excluded_in_bling", gettext_lazy("excluído no Bling"))
def _soldout_excluded(data: Data) -> str:
    return _("kit excluído no Bling") if data.get("kit") else _("produto excluído no Bling")


@_soldout_rule("in_stock", gettext_lazy("em estoque"))
def _soldout_in_stock(data: Data) -> str:
    return _("em estoque: %(stock)s") % {"stock": _stock(data)}


@_soldout_rule("staff_deactivated", gettext_lazy("inativado pela equipe"))
def _soldout_staff(data: Data) -> str:
    if data.get("kit"):
        return _("kit inativado pela equipe, não pelo blingsync: nunca é reativado automaticamente")
    return _(
        "inativado pela equipe, não pelo blingsync: nunca é reativado automaticamente "
        "(saldo disponível %(stock)s)"
    ) % {"stock": fmt_number(data["stock"])}


@_soldout_rule("restocked", gettext_lazy("estoque voltou"))
def _soldout_restocked(data: Data) -> str:
    stock = {"stock": fmt_number(data["stock"])}
    if data.get("kit"):
        return _("o blingsync inativou este kit e o saldo disponível voltou a %(stock)s") % stock
    return (
        _("o blingsync inativou este produto por esgotado e o saldo disponível voltou a %(stock)s")
        % stock
    )


@_soldout_rule("still_sold_out", gettext_lazy("continua esgotado"))
def _soldout_still(data: Data) -> str:
    return _("inativado pelo blingsync; continua sem saldo disponível (%(stock)s)") % {
        "stock": fmt_number(data["stock"])
    }


@_soldout_rule("category_keeps", gettext_lazy("a categoria não inativa"))
def _soldout_category(data: Data) -> str:
    if data.get("mirrored") is False:
        return _(
            "categoria %(id)s ainda não espelhada do Bling: nada é inativado nela até a próxima "
            "sincronização de categorias"
        ) % {"id": data["category_id"]}
    if data.get("category"):
        return _("a regra da categoria “%(category)s” não inativa produtos esgotados") % {
            "category": data["category"]
        }
    return _("a regra da categoria não inativa produtos esgotados")


@_soldout_rule("has_variations", gettext_lazy("produto com variações"))
def _soldout_variations(data: Data) -> str:
    return _("produto com variações: cada variação é avaliada por conta própria")


@_soldout_rule("manual_balance", gettext_lazy("zerado por balanço manual"))
def _soldout_balance(data: Data) -> str:
    return _(
        "zerado por ajuste manual: balanço (B) em %(when)s deixou o saldo em %(balance)s depois "
        "do último saldo positivo ou venda; não inativado"
    ) % {"when": fmt_moment(data["balance_at"]), "balance": fmt_number(data["balance"])}


@_soldout_rule("cancelled_only", gettext_lazy("só pedidos cancelados"))
def _soldout_cancelled(data: Data) -> str:
    values = {"anchor": _anchor(data), "stock": _stock(data)}
    if "orders" in data:
        return _(
            "só há pedidos cancelados (%(orders)s) %(anchor)s: cancelados não contam como "
            "venda; %(stock)s"
        ) % {**values, "orders": ", ".join(str(o) for o in data["orders"])}
    documents = dict.fromkeys(
        f"{_document(item)} {item.get('situation', '')}".strip() for item in data["sales"]
    )
    return _(
        "só há vendas canceladas ou não autorizadas (%(documents)s) %(anchor)s: cancelados não "
        "contam como venda; %(stock)s"
    ) % {**values, "documents": ", ".join(documents)}


@_soldout_rule("never_stocked", gettext_lazy("nunca teve estoque"))
def _soldout_never(data: Data) -> str:
    return _(
        "nenhuma venda nem movimento de estoque registrado: o produto nunca teve estoque ou "
        "zerou sem vendas; %(stock)s"
    ) % {"stock": _stock(data)}


@_soldout_rule("no_sales", gettext_lazy("zerado sem vendas"))
def _soldout_no_sales(data: Data) -> str:
    if data.get("manual_exit") is not None:
        return _(
            "nenhuma venda registrada %(anchor)s; saída manual (S) de %(units)s sem venda; "
            "%(stock)s"
        ) % {"anchor": _anchor(data), "units": _units(data["manual_exit"]), "stock": _stock(data)}
    return _("nenhuma venda registrada %(anchor)s; %(stock)s") % {
        "anchor": _anchor(data),
        "stock": _stock(data),
    }


@_soldout_rule("reactivated_by_hand", gettext_lazy("reativado pela equipe"))
def _soldout_reactivated(data: Data) -> str:
    values = {"when": fmt_moment(data["deactivated_at"]), "stock": _stock(data)}
    if data.get("kit"):
        return (
            _(
                "kit reativado depois que o blingsync o inativou em %(when)s: nenhuma venda nova das "
                "peças desde então, não é inativado de novo; %(stock)s"
            )
            % values
        )
    return (
        _(
            "reativado depois que o blingsync o inativou em %(when)s: nenhuma venda nova desde "
            "então, não é inativado de novo; %(stock)s"
        )
        % values
    )


@_soldout_rule("unexplained_exit", gettext_lazy("saída sem venda"))
def _soldout_unexplained(data: Data) -> str:
    return _(
        "saída sem venda: %(exited)s saíram do estoque %(anchor)s, mas só %(sold)s%(where)s; "
        "%(stock)s"
    ) % {
        "exited": _units(data["exited"]),
        "anchor": _anchor(data),
        "sold": _sold(data["sold"]),
        "where": _where(data),
        "stock": _stock(data),
    }


# Virtual kits: judged by their parts (`kit_decide`); `parts` lists the parts concerned.


def _part(item: Data) -> str:
    return _("%(label)s (saldo %(stock)s, o kit usa %(qty)s)") % {
        "label": item["label"],
        "stock": fmt_number(item["stock"]),
        "qty": fmt_number(item["qty"]),
    }


def _part_judged(item: Data) -> str:
    """A part and why its zero was (or was not) reached by sales: the part's own clause."""
    return _("%(part)s: %(reason)s") % {
        "part": _part(item),
        "reason": soldout_clause(rule=item["rule"], facts=item["facts"]),
    }


@_soldout_rule("kit_parts_back", gettext_lazy("kit: as peças voltaram"))
def _kit_parts_back(data: Data) -> str:
    return _(
        "o blingsync inativou este kit (estoque virtual) por falta de peça e todas as peças "
        "voltaram: %(parts)s"
    ) % {"parts": ", ".join(_part(item) for item in data["parts"])}


@_soldout_rule("kit_part_still_out", gettext_lazy("kit: ainda falta peça"))
def _kit_part_still_out(data: Data) -> str:
    missing = ", ".join(_part(item) for item in data["parts"]) or _("saldo do kit %(stock)s") % {
        "stock": fmt_number(data["stock"])
    }
    return _("kit inativado pelo blingsync; ainda falta peça: %(missing)s") % {"missing": missing}


@_soldout_rule("kit_without_parts", gettext_lazy("kit sem componentes conhecidos"))
def _kit_without_parts(data: Data) -> str:
    return _("kit de estoque virtual sem componentes conhecidos: não inativado; %(stock)s") % {
        "stock": _stock(data)
    }


@_soldout_rule("kit_part_not_sold", gettext_lazy("kit: nenhuma peça esgotou por vendas"))
def _kit_part_not_sold(data: Data) -> str:
    if data.get("judged"):
        why = "; ".join(_part_judged(item) for item in data["parts"])
        text = _("nenhuma peça do kit esgotou por vendas (%(why)s)") % {"why": why}
    else:
        why = ", ".join(_part(item) for item in data["parts"]) or _("nenhuma peça em falta")
        text = _("peças com saldo abaixo do que o kit usa, mas nenhuma esgotada (%(why)s)") % {
            "why": why
        }
    return _("%(text)s; %(stock)s") % {"text": text, "stock": _stock(data)}


@_soldout_rule("kit_part_sold_out", gettext_lazy("kit esgotado por vendas de peça"))
def _kit_part_sold_out(data: Data) -> str:
    return _("kit de estoque virtual esgotado por vendas de peça: %(parts)s; %(stock)s") % {
        "parts": "; ".join(_part_judged(item) for item in data["parts"]),
        "stock": _stock(data),
    }


@reason_register("soldout.reactivation_stopped", gettext_lazy("reativação automática desligada"))
def _soldout_stopped(data: Data) -> str:
    return _("%(actor)s pediu para não reativar este produto automaticamente.") % {
        "actor": data["actor"]
    }


@reason_register("undo.reactivated", gettext_lazy("inativação desfeita pela equipe"))
def _undo_reactivated(data: Data) -> str:
    return _(
        "Inativação desfeita: a equipe pediu para desfazer as inativações da execução #%(run)s."
    ) % {"run": data["undone_run"]}
