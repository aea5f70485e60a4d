"""Admin of the sold-out evidence: stock movements, sale lines and, per product, the evidence
and every decision taken on it ("why was this product deactivated?").

The ledger is read-only here: it is what Bling told blingsync. Staff can ask for a product to
be evaluated again (as a stock event asks: through its debounce row, never while paused) and
can take a product away from automatic reactivation. Reasons are sentences made from the
decision's rule and facts (`products.reasons`) in the reader's language.
"""

from __future__ import annotations

from typing import cast

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.html import format_html, format_html_join
from django.utils.http import urlencode
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from blingsync.admin.readonly import ReadOnlyAdminMixin
from blingsync.audit import audit_record
from blingsync.audit_reasons import audit_reason_text, reason_sentence
from blingsync.bling.weblinks import bling_product_html, bling_product_url
from blingsync.models import AuditLog, RuntimeSettings
from blingsync.permissions import EDIT_RULES, RUN_LIVE, permission_require
from blingsync.runtime import mode_is_paused
from products.kits import kit_part_sales
from products.models import ProductStockState, SaleLine, StockMovement
from products.product_names import product_name_html, product_names_annotate
from products.soldout import EVIDENCE_WINDOW
from products.stock_evaluations import stock_evaluation_request

_EVIDENCE_ROWS = 30
_AUDIT_ACTIONS = (
    AuditLog.Action.PRODUCT_DEACTIVATED,
    AuditLog.Action.PRODUCT_REACTIVATED,
    AuditLog.Action.SOLD_OUT_KEPT,
)


def _changelist(model: str, **params: str | int) -> str:
    return reverse(f"admin:{model}_changelist") + "?" + urlencode(params)


def _amount(value) -> str:
    if value is None:
        return "—"
    normalized = value.normalize()
    return str(int(normalized)) if normalized == normalized.to_integral() else str(normalized)


@admin.register(StockMovement)
class StockMovementAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = [
        "occurred_at",
        "product_link",
        "operation",
        "quantity_display",
        "virtual_total_display",
        "physical_total_display",
        "deposit_id",
        "event_type",
    ]
    list_filter = ["operation", "event_type", "occurred_at"]
    date_hierarchy = "occurred_at"
    search_fields = ["=bling_product_id", "=event_id"]
    search_help_text = _("Busque pelo id do produto no Bling ou pelo id do evento.")

    def get_queryset(self, request: HttpRequest) -> QuerySet[StockMovement]:
        return product_names_annotate(queryset=super().get_queryset(request))

    @admin.display(description=_("produto"), ordering="bling_product_id")
    def product_link(self, obj: StockMovement) -> str:
        return product_name_html(obj)

    @admin.display(description=_("quantidade"), ordering="quantity")
    def quantity_display(self, obj: StockMovement) -> str:
        return _amount(obj.quantity)

    @admin.display(description=_("saldo disponível depois"), ordering="virtual_total")
    def virtual_total_display(self, obj: StockMovement) -> str:
        return _amount(obj.virtual_total)

    @admin.display(description=_("saldo físico depois"), ordering="physical_total")
    def physical_total_display(self, obj: StockMovement) -> str:
        return _amount(obj.physical_total)


@admin.register(SaleLine)
class SaleLineAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = [
        "order_date",
        "document_display",
        "product_display",
        "quantity_display",
        "situation_name",
        "counted",
    ]
    list_filter = ["source", "counted", "situation_name", "order_date"]
    date_hierarchy = "order_date"
    search_fields = ["=bling_product_id", "=order_id", "=order_number", "product_code"]
    search_help_text = _(
        "Busque pelo id do produto, pelo documento (pedido ou nota fiscal: id ou número) ou "
        "pelo código."
    )

    @admin.display(description=_("documento"), ordering="order_id")
    def document_display(self, obj: SaleLine) -> str:
        return f"{sale_document(obj)} ({obj.order_id})"

    def get_queryset(self, request: HttpRequest) -> QuerySet[SaleLine]:
        return product_names_annotate(queryset=super().get_queryset(request))

    @admin.display(description=_("produto"), ordering="bling_product_id")
    def product_display(self, obj: SaleLine) -> str:
        """Name and code as blingsync knows them (the line's own code first), the Bling id
        when it never read the product; linking to the product's evidence page."""
        return product_name_html(obj, code=obj.product_code)

    @admin.display(description=_("quantidade"), ordering="quantity")
    def quantity_display(self, obj: SaleLine) -> str:
        return _amount(obj.quantity)


