"""Sentences of the audit reasons of products (codes, counters, rules, sold-out), in the
reader's language (see `blingsync.audit_reasons`). The facts come from `CodeDecision`
(`products.code_rules`) and `SoldOutDecision.facts` (`products.soldout_rules`)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from blingsync.audit_reasons import fmt_day, fmt_list, fmt_moment, fmt_number, reason_register

Data = Mapping[str, Any]

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


def _stock(data: Data) -> str:
    return _("saldo disponível %(stock)s") % {"stock": fmt_number(data["stock"])}


def _anchor(data: Data) -> str:
    kind = data["anchor"]
    if kind == "none":
        return _(
            "nos últimos %(days)d dias (nenhuma entrada nem saldo positivo registrado antes)"
        ) % {"days": int(data["unanchored_days"])}
    when = fmt_moment(data["anchor_at"])
    if kind == "entry":
        if data.get("anchor_qty") is not None:
            return _("desde a última entrada de %(qty)s em %(when)s") % {
                "qty": fmt_number(data["anchor_qty"]),
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


def _sold_in_orders(data: Data) -> str:
    return _("%(sold)s vendido(s) nos pedidos %(orders)s") % {
        "sold": fmt_number(data["sold"]),
        "orders": fmt_list(data["orders"]),
    }


def _days(data: Data) -> str:
    first, last = fmt_day(data["first_day"]), fmt_day(data["last_day"])
    return first if first == last else _("%(first)s a %(last)s") % {"first": first, "last": last}


def _sold_out_by_sales(data: Data) -> str:
    return _(
        "Esgotado por vendas: %(sold)s (%(days)s) %(anchor)s; nenhum balanço manual nem saída "
        "sem venda depois; %(stock)s."
    ) % {
        "sold": _sold_in_orders(data),
        "days": _days(data),
        "anchor": _anchor(data),
        "stock": _stock(data),
    }


@reason_register("soldout.sold_out_by_sales", gettext_lazy("esgotado por vendas"))
def _soldout_sales(data: Data) -> str:
    return _sold_out_by_sales(data)


@reason_register("soldout.grace", gettext_lazy("esgotado: aguardando a carência"))
def _soldout_grace(data: Data) -> str:
    return _(
        "%(sold_out)s Aguardando a carência de %(minutes)d min (esgotado desde %(since)s, "
        "inativa a partir de %(until)s)."
    ) % {
        "sold_out": _sold_out_by_sales(data),
        "minutes": int(data["grace_minutes"]),
        "since": fmt_moment(data["sold_out_since"]),
        "until": fmt_moment(data["until"]),
    }


@reason_register("soldout.excluded_in_bling", gettext_lazy("excluído no Bling"))
def _soldout_excluded(data: Data) -> str:
    return _("Produto excluído no Bling.")


@reason_register("soldout.in_stock", gettext_lazy("em estoque"))
def _soldout_in_stock(data: Data) -> str:
    return _("Em estoque: %(stock)s.") % {"stock": _stock(data)}


@reason_register("soldout.staff_deactivated", gettext_lazy("inativado pela equipe"))
def _soldout_staff(data: Data) -> str:
    return _(
        "Inativado pela equipe, não pelo blingsync: nunca é reativado automaticamente (%(stock)s)."
    ) % {"stock": _stock(data)}


@reason_register("soldout.restocked", gettext_lazy("estoque voltou"))
def _soldout_restocked(data: Data) -> str:
    return _(
        "O blingsync inativou este produto por esgotado e o saldo disponível voltou a %(stock)s."
    ) % {"stock": fmt_number(data["stock"])}


@reason_register("soldout.still_sold_out", gettext_lazy("continua esgotado"))
def _soldout_still(data: Data) -> str:
    return _("Inativado pelo blingsync; continua sem saldo disponível (%(stock)s).") % {
        "stock": fmt_number(data["stock"])
    }


@reason_register("soldout.category_keeps", gettext_lazy("a categoria não inativa"))
def _soldout_category(data: Data) -> str:
    if not data.get("mirrored", True):
        return _(
            "Categoria %(id)s ainda não espelhada do Bling: nada é inativado nela até a próxima "
            "sincronização de categorias."
        ) % {"id": data["category_id"]}
    return _("A regra da categoria “%(category)s” não inativa produtos esgotados.") % {
        "category": data["category"]
    }


@reason_register("soldout.has_variations", gettext_lazy("produto com variações"))
def _soldout_variations(data: Data) -> str:
    return _("Produto com variações: cada variação é avaliada por conta própria.")


@reason_register("soldout.manual_balance", gettext_lazy("zerado por balanço manual"))
def _soldout_balance(data: Data) -> str:
    return _(
        "Zerado por ajuste manual: um balanço em %(when)s deixou o saldo em %(balance)s depois "
        "do último saldo positivo ou venda; não inativado."
    ) % {"when": fmt_moment(data["balance_at"]), "balance": fmt_number(data["balance"])}


@reason_register("soldout.cancelled_only", gettext_lazy("só pedidos cancelados"))
def _soldout_cancelled(data: Data) -> str:
    return _(
        "Só há pedidos cancelados (%(orders)s) %(anchor)s: cancelados não contam como venda; "
        "%(stock)s."
    ) % {"orders": fmt_list(data["orders"]), "anchor": _anchor(data), "stock": _stock(data)}


@reason_register("soldout.never_stocked", gettext_lazy("nunca teve estoque"))
def _soldout_never(data: Data) -> str:
    return _(
        "Nenhuma venda nem movimento de estoque registrado: o produto nunca teve estoque ou "
        "zerou sem vendas; %(stock)s."
    ) % {"stock": _stock(data)}


@reason_register("soldout.no_sales", gettext_lazy("zerado sem vendas"))
def _soldout_no_sales(data: Data) -> str:
    if data.get("manual_exit") is not None:
        return _(
            "Nenhuma venda registrada %(anchor)s; saída manual de %(qty)s sem venda; %(stock)s."
        ) % {"anchor": _anchor(data), "qty": fmt_number(data["manual_exit"]), "stock": _stock(data)}
    return _("Nenhuma venda registrada %(anchor)s; %(stock)s.") % {
        "anchor": _anchor(data),
        "stock": _stock(data),
    }


@reason_register("soldout.reactivated_by_hand", gettext_lazy("reativado pela equipe"))
def _soldout_reactivated(data: Data) -> str:
    return _(
        "Reativado depois que o blingsync o inativou em %(when)s: nenhuma venda nova desde "
        "então, não é inativado de novo; %(stock)s."
    ) % {"when": fmt_moment(data["deactivated_at"]), "stock": _stock(data)}


@reason_register("soldout.unexplained_exit", gettext_lazy("saída sem venda"))
def _soldout_unexplained(data: Data) -> str:
    return _(
        "Saída sem venda: %(exited)s saíram do estoque %(anchor)s, mas só %(sold)s; %(stock)s."
    ) % {
        "exited": fmt_number(data["exited"]),
        "anchor": _anchor(data),
        "sold": _sold_in_orders(data),
        "stock": _stock(data),
    }


@reason_register("soldout.reactivation_stopped", gettext_lazy("reativação automática desligada"))
def _soldout_stopped(data: Data) -> str:
    return _("%(actor)s pediu para não reativar este produto automaticamente.") % {
        "actor": data["actor"]
    }
