"""The plan page (SPEC 5.14): per simulation run, what it would change and why; apply all or
the selected items ("Aplicar plano"); undo a run's deactivations ("Desfazer inativações").

URLs live on the plan items' admin (`/admin/products/planitem/...`):
- `plan/<run>/`: totals by action and category, warnings (counters not seeded, counter moved
  since the simulation), the searchable, filterable list with product names and reasons as
  sentences, what the simulation left alone (on demand, `?show=left`), the apply runs of the
  plan with their undo buttons;
- `plan/<run>/csv/`: the list as CSV (`;`, UTF-8 with BOM, for a pt-BR spreadsheet);
- `plan/<run>/apply/` (POST): queues a `plan` run (live-run permission);
- `undo/<run>/` (POST): queues an `undo` run of a live run or an applied plan (live-run
  permission).
Everything that writes is queued (`job_run_queue`), never run inside the request; staff
without the live-run permission see the page but no button, and a POST is refused (403).
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from typing import Any

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Q, QuerySet
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from blingsync.admin.readonly import ReadOnlyAdminMixin
from blingsync.admin.spreadsheet_cells import spreadsheet_cell_neutralise
from blingsync.audit_reasons import reason_rule_label
from blingsync.models import JobRun
from blingsync.permissions import RUN_LIVE, permission_require
from blingsync.run_details import details_table_html
from products.models import PlanItem, PlanLeftAlone
from products.plan_apply import PlanRefused, plan_apply_queue
from products.plan_text import plan_warnings
from products.plan_undo import UndoRefused, run_deactivated_ids, run_undo_queue, undo_refusal
from products.plans import (
    plan_item_reason,
    plan_refusal,
    plan_run_is_plan,
    plan_summary_text,
    plan_totals,
)

PAGE_SIZE = 200


def plan_items_filtered(*, run: JobRun, params: Any) -> QuerySet[PlanItem]:
    """The plan's items as the page's search and filters choose them."""
    items = PlanItem.objects.filter(run=run).order_by("position", "id")
    query = (params.get("q") or "").strip()
    if query:
        match = Q(name__icontains=query) | Q(code__icontains=query) | Q(proposed__icontains=query)
        match |= Q(category_name__icontains=query)
        if query.isdigit():
            match |= Q(bling_product_id=int(query))
        items = items.filter(match)
    for field in ("action", "status", "category_name"):
        value = params.get(field)
        if value:
            items = items.filter(**{field: value})
    return items


class _Echo:
    def write(self, value: str) -> str:
        return value


def plan_csv_rows(items: QuerySet[PlanItem]) -> Iterator[list[Any]]:
    yield [
        gettext("id do produto no Bling"),
        gettext("produto"),
        gettext("código atual no Bling"),
        gettext("categoria"),
        gettext("ação"),
        gettext("valor proposto"),
        gettext("motivo"),
        gettext("situação"),
        gettext("por quê"),
        gettext("valor gravado"),
    ]
    for item in items.iterator(chunk_size=1000):
        yield [
            spreadsheet_cell_neutralise(v)
            for v in (
                item.bling_product_id,
                item.name,
                item.code,
                item.category_name,
                item.get_action_display(),
                item.proposed,
                plan_item_reason(item),
                item.get_status_display(),
                item.status_reason,
                item.applied_value,
            )
        ]


def _apply_runs(run: JobRun) -> list[JobRun]:
    return list(JobRun.objects.filter(kind="plan", params__plan_run=run.pk).order_by("-id")[:20])


@admin.register(PlanItem)
class PlanItemAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = [
        "bling_product_id",
        "name",
        "action",
        "proposed",
        "status",
        "run_link",
        "applied_value",
    ]
    list_filter = ["action", "status"]
    search_fields = ["name", "code", "proposed", "=bling_product_id"]
    # The facts as a labelled table, not JSON (issue 25).
    readonly_fields = [
        "facts_display" if f.name == "facts" else f.name for f in PlanItem._meta.fields
    ]

    @admin.display(description=_("fatos"))
    def facts_display(self, obj: PlanItem) -> str:
        return details_table_html(obj.facts)

    @admin.display(description=_("plano"))
    def run_link(self, obj: PlanItem) -> str:
        return format_html(
            "<a href='{}'>#{}</a>", reverse("admin:products_plan", args=[obj.run_id]), obj.run_id
        )

    def get_urls(self):
        custom = [
            path(
                "plan/<int:run_id>/",
                self.admin_site.admin_view(self.plan_view),
                name="products_plan",
            ),
            path(
                "plan/<int:run_id>/csv/",
                self.admin_site.admin_view(self.plan_csv_view),
                name="products_plan_csv",
            ),
            path(
                "plan/<int:run_id>/apply/",
                self.admin_site.admin_view(self.plan_apply_view),
                name="products_plan_apply",
            ),
            path(
                "undo/<int:run_id>/",
                self.admin_site.admin_view(self.run_undo_view),
                name="products_run_undo",
            ),
        ]
        return custom + super().get_urls()

    def _plan_run(self, request: HttpRequest, run_id: int) -> JobRun:
        if not self.has_view_permission(request):
            raise PermissionDenied
        run = get_object_or_404(JobRun, pk=run_id)
        if not plan_run_is_plan(run):
            raise PermissionDenied
        return run

    def plan_view(self, request: HttpRequest, run_id: int) -> HttpResponse:
        run = self._plan_run(request, run_id)
        totals = plan_totals(run=run)
        items = plan_items_filtered(run=run, params=request.GET)
        page = Paginator(items, PAGE_SIZE).get_page(request.GET.get("p"))
        refusal = plan_refusal(run=run)
        may_run_live = request.user.has_perm(RUN_LIVE)
        actions = dict(PlanItem.Action.choices)
        apply_runs = [
            {
                "run": r,
                "deactivated": len(run_deactivated_ids(run=r)),
                "may_undo": may_run_live and not undo_refusal(run=r),
            }
            for r in _apply_runs(run)
        ]
        left = None
        if request.GET.get("show") == "left":
            left = PlanLeftAlone.objects.filter(run=run).order_by("reason_key", "id")[:2000]
        context = {
            **self.admin_site.each_context(request),
            "opts": PlanItem._meta,
            "title": gettext("Plano #%(id)d") % {"id": run.pk},
            "run": run,
            "summary": plan_summary_text(by_action=totals["by_action"]),
            "by_action": [(actions.get(k, k), n) for k, n in totals["by_action"].items()],
            "by_status": [
                (dict(PlanItem.Status.choices).get(k, k), n) for k, n in totals["by_status"].items()
            ],
            "by_category": [
                {
                    "category": row["category_name"],
                    "action": actions.get(row["action"]),
                    "n": row["n"],
                }
                for row in totals["by_category"]
            ],
            "left_alone": [
                (reason_rule_label(f"soldout.{k}") if run.kind == "stock" else k, k, n)
                for k, n in sorted(totals["left_alone"].items())
            ],
            "left": left,
            "warnings": plan_warnings(run=run),
            "unseeded": (run.details.get("plan") or {}).get("counters_seeded") is False,
            "refusal": refusal,
            "may_apply": may_run_live and not refusal,
            "may_run_live": may_run_live,
            "page": page,
            "rows": [{"item": i, "reason": plan_item_reason(i)} for i in page.object_list],
            "filters": {
                k: request.GET.get(k, "") for k in ("q", "action", "status", "category_name")
            },
            "action_choices": PlanItem.Action.choices,
            "status_choices": PlanItem.Status.choices,
            "categories": sorted({row["category_name"] for row in totals["by_category"]} - {""}),
            "apply_runs": apply_runs,
            "pending": PlanItem.objects.filter(run=run, status=PlanItem.Status.PENDING).count(),
            "query": request.GET.urlencode(),
        }
        return TemplateResponse(request, "admin/products/plan.html", context)

    def plan_csv_view(self, request: HttpRequest, run_id: int) -> StreamingHttpResponse:
        run = self._plan_run(request, run_id)
        items = plan_items_filtered(run=run, params=request.GET)
        writer = csv.writer(_Echo(), delimiter=";")

        def lines() -> Iterator[str]:
            yield "\ufeff"
            for row in plan_csv_rows(items):
                yield writer.writerow(row)

        response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="plano-{run.pk}.csv"'
        return response

    def plan_apply_view(self, request: HttpRequest, run_id: int) -> HttpResponse:
        if request.method != "POST":
            raise PermissionDenied
        run = self._plan_run(request, run_id)
        permission_require(request, RUN_LIVE)
        ids: list[int] = []
        if "all" not in request.POST:
            ids = [int(v) for v in request.POST.getlist("ids") if v.isdigit()]
            if not ids:
                self.message_user(
                    request, gettext("Selecione ao menos um item do plano."), messages.WARNING
                )
                return redirect("admin:products_plan", run.pk)
        try:
            apply_run = plan_apply_queue(
                plan_run=run,
                requested_by=request.user.get_username(),
                trigger=JobRun.Trigger.ADMIN,
                product_ids=ids,
                action=request.POST.get("action_only", ""),
            )
        except PlanRefused as exc:
            self.message_user(request, str(exc), messages.ERROR)
            return redirect("admin:products_plan", run.pk)
        self.message_user(
            request,
            gettext(
                "Aplicação do plano #%(plan)d colocada na fila (execução #%(run)d); acompanhe "
                "nesta página."
            )
            % {"plan": run.pk, "run": apply_run.pk},
            messages.SUCCESS,
        )
        return redirect("admin:products_plan", run.pk)

    def run_undo_view(self, request: HttpRequest, run_id: int) -> HttpResponse:
        if request.method != "POST" or not self.has_view_permission(request):
            raise PermissionDenied
        permission_require(request, RUN_LIVE)
        target = get_object_or_404(JobRun, pk=run_id)
        try:
            undo = run_undo_queue(
                run=target, requested_by=request.user.get_username(), trigger=JobRun.Trigger.ADMIN
            )
        except UndoRefused as exc:
            self.message_user(request, str(exc), messages.ERROR)
        else:
            self.message_user(
                request,
                gettext(
                    "Desfazer as inativações de #%(target)d colocado na fila (execução #%(run)d)."
                )
                % {"target": target.pk, "run": undo.pk},
                messages.SUCCESS,
            )
        plan_run = target.params.get("plan_run") if target.kind == "plan" else None
        if plan_run:
            return redirect("admin:products_plan", plan_run)
        return redirect("admin:blingsync_jobrun_change", target.pk)