class _DeactivatedByFilter(admin.SimpleListFilter):
    title = _("quem inativou")
    parameter_name = "by"

    def lookups(self, request, model_admin):
        return [("blingsync", _("inativado pelo blingsync")), ("other", _("outros"))]

    def queryset(self, request, queryset):
        if self.value() == "blingsync":
            return queryset.filter(deactivated_by_blingsync=True)
        if self.value() == "other":
            return queryset.filter(deactivated_by_blingsync=False)
        return queryset


@admin.register(ProductStockState)
class ProductStockStateAdmin(admin.ModelAdmin):
    list_display = [
        "bling_product_id",
        "code",
        "name_display",
        "situation",
        "available_display",
        "last_verdict",
        "reason_short",
        "deactivated_by_blingsync",
        "sold_out_since",
        "last_evaluated_at",
    ]
    list_filter = [
        "last_verdict",
        "last_rule",
        _DeactivatedByFilter,
        "situation",
        "last_evaluated_at",
    ]
    search_fields = ["=bling_product_id", "code", "name"]
    search_help_text = _("Busque pelo id do produto no Bling, pelo código ou pelo nome.")
    actions = ["evaluate_again", "stop_reactivation"]
    fieldsets = [
        (
            _("Produto"),
            {"fields": ["bling_product_id", "code", "name", "category_id", "situation"]},
        ),
        (
            _("Última decisão"),
            {
                "fields": [
                    "last_verdict",
                    "last_rule",
                    "last_reason_display",
                    "last_evaluated_at",
                    "available_stock",
                    "sold_out_since",
                    "last_positive_at",
                    "last_positive_stock",
                    "deactivated_by_blingsync",
                    "deactivated_at",
                    "reactivated_at",
                ]
            },
        ),
        (
            _("Evidências e decisões"),
            {"fields": ["decisions_table", "movements_table", "sales_table", "links"]},
        ),
    ]
    # Everything shown is evidence or a past decision: read-only, listed once (above).
    # cast: each entry of these fieldsets is one field name (django-stubs also allows groups).
    readonly_fields = [cast(str, name) for _title, box in fieldsets for name in box["fields"]]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    @admin.display(description=_("produto"), ordering="name")
    def name_display(self, obj: ProductStockState) -> str:
        return bling_product_html(product_id=obj.bling_product_id, name=obj.name)

    @admin.display(description=_("saldo disponível"), ordering="available_stock")
    def available_display(self, obj: ProductStockState) -> str:
        return _amount(obj.available_stock)

    @admin.display(description=_("motivo"))
    def reason_short(self, obj: ProductStockState) -> str:
        text = _state_reason(obj)
        return text if len(text) <= 90 else text[:89] + "…"

    @admin.display(description=_("motivo da última decisão"))
    def last_reason_display(self, obj: ProductStockState) -> str:
        return _state_reason(obj) or "—"

    @admin.display(description=_("decisões (auditoria)"))
    def decisions_table(self, obj: ProductStockState) -> str:
        entries = AuditLog.objects.filter(
            bling_product_id=obj.bling_product_id, action__in=_AUDIT_ACTIONS
        ).order_by("-created_at", "-id")[:_EVIDENCE_ROWS]
        rows = [
            (
                reverse("admin:blingsync_auditlog_change", args=[e.pk]),
                timezone.localtime(e.created_at).strftime("%d/%m/%Y %H:%M"),
                e.get_action_display(),
                e.get_outcome_display(),
                e.get_source_display(),
                e.error or audit_reason_text(e),
            )
            for e in entries
        ]
        return _table(
            [_("quando"), _("ação"), _("resultado"), _("origem"), _("motivo")],
            rows,
            '<tr><td><a href="{}">{}</a></td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>',
        )

    @admin.display(description=_("movimentos de estoque"))
    def movements_table(self, obj: ProductStockState) -> str:
        movements = StockMovement.objects.filter(bling_product_id=obj.bling_product_id)[
            :_EVIDENCE_ROWS
        ]
        rows = [
            (
                timezone.localtime(m.occurred_at).strftime("%d/%m/%Y %H:%M"),
                m.get_operation_display(),
                _amount(m.quantity),
                _amount(m.virtual_total),
                _amount(m.physical_total),
                m.deposit_id or "—",
            )
            for m in movements
        ]
        return _table(
            [
                _("quando"),
                _("operação"),
                _("quantidade"),
                _("disponível"),
                _("físico"),
                _("depósito"),
            ],
            rows,
            "<tr>" + "<td>{}</td>" * 6 + "</tr>",
        )

    @admin.display(description=_("vendas (pedidos e notas fiscais)"))
    def sales_table(self, obj: ProductStockState) -> str:
        lines = list(
            SaleLine.objects.filter(bling_product_id=obj.bling_product_id)[:_EVIDENCE_ROWS]
        )
        orders = _order_numbers({line.sale_order_id for line in lines if line.sale_order_id})
        rows: list[tuple] = [
            (
                line.order_date,
                sale_document(line),
                _amount(line.quantity),
                line.situation_name or "—",
                _sale_counts(line, orders),
            )
            for line in lines
        ]
        rows = _with_kit_sales(rows, obj.bling_product_id)
        rows = [(day.strftime("%d/%m/%Y"), *rest) for day, *rest in rows]
        return _table(
            [_("data"), _("venda"), _("quantidade"), _("situação"), _("conta como venda")],
            rows,
            "<tr>" + "<td>{}</td>" * 5 + "</tr>",
        )

    @admin.display(description=_("ver tudo"))
    def links(self, obj: ProductStockState) -> str:
        pid = obj.bling_product_id
        return format_html(
            '<a href="{}" target="_blank" rel="noopener noreferrer">{}</a> · '
            '<a href="{}">{}</a> · <a href="{}">{}</a> · <a href="{}">{}</a>',
            bling_product_url(pid),
            _("abrir no Bling"),
            _changelist("blingsync_auditlog", bling_product_id=pid),
            _("auditoria do produto"),
            _changelist("products_stockmovement", bling_product_id=pid),
            _("todos os movimentos"),
            _changelist("products_saleline", bling_product_id=pid),
            _("todos os itens vendidos"),
        )

    def has_evaluate_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm(RUN_LIVE)

    def has_edit_rules_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm(EDIT_RULES)

    @admin.action(description=_("Reavaliar agora (na fila)"), permissions=["evaluate"])
    def evaluate_again(self, request: HttpRequest, queryset: QuerySet[ProductStockState]) -> None:
        """Ask for an evaluation as a stock event does (`stock_evaluation_request`): through
        the product's debounce row, evaluated when its window passes, and nothing at all
        while blingsync is paused."""
        # A re-evaluation may deactivate or reactivate the product in Bling: a live run.
        permission_require(request, RUN_LIVE)
        if mode_is_paused():
            self.message_user(
                request,
                _(
                    "O blingsync está pausado: nenhum produto foi reavaliado nem posto na fila. "
                    "Mude o modo para reavaliar."
                ),
                messages.WARNING,
            )
            return
        ids = list(queryset.values_list("bling_product_id", flat=True))
        for pid in ids:
            stock_evaluation_request(product_id=pid)
        self.message_user(
            request,
            ngettext(
                "%(n)d produto na fila de reavaliação (avaliado em até %(seconds)d s, como um "
                "evento de estoque).",
                "%(n)d produtos na fila de reavaliação (avaliados em até %(seconds)d s, como "
                "um evento de estoque).",
                len(ids),
            )
            % {"n": len(ids), "seconds": RuntimeSettings.load().stock_debounce_seconds},
            messages.SUCCESS,
        )

    @admin.action(
        description=_("Não reativar automaticamente (tratar como inativado pela equipe)"),
        permissions=["edit_rules"],
    )
    def stop_reactivation(
        self, request: HttpRequest, queryset: QuerySet[ProductStockState]
    ) -> None:
        permission_require(request, EDIT_RULES)
        changed = 0
        for state in queryset.filter(deactivated_by_blingsync=True):
            state.deactivated_by_blingsync = False
            state.save(update_fields=["deactivated_by_blingsync"])
            audit_record(
                action=AuditLog.Action.RULE_CHANGED,
                bling_product_id=state.bling_product_id,
                code=state.code,
                before={"inativado_pelo_blingsync": True},
                after={"inativado_pelo_blingsync": False},
                reason="a equipe pediu para não reativar automaticamente este produto",
                reason_rule="soldout.reactivation_stopped",
                reason_data={"actor": request.user.get_username()},
                product_name=state.name,
                product_code=state.code,
                source=AuditLog.Source.ADMIN,
                actor=request.user.get_username(),
            )
            changed += 1
        self.message_user(
            request,
            ngettext(
                "%(n)d produto não será mais reativado automaticamente.",
                "%(n)d produtos não serão mais reativados automaticamente.",
                changed,
            )
            % {"n": changed},
            messages.SUCCESS,
        )


