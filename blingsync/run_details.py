"""A job run's details and parameters as staff read them: a labelled table in the reader's
language (no JSON, no English keys), numbers and dates in the active locale's format.

Runs store their details as data (`JobRun.details`, keys chosen by each sweep); the labels are
here, built at display time with gettext. A key without a label still shows, humanised.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from django.utils import formats, timezone
from django.utils.dateparse import parse_datetime
from django.utils.html import format_html, format_html_join
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from blingsync.formatting import duration_format

# Keys of JobRun.details and JobRun.params (and of their nested counts), in words.
LABELS: dict[str, Any] = {
    # runner and parameters
    "dry_run": gettext_lazy("simulação"),
    "dry_run_reason": gettext_lazy("por que em simulação"),
    "since": gettext_lazy("desde"),
    "full": gettext_lazy("varredura completa"),
    "limit": gettext_lazy("limite"),
    "cursor": gettext_lazy("ponto de partida"),
    "complete": gettext_lazy("execução completa (vale como ponto de partida)"),
    "skipped_by_reason": gettext_lazy("pulados, por motivo"),
    "bling_429": gettext_lazy("respostas “limite excedido” do Bling"),
    "bling_rate_lowest": gettext_lazy("menor ritmo usado (chamadas/s)"),
    "duration_seconds": gettext_lazy("duração"),
    "warning": gettext_lazy("aviso"),
    # tokens
    "expires_at": gettext_lazy("token expira em"),
    # categories
    "created": gettext_lazy("criadas"),
    "updated": gettext_lazy("atualizadas"),
    "removed": gettext_lazy("removidas"),
    "restored": gettext_lazy("restauradas"),
    "rules_attached": gettext_lazy("regras criadas"),
    # codes
    "retried": gettext_lazy("tentados de novo"),
    "categories_new": gettext_lazy("categorias novas"),
    "categories": gettext_lazy("categorias"),
    "coded": gettext_lazy("codificados"),
    "composition_details": gettext_lazy("composições lidas"),
    # seed_counters
    "codes_read": gettext_lazy("códigos lidos"),
    "raised": gettext_lazy("contadores elevados"),
    # stock
    "list_pages": gettext_lazy("páginas listadas"),
    "balance_batches": gettext_lazy("lotes de saldos"),
    "writes": gettext_lazy("gravações no Bling"),
    "verdicts": gettext_lazy("decisões"),
    "rules": gettext_lazy("regras que decidiram"),
    # orders
    "orders_since": gettext_lazy("pedidos desde"),
    "orders": gettext_lazy("pedidos"),
    "sale_lines": gettext_lazy("itens vendidos"),
    # invoices
    "invoices_since": gettext_lazy("notas desde"),
    "invoices_listed": gettext_lazy("notas listadas"),
    "invoices_list_pages": gettext_lazy("páginas de notas"),
    "invoices_details": gettext_lazy("notas lidas em detalhe"),
    "invoices_lookups": gettext_lazy("buscas de produto"),
    "invoices_lines": gettext_lazy("itens de notas"),
    "invoices_unresolved": gettext_lazy("itens sem produto identificado"),
    "invoices_cancelled": gettext_lazy("notas canceladas"),
    "invoices_by_kind": gettext_lazy("notas por tipo"),
    # events
    "recovery": gettext_lazy("recuperação"),
    "released": gettext_lazy("eventos liberados"),
    "requeued": gettext_lazy("eventos reenfileirados"),
    "stock_evaluations": gettext_lazy("avaliações de estoque"),
    "would_delete": gettext_lazy("seriam apagados"),
    "deleted": gettext_lazy("apagados"),
    # plans (products.plans), apply and undo runs
    "plan": gettext_lazy("plano"),
    "kind": gettext_lazy("tipo"),
    "counters": gettext_lazy("contadores"),
    "counters_seeded": gettext_lazy("contadores semeados"),
    "items": gettext_lazy("itens"),
    "by_action": gettext_lazy("itens por ação"),
    "left_alone": gettext_lazy("deixados como estão"),
    "claimed": gettext_lazy("itens assumidos"),
    "code_assign": gettext_lazy("atribuir código"),
    # audit before/after
    "codigo": gettext_lazy("código"),
    "situacao": gettext_lazy("situação"),
    "saldo": gettext_lazy("saldo"),
    "regra": gettext_lazy("regra"),
    "inativado_pelo_blingsync": gettext_lazy("inativado pelo blingsync"),
    "parent_id": gettext_lazy("produto pai"),
    "category_id": gettext_lazy("id da categoria"),
    "category": gettext_lazy("categoria"),
    "scope": gettext_lazy("escopos"),
    "mode": gettext_lazy("modo"),
    "prefix": gettext_lazy("prefixo"),
    "last_value": gettext_lazy("último número"),
    "used_by": gettext_lazy("usado por"),
    # skip reasons, verdicts and rules (nested keys)
    "has_code": gettext_lazy("já tem código"),
    "limit_reached": gettext_lazy("limite atingido"),
    "product_not_found": gettext_lazy("produto não encontrado"),
    "product_excluded": gettext_lazy("produto excluído no Bling"),
    "skipped": gettext_lazy("pulado"),
    "invoice_unchanged": gettext_lazy("nota sem mudança"),
    "invoice_deleted": gettext_lazy("nota excluída"),
    "order_deleted": gettext_lazy("pedido excluído"),
    "deactivate": gettext_lazy("inativar"),
    "reactivate": gettext_lazy("reativar"),
    "keep": gettext_lazy("manter"),
    "wait_grace": gettext_lazy("aguardar a carência"),
    "dry_run_deactivate": gettext_lazy("inativaria (simulação)"),
    "dry_run_reactivate": gettext_lazy("reativaria (simulação)"),
    "excluded_in_bling": gettext_lazy("excluído no Bling"),
    "in_stock": gettext_lazy("tem estoque"),
    "staff_deactivated": gettext_lazy("inativado pela equipe"),
    "reactivated_by_hand": gettext_lazy("reativado à mão"),
    "still_sold_out": gettext_lazy("continua esgotado"),
    "restocked": gettext_lazy("estoque voltou"),
    "category_keeps": gettext_lazy("a categoria mantém ativos"),
    "has_variations": gettext_lazy("tem variações"),
    "manual_balance": gettext_lazy("zerado à mão"),
    "no_sales": gettext_lazy("sem vendas"),
    "cancelled_only": gettext_lazy("só vendas canceladas"),
    "never_stocked": gettext_lazy("nunca teve estoque"),
    "unexplained_exit": gettext_lazy("saída sem venda"),
    "sold_out_by_sales": gettext_lazy("esgotado por vendas"),
    "grace": gettext_lazy("em carência"),
    "kit_part_sold_out": gettext_lazy("componente do kit esgotado"),
    "kit_part_not_sold": gettext_lazy("componente do kit sem venda"),
    "kit_parts_back": gettext_lazy("componentes do kit voltaram"),
    "kit_part_still_out": gettext_lazy("componente do kit ainda esgotado"),
    "kit_without_parts": gettext_lazy("kit sem componentes"),
    "nfe": gettext_lazy("NF-e"),
    "nfce": gettext_lazy("NFC-e"),
}


# Coded values of some keys, in words.
VALUE_WORDS: dict[tuple[str, str], Any] = {
    ("situacao", "A"): gettext_lazy("ativo"),
    ("situacao", "I"): gettext_lazy("inativo"),
    ("situacao", "E"): gettext_lazy("excluído"),
    ("mode", "dry_run"): gettext_lazy("simulação"),
    ("mode", "live"): gettext_lazy("ao vivo"),
    ("mode", "paused"): gettext_lazy("pausado"),
    # runtime.DRY_RUN_ASKED / DRY_RUN_INSTALLATION
    ("dry_run_reason", "pedida"): gettext_lazy("pedida por quem executou"),
    ("dry_run_reason", "modo da instalação: simulação"): gettext_lazy(
        "modo da instalação: simulação"
    ),
}
# A run's cursor is stored as "<mode>: <reason>" (blingsync.sweep_cursor); the mode and the
# fixed reasons are put in the reader's language, a reason with dates or names stays as
# written.
_CURSOR_WORDS: dict[str, Any] = {
    "completa": gettext_lazy("completa"),
    "incremental": gettext_lazy("incremental"),
    "desde a data pedida": gettext_lazy("desde a data pedida"),
    "varredura completa pedida": gettext_lazy("varredura completa pedida"),
    "nenhuma execução completa ao vivo anterior": gettext_lazy(
        "nenhuma execução completa ao vivo anterior"
    ),
}


def _cursor_text(value: str) -> str:
    mode, sep, reason = value.partition(": ")
    if not sep or mode not in _CURSOR_WORDS:
        return value
    return f"{_CURSOR_WORDS[mode]}: {_CURSOR_WORDS.get(reason, reason)}"


def detail_label(key: str) -> str:
    """The words for a details key; an unknown key humanised ("foo_bar" -> "foo bar")."""
    label = LABELS.get(key)
    return str(label) if label is not None else key.replace("_", " ")


def detail_value_text(value: Any, *, key: str = "") -> str:
    """A value in words: yes/no, local date and time, numbers with the locale's separators,
    seconds as a duration; nested values flattened to "label: value" pieces."""
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return _("sim") if value else _("não")
    if key == "duration_seconds" and isinstance(value, int | float):
        return duration_format(value)
    if isinstance(value, int | float):
        return formats.number_format(value, force_grouping=True)
    if isinstance(value, datetime):
        return _datetime_text(value)
    if isinstance(value, str) and (key, value) in VALUE_WORDS:
        return str(VALUE_WORDS[(key, value)])
    if isinstance(value, str) and key == "cursor":
        return _cursor_text(value)
    if isinstance(value, str):
        parsed = parse_datetime(value) if len(value) >= 16 and value[:4].isdigit() else None
        return _datetime_text(parsed) if parsed else value
    if isinstance(value, Mapping):
        if not value:
            return "—"
        return "; ".join(
            f"{detail_label(str(k))}: {detail_value_text(v, key=str(k))}" for k, v in value.items()
        )
    if isinstance(value, list | tuple):
        return ", ".join(detail_value_text(v) for v in value) if value else "—"
    return str(value)


def _datetime_text(value: datetime) -> str:
    if timezone.is_aware(value):
        value = timezone.localtime(value)
    return formats.date_format(value, "SHORT_DATETIME_FORMAT")


def details_table_html(values: Mapping[str, Any] | None) -> str:
    """A two-column table (label, value) of a run's details or parameters; "—" when empty."""
    if not values:
        return "—"
    rows = []
    for key, value in values.items():
        if isinstance(value, Mapping) and value:
            inner = format_html_join(
                "",
                "<li>{}: {}</li>",
                (
                    (capfirst(detail_label(str(k))), detail_value_text(v, key=str(k)))
                    for k, v in value.items()
                ),
            )
            rendered = format_html('<ul style="margin: 0; padding-left: 1em">{}</ul>', inner)
        else:
            rendered = format_html("{}", detail_value_text(value, key=key))
        rows.append((capfirst(detail_label(key)), rendered))
    body = format_html_join("", '<tr><th scope="row">{}</th><td>{}</td></tr>', rows)
    return format_html('<table class="run-details">{}</table>', body)
