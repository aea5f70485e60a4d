"""Admin of the audit log: read-only, filtered by the rule that decided, exported as CSV (the
selected entries, or the whole list as filtered) by who may export it."""

from __future__ import annotations

from typing import cast

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from blingsync.admin.audit_csv import audit_csv_response
from blingsync.admin.jobs import job_run_plan_of
from blingsync.admin.readonly import ReadOnlyAdminMixin
from blingsync.audit_reasons import audit_reason_text, reason_rule_label, reason_rules
from blingsync.models import AuditLog
from blingsync.permissions import EXPORT_AUDIT, permission_require
from blingsync.run_details import details_table_html
from blingsync.templatetags.blingsync_audit import audit_product_html


class ReasonRuleFilter(admin.SimpleListFilter):
    """Filter by the rule that decided (the registered reasons, by their names)."""

    title = _("regra")
    parameter_name = "reason_rule"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list[tuple]:
        used = set(
            AuditLog.objects.exclude(reason_rule="")
            .values_list("reason_rule", flat=True)
            .distinct()
        )
        known = [(r.key, r.label) for r in reason_rules() if r.key in used]
        return known + [(key, key) for key in sorted(used - {k for k, _l in known})]

    def queryset(self, request: HttpRequest, queryset: QuerySet[AuditLog]) -> QuerySet[AuditLog]:
        value = self.value()
        return queryset.filter(reason_rule=value) if value else queryset


@admin.register(AuditLog)
class AuditLogAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    change_list_template = "admin/blingsync/auditlog/change_list.html"
    # Narrow columns first, the reason (the widest) next to the product it is about.
    list_display = [
        "created_display",
        "action",
        "product_display",
        "reason_short",
        "outcome",
        "origin_display",
    ]
    list_display_links = ["created_display"]
    list_filter = [
        "action",
        ReasonRuleFilter,
        "source",
        "dry_run",
        "outcome",
        "created_at",
        "job_run__kind",
    ]
    date_hierarchy = "created_at"
    search_fields = ["=bling_product_id", "code", "product_code", "product_name"]
    search_help_text = _("Busque pelo nome do produto, pelo código ou pelo id no Bling.")
    list_select_related = ["job_run"]
    actions = ["export_csv"]
    fields = [
        "created_at",
        "completed_at",
        "action",
        "product_display",
        "bling_product_id",
        "code",
        "before_display",
        "after_display",
        "reason_display",
        "reason_rule_display",
        "reason_data_display",
        "source",
        "source_ref",
        "actor",
        "job_run",
        "origin_display",
        "dry_run",
        "outcome",
        "error",
    ]
    # Plain names only (no groups), so the same list serves as readonly_fields; django-stubs
    # types `fields` as possibly grouped.
    readonly_fields = cast("list[str]", fields)

    def has_export_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm(EXPORT_AUDIT)

    @admin.display(description=_("quando"), ordering="created_at")
    def created_display(self, obj: AuditLog) -> str:
        return timezone.localtime(obj.created_at).strftime("%d/%m/%Y %H:%M:%S")

    @admin.display(description=_("origem"), ordering="source")
    def origin_display(self, obj: AuditLog) -> str:
        """Where it came from: the job run (linked) or the source, and who."""
        if obj.job_run_id:
            url = reverse("admin:blingsync_jobrun_change", args=[obj.job_run_id])
            job_run = obj.job_run
            assert job_run is not None  # job_run_id is set
            origin = format_html(
                '<a href="{}">{} #{}</a>', url, job_run.get_kind_display(), obj.job_run_id
            )
        else:
            origin = format_html("{}", obj.get_source_display())
        plan_run = job_run_plan_of(obj.job_run) if obj.job_run is not None else None
        if plan_run is not None:
            origin = format_html(
                '{} · <a href="{}">{}</a>',
                origin,
                reverse("admin:products_plan", args=[plan_run]),
                gettext("plano #%(id)d") % {"id": plan_run},
            )
        if obj.actor:
            origin = format_html('{}<br><span class="quiet">{}</span>', origin, obj.actor)
        return origin

    @admin.display(description=_("produto"), ordering="product_name")
    def product_display(self, obj: AuditLog) -> str:
        return audit_product_html(obj)

    @admin.display(description=_("motivo"))
    def reason_short(self, obj: AuditLog) -> str:
        text = obj.error or audit_reason_text(obj)
        return text if len(text) <= 120 else text[:119] + "…"

    @admin.display(description=_("motivo"))
    def reason_display(self, obj: AuditLog) -> str:
        return audit_reason_text(obj) or "—"

    @admin.display(description=_("regra"))
    def reason_rule_display(self, obj: AuditLog) -> str:
        if not obj.reason_rule:
            return "—"
        return f"{reason_rule_label(obj.reason_rule)} ({obj.reason_rule})"

    @admin.display(description=_("dados do motivo"))
    def reason_data_display(self, obj: AuditLog) -> str:
        return details_table_html(obj.reason_data)

    @admin.display(description=_("antes"))
    def before_display(self, obj: AuditLog) -> str:
        return details_table_html(obj.before)

    @admin.display(description=_("depois"))
    def after_display(self, obj: AuditLog) -> str:
        return details_table_html(obj.after)

    @admin.action(description=_("Exportar as entradas selecionadas em CSV"), permissions=["export"])
    def export_csv(
        self, request: HttpRequest, queryset: QuerySet[AuditLog]
    ) -> StreamingHttpResponse:
        permission_require(request, EXPORT_AUDIT)
        return audit_csv_response(queryset.order_by("created_at", "id"))

    def changelist_view(self, request: HttpRequest, extra_context=None) -> HttpResponse:
        extra_context = {**(extra_context or {}), "may_export": self.has_export_permission(request)}
        return super().changelist_view(request, extra_context)

    def get_urls(self):
        custom = [
            path(
                "export-csv/",
                self.admin_site.admin_view(self.export_csv_view),
                name="blingsync_auditlog_export_csv",
            ),
        ]
        return custom + super().get_urls()

    def export_csv_view(self, request: HttpRequest) -> StreamingHttpResponse:
        """The whole list as currently filtered and searched (same query string)."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        permission_require(request, EXPORT_AUDIT)
        changelist = self.get_changelist_instance(request)
        queryset = changelist.get_queryset(request).order_by("created_at", "id")
        return audit_csv_response(queryset)