def _state_reason(state: ProductStockState) -> str:
    """The last decision's reason in the reader's language, made from its rule and facts;
    the text stored at the time for a state written before the facts were kept."""
    if state.last_rule and state.last_reason_data:
        sentence = reason_sentence(rule=f"soldout.{state.last_rule}", data=state.last_reason_data)
        if sentence:
            return sentence
    return state.last_reason


def _with_kit_sales(rows: list[tuple], product_id: int) -> list[tuple]:
    """The product's own sale rows plus its sales inside kits that post on their parts
    ("vendido no kit X (pedido nº …)", quantity times the part's quantity in the kit),
    newest first."""
    since = timezone.localdate() - EVIDENCE_WINDOW
    kit_sales = list(kit_part_sales(part_ids=[product_id], since=since))
    orders = _order_numbers({k.line.sale_order_id for k in kit_sales if k.line.sale_order_id})
    kit_rows = [
        (
            k.line.order_date,
            _("vendido no kit %(kit)s (%(document)s)")
            % {"kit": k.kit_name, "document": sale_document(k.line)},
            _amount(k.quantity),
            k.line.situation_name or "—",
            _sale_counts(k.line, orders),
        )
        for k in kit_sales
    ]
    if not kit_rows:
        return rows
    merged = sorted(rows + kit_rows, key=lambda row: row[0], reverse=True)
    return merged[:_EVIDENCE_ROWS]


