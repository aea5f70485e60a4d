"""Admin of code counters and code assignments.

Counters: staff may raise one (or add one for a new prefix); never below the highest number
already handed out (the form shows the reason). Every change is audited
(`counter_adjusted`). Assignments are read-only: what was given to which product, whether
Bling has it, and why not; a button queues a code sweep, which retries the failed ones
with the same code.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import Max, QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import path
from django.utils.translation import gettext_lazy as _

from blingsync.admin.readonly import ReadOnlyAdminMixin
from blingsync.jobrunner import job_run_queue
from blingsync.models import AuditLog, JobRun
from blingsync.permissions import RAISE_COUNTERS, RUN_LIVE, permission_require
from products.code_rules import code_format
from products.codes import counter_raise, counter_value_check
from products.models import CodeAssignment, CodeCounter
from products.models.categories import prefix_validator
from products.plans import counters_seeded
from products.product_names import product_name_html, product_names_annotate


class CodeCounterForm(forms.ModelForm):
    class Meta:
        model = CodeCounter
        fields = ["prefix", "last_value"]
        help_texts = {
            "last_value": _(
                "O próximo código usa este número + 1. Não pode ficar abaixo do maior número "
                "já atribuído."
            ),
        }

    def clean_prefix(self) -> str:
        prefix = self.cleaned_data["prefix"].strip().upper()
        prefix_validator(prefix)
        return prefix

    def clean(self):
        cleaned = super().clean()
        # ModelForm.clean returns `cleaned_data`, never None (django-stubs allows a form's None).
        assert cleaned is not None
        prefix = cleaned.get("prefix") or (self.instance.prefix if self.instance.pk else "")
        value = cleaned.get("last_value")
        if prefix and value is not None:
            try:
                counter_value_check(prefix=prefix, value=value)
            except forms.ValidationError as exc:
                self.add_error("last_value", exc)
        return cleaned


@admin.register(CodeCounter)
class CodeCounterAdmin(admin.ModelAdmin):
    form = CodeCounterForm
    change_list_template = "admin/products/codecounter/change_list.html"
    list_display = ["prefix", "last_value", "next_code", "highest_assigned", "updated_at"]
    search_fields = ["prefix"]
    ordering = ["prefix"]

    def get_readonly_fields(self, request: HttpRequest, obj=None):
        return ["prefix"] if obj is not None else []

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False  # a deleted counter would start again at 1

    def has_add_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm(RAISE_COUNTERS)

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return request.user.has_perm(RAISE_COUNTERS)

    @admin.display(description=_("próximo código"))
    def next_code(self, obj: CodeCounter) -> str:
        return code_format(obj.prefix, obj.last_value + 1)

    @admin.display(description=_("maior código atribuído"))
    def highest_assigned(self, obj: CodeCounter) -> str:
        highest = CodeAssignment.objects.filter(prefix=obj.prefix).aggregate(m=Max("number"))["m"]
        return code_format(obj.prefix, highest) if highest else "—"

    def changelist_view(self, request: HttpRequest, extra_context=None) -> HttpResponse:
        extra_context = {
            **(extra_context or {}),
            "may_seed": request.user.has_perm(RUN_LIVE),
            "seeded": counters_seeded(),
        }
        return super().changelist_view(request, extra_context)

    def get_urls(self):
        custom = [
            path(
                "seed/",
                self.admin_site.admin_view(self.seed_view),
                name="products_codecounter_seed",
            )
        ]
        return custom + super().get_urls()

    def seed_view(self, request: HttpRequest) -> HttpResponse:
        """ "Semear contadores" (POST): queue a `seed_counters` run. It reads Bling and raises
        counters, writing nothing to Bling, so it runs in dry-run mode too (not when paused);
        the live-run permission, as for the command (SPEC 5.8)."""
        if request.method != "POST" or not self.has_view_permission(request):
            raise PermissionDenied
        permission_require(request, RUN_LIVE)
        run = job_run_queue(
            kind="seed_counters",
            trigger=JobRun.Trigger.ADMIN,
            requested_by=request.user.get_username(),
        )
        self.message_user(
            request,
            _(
                "Semear contadores colocado na fila (execução #%(id)s): lê os códigos já usados "
                "no Bling e sobe cada contador; nada é gravado no Bling."
            )
            % {"id": run.pk},
            messages.SUCCESS,
        )
        return redirect("admin:products_codecounter_changelist")

    def save_model(self, request, obj, form, change):
        permission_require(request, RAISE_COUNTERS)
        counter = counter_raise(
            prefix=obj.prefix,
            value=obj.last_value,
            actor=request.user.get_username(),
            source=AuditLog.Source.ADMIN,
        )
        obj.pk = counter.pk
        obj.updated_at = counter.updated_at


class _PrefixFilter(admin.SimpleListFilter):
    title = _("prefixo")
    parameter_name = "prefix"

    def lookups(self, request, model_admin):
        prefixes = CodeAssignment.objects.values_list("prefix", flat=True).distinct()
        return [(p, p) for p in sorted(prefixes)]

    def queryset(self, request, queryset):
        if self.value():
            return queryset.filter(prefix=self.value())
        return queryset


@admin.register(CodeAssignment)
class CodeAssignmentAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    # Read-only: deleting would let the product (or the code) be given again.
    list_display = [
        "code",
        "product_display",
        "parent_product_id",
        "status",
        "attempts",
        "rule",
        "error_short",
        "updated_at",
    ]
    list_filter = ["status", _PrefixFilter, "created_at"]
    search_fields = ["code", "=bling_product_id", "=parent_product_id"]
    search_help_text = _("Busque pelo código ou pelo id do produto no Bling.")
    date_hierarchy = "created_at"
    actions = ["sweep_now"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[CodeAssignment]:
        return product_names_annotate(queryset=super().get_queryset(request))

    @admin.display(description=_("produto"), ordering="bling_product_id")
    def product_display(self, obj: CodeAssignment) -> str:
        return product_name_html(obj)

    readonly_fields = [
        "bling_product_id",
        "parent_product_id",
        "code",
        "prefix",
        "number",
        "status",
        "attempts",
        "rule",
        "error",
        "created_at",
        "updated_at",
        "applied_at",
    ]

    @admin.display(description=_("erro"))
    def error_short(self, obj: CodeAssignment) -> str:
        return (obj.error[:80] + "…") if len(obj.error) > 80 else obj.error

    def has_sweep_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm(RUN_LIVE)

    @admin.action(
        description=_("Rodar a varredura de códigos agora (tenta de novo os que falharam)"),
        permissions=["sweep"],
    )
    def sweep_now(self, request: HttpRequest, queryset: QuerySet) -> None:
        permission_require(request, RUN_LIVE)
        run = job_run_queue(
            kind="codes", trigger=JobRun.Trigger.ADMIN, requested_by=request.user.get_username()
        )
        self.message_user(
            request,
            _("Varredura de códigos enfileirada (execução #%(id)s).") % {"id": run.pk},
            messages.SUCCESS,
        )
