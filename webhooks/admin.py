"""Admin of the webhook inbox: what Bling (or anyone) sent, what became of it, and
"reprocess" (queued, never run inside the request)."""

from __future__ import annotations

import json

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from blingsync.admin.readonly import ReadOnlyAdminMixin
from blingsync.permissions import REPROCESS_EVENTS, permission_require
from webhooks.maintenance import events_reprocess
from webhooks.models import WebhookEvent

# Bling's event names ("stock.updated") in the staff's words.
_EVENT_RESOURCES = {
    "product": _("produto"),
    "stock": _("estoque"),
    "virtual_stock": _("estoque virtual"),
    "order": _("pedido"),
    "invoice": _("NF-e"),
    "consumer_invoice": _("NFC-e"),
}
_EVENT_ACTIONS = {"created": _("criado"), "updated": _("alterado"), "deleted": _("excluído")}


def event_type_words(event_type: str) -> str:
    """ "stock.updated" -> "estoque: alterado"; an unknown name as Bling sent it."""
    resource, _dot, action = event_type.partition(".")
    if resource in _EVENT_RESOURCES and action in _EVENT_ACTIONS:
        return f"{_EVENT_RESOURCES[resource]}: {_EVENT_ACTIONS[action]}"
    return event_type


class _EventTypeFilter(admin.SimpleListFilter):
    title = _("tipo")
    parameter_name = "event_type"

    def lookups(self, request, model_admin):
        types = WebhookEvent.objects.order_by("event_type").values_list("event_type", flat=True)
        return [(t, event_type_words(t)) for t in types.distinct()]

    def queryset(self, request, queryset):
        return queryset.filter(event_type=self.value()) if self.value() else queryset


@admin.register(WebhookEvent)
class WebhookEventAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = (
        "received_at",
        "event_type_display",
        "status_label",
        "ignore_reason",
        "signature_valid",
        "http_status",
        "attempts",
        "resource_id",
        "event_id",
        "note",
    )

    @admin.display(description=_("tipo"), ordering="event_type")
    def event_type_display(self, obj: WebhookEvent) -> str:
        return event_type_words(obj.event_type)

    list_filter = (
        "status",
        "ignore_reason",
        _EventTypeFilter,
        "signature_valid",
        "http_status",
        "echo",
        "received_at",
    )
    search_fields = ("=event_id", "=resource_id")
    date_hierarchy = "received_at"
    actions = ["reprocess"]
    list_per_page = 100
    show_full_result_count = False  # the inbox can hold many rows; counting them all is slow
    # Viewing the detail page is allowed through view permission; saving is not. Deleting is
    # left to the model's delete permission (retention deletes old events anyway).
    deletable = True
    fieldsets = (
        (
            None,
            {
                "fields": (
                    "event_id",
                    "event_type",
                    "status_label",
                    "ignore_reason",
                    "note",
                    "echo",
                    "resource_id",
                    "company_id",
                    "event_date",
                    "received_at",
                    "processed_at",
                )
            },
        ),
        (
            _("Tentativas"),
            {
                "fields": (
                    "attempts",
                    "next_attempt_at",
                    "claimed_at",
                    "recover_at",
                    "last_error",
                )
            },
        ),
        (
            _("Requisição recebida"),
            {
                "fields": (
                    "signature_valid",
                    "http_status",
                    "remote_addr",
                    "remote_network",
                    "body_size",
                    "body_sha256",
                    "payload_pretty",
                    "headers_pretty",
                )
            },
        ),
    )

    def get_readonly_fields(self, request, obj=None):
        # The inbox is evidence: nothing in it is edited by hand.
        return [f.name for f in self.model._meta.fields] + [
            "status_label",
            "payload_pretty",
            "headers_pretty",
        ]

    @admin.display(description=_("situação"), ordering="status")
    def status_label(self, obj: WebhookEvent) -> str:
        if obj.retry_scheduled:
            assert obj.next_attempt_at is not None  # what `retry_scheduled` means
            return _("falhou, nova tentativa às %(when)s") % {
                "when": obj.next_attempt_at.strftime("%H:%M:%S")
            }
        return obj.get_status_display()

    @admin.display(description=_("conteúdo (payload)"))
    def payload_pretty(self, obj: WebhookEvent) -> str:
        try:
            text = json.dumps(json.loads(obj.body), indent=2, ensure_ascii=False)
        except (ValueError, RecursionError):  # not JSON, a refused body's head, too deep
            text = obj.body
        return format_html('<pre style="white-space: pre-wrap; margin: 0">{}</pre>', text or "—")

    @admin.display(description=_("cabeçalhos"))
    def headers_pretty(self, obj: WebhookEvent) -> str:
        text = json.dumps(obj.headers or {}, indent=2, ensure_ascii=False, sort_keys=True)
        return format_html('<pre style="white-space: pre-wrap; margin: 0">{}</pre>', text)

    def has_reprocess_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm(REPROCESS_EVENTS)

    @admin.action(
        description=_("Reprocessar os eventos selecionados (na fila)"), permissions=["reprocess"]
    )
    def reprocess(self, request: HttpRequest, queryset: QuerySet[WebhookEvent]) -> None:
        permission_require(request, REPROCESS_EVENTS)
        selected = list(queryset.values_list("pk", flat=True))
        queued = events_reprocess(event_ids=selected)
        left = len(selected) - queued
        self.message_user(
            request,
            ngettext(
                "%(n)d evento colocado na fila para reprocessar.",
                "%(n)d eventos colocados na fila para reprocessar.",
                queued,
            )
            % {"n": queued},
            messages.SUCCESS if queued else messages.WARNING,
        )
        if left:
            self.message_user(
                request,
                ngettext(
                    "%(n)d evento não foi reprocessado (recusado, ignorado pelo envelope ou em "
                    "processamento agora).",
                    "%(n)d eventos não foram reprocessados (recusados, ignorados pelo envelope ou "
                    "em processamento agora).",
                    left,
                )
                % {"n": left},
                messages.WARNING,
            )