def sale_document(line: SaleLine) -> str:
    """ "pedido nº 123", "NF-e nº 45", "NFC-e nº 7" in the admin's language."""
    number = line.order_number or str(line.order_id)
    if line.source == SaleLine.Source.NFE:
        return _("NF-e nº %(numero)s") % {"numero": number}
    if line.source == SaleLine.Source.NFCE:
        return _("NFC-e nº %(numero)s") % {"numero": number}
    return _("pedido nº %(numero)s") % {"numero": number}


def _order_numbers(order_ids: set[int]) -> dict[int, str]:
    rows = SaleLine.objects.filter(source=SaleLine.Source.ORDER, order_id__in=order_ids)
    return {oid: number or str(oid) for oid, number in rows.values_list("order_id", "order_number")}


def _sale_counts(line: SaleLine, orders: dict[int, str]) -> str | Promise:
    if line.sale_order_id:
        number = orders.get(line.sale_order_id, str(line.sale_order_id))
        return _("uma venda com o pedido nº %(numero)s (contada uma vez)") % {"numero": number}
    if line.counted:
        return _("sim")
    if line.source == SaleLine.Source.ORDER:
        return _("não (cancelado)")
    return _("não (nota %(situacao)s)") % {"situacao": (line.situation_name or "?").lower()}


def _table(headers: list, rows: list[tuple], row_format: str) -> str:
    if not rows:
        return str(_("nenhum registro"))
    head = format_html_join("", "<th>{}</th>", ((h,) for h in headers))
    body = format_html_join("", row_format, rows)
    return format_html("<table><thead><tr>{}</tr></thead><tbody>{}</tbody></table>", head, body)
