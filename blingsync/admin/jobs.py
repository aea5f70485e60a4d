"""Admin of the job runs: the list and each run's page (parameters, details, the first audit
entries), "run now" (a button per kind, simulation or live), "rerun" (same kind, same
parameters) and "Parar" on a running run (live-run permission: the run stops at its next
write to Bling or progress report and ends "interrompida").

Everything that takes time is queued (`job_run_queue`), never run inside the request.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, cast

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.formats import number_format
from django.utils.html import format_html, format_html_join
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.text import capfirst
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from blingsync.admin.readonly import ReadOnlyAdminMixin
from blingsync.audit_reasons import audit_reason_text
from blingsync.formatting import duration_format
from blingsync.jobrunner import (
    job_kinds,
    job_kinds_full,
    job_run_queue,
    job_run_rerun,
    job_stop_request,
)
from blingsync.models import AuditLog, JobRun, RuntimeSettings
from blingsync.permissions import (
    KINDS_WITH_TARGET,
    RUN_LIVE,
    job_kind_buttons,
    job_run_permission,
    job_run_permitted,
    permission_require,
    user_may_run_jobs,
)
from blingsync.run_details import details_table_html
from blingsync.templatetags.blingsync_audit import audit_product_html


def job_run_title(run: JobRun) -> str:
    """ "Códigos #12", with "(simulação)" when the run was one."""
    title = f"{capfirst(run.get_kind_display())} #{run.pk}"
    return f"{title} ({gettext('simulação')})" if run.dry_run else title


def job_kinds_available(user: Any) -> list[dict[str, Any]]:
    """Every job kind, in the order staff know them: label, whether it is registered, and
    whether `user` may run it as a simulation and live (what the buttons offer)."""
    registered = job_kinds()
    return [
        {
            "kind": value,
            "label": str(label),
            "available": value in registered,
            "targeted": value in KINDS_WITH_TARGET,
            **job_kind_buttons(user=user, kind=value),
        }
        for value, label in JobRun.Kind.choices
    ]


def job_run_plan_of(run: JobRun) -> int | None:
    """The id of the simulation whose plan `run` is (itself) or applied; None otherwise."""
    if run.kind == JobRun.Kind.PLAN:
        plan_run = run.params.get("plan_run")
        return int(plan_run) if plan_run else None
    if run.dry_run and "plan" in (run.details or {}):
        return run.pk
    return None


def job_run_plan_context(*, run: JobRun, user: Any) -> dict[str, Any]:
    """What a run's page shows of plans: its plan, the undo button, the counters warning."""
    plan_run = job_run_plan_of(run)
    plan = (run.details or {}).get("plan") or {}
    undoable = (
        run.kind in ("codes", "stock", "plan")
        and not run.dry_run
        and run.status != JobRun.Status.QUEUED
        and user.has_perm("blingsync.run_live")
        and AuditLog.objects.filter(
            job_run=run, action=AuditLog.Action.PRODUCT_DEACTIVATED, outcome=AuditLog.Outcome.OK
        ).exists()
    )
    return {
        "plan_url": reverse("admin:products_plan", args=[plan_run]) if plan_run else "",
        "undo_url": reverse("admin:products_run_undo", args=[run.pk]) if undoable else "",
        "counters_unseeded": plan.get("kind") == "codes" and plan.get("counters_seeded") is False,
    }


class RunNowForm(forms.Form):
    kind = forms.ChoiceField(label=_("tipo"), choices=JobRun.Kind.choices)
    dry_run = forms.BooleanField(
        label=_("simulação (dry-run)"),
        required=False,
        help_text=_("Calcula e registra o que faria, sem escrever nada no Bling."),
    )
    full = forms.BooleanField(label=_("Varredura completa"), required=False)

    def clean_kind(self) -> str:
        kind = self.cleaned_data["kind"]
        if kind not in job_kinds():
            raise forms.ValidationError(_("Este tipo de tarefa ainda não está disponível."))
        if kind in KINDS_WITH_TARGET:
            raise forms.ValidationError(
                _("Este tipo de tarefa começa na página de um plano ou de uma execução.")
            )
        return kind

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        # Form.clean returns cleaned_data; django-stubs allows None for overrides.
        assert cleaned is not None
        if cleaned.get("full") and cleaned.get("kind") not in job_kinds_full():
            raise forms.ValidationError(
                _("Este tipo de tarefa não tem varredura incremental: ela é sempre completa.")
            )
        return cleaned


def _grouped_count(field: str, label: Any) -> Callable[[Any, JobRun], str]:
    """A list column of one of a run's counts, grouped as staff write numbers (120.000)."""

    @admin.display(description=label, ordering=field)
    def display(self: Any, obj: JobRun) -> str:
        return number_format(getattr(obj, field), force_grouping=True)

    return display


@admin.register(JobRun)
class JobRunAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    change_list_template = "admin/blingsync/jobrun/change_list.html"
    change_form_template = "admin/blingsync/jobrun/change_form.html"
    # Fits 1,366 px: the run's number and kind in one column, counts grouped (120.000).
    list_display = [
        "kind_display",
        "trigger",
        "status_display",
        "seen_display",
        "changed_display",
        "skipped_display",
        "errors_display",
        "api_calls_display",
        "duration_display",
        "created_at",
        "requested_by",
        "plan_link",
    ]
    list_display_links = ["kind_display"]
    list_filter = ["kind", "status", "skip_reason", "trigger", "created_at"]
    date_hierarchy = "created_at"
    search_fields = ["=id", "requested_by", "error"]
    actions = ["rerun_selected"]
    fields = [
        "kind",
        "trigger",
        "status_display",
        "params_display",
        "requested_by",
        "rerun_of",
        "created_at",
        "started_at",
        "finished_at",
        "duration_display",
        "seen",
        "changed",
        "skipped",
        "errors",
        "api_calls",
        "details_display",
        "error",
        "audit_entries_display",
    ]
    # Plain names only (no groups), so the same list serves as readonly_fields; django-stubs
    # types `fields` as possibly grouped.
    readonly_fields = cast("list[str]", fields)

    @admin.display(description=_("situação"), ordering="status")
    def status_display(self, obj: JobRun) -> str:
        return capfirst(obj.status_label)

    @admin.display(description=_("simulação"), boolean=True)
    def dry_run_display(self, obj: JobRun) -> bool:
        return obj.dry_run

    @admin.display(description=_("tipo"), ordering="kind")
    def kind_display(self, obj: JobRun) -> str:
        label = f"#{obj.pk} {capfirst(obj.get_kind_display())}"
        return f"{label} ({gettext('simulação')})" if obj.dry_run else label

    seen_display = _grouped_count("seen", _("vistos"))
    changed_display = _grouped_count("changed", _("alterados"))
    skipped_display = _grouped_count("skipped", _("pulados"))
    errors_display = _grouped_count("errors", _("erros"))
    api_calls_display = _grouped_count("api_calls", _("chamadas à API"))

    @admin.display(description=_("plano"))
    def plan_link(self, obj: JobRun) -> str:
        """A simulation's plan, or the plan an apply run applied (SPEC 5.14)."""
        plan_run = job_run_plan_of(obj)
        if plan_run is None:
            return ""
        return format_html(
            "<a href='{}'>{}</a>",
            reverse("admin:products_plan", args=[plan_run]),
            gettext("Plano #%(id)d") % {"id": plan_run},
        )

    @admin.display(description=_("duração"))
    def duration_display(self, obj: JobRun) -> str:
        return duration_format(obj.duration_seconds)

    @admin.display(description=_("parâmetros"))
    def params_display(self, obj: JobRun) -> str:
        params = dict(obj.params)
        if obj.dry_run and params.get("dry_run") is False:
            # Rows written before dry_run was recorded only when asked: "false" there meant
            # "not asked", and the run was a simulation all the same (see the details).
            params.pop("dry_run")
        return details_table_html(params)

    @admin.display(description=_("detalhes"))
    def details_display(self, obj: JobRun) -> str:
        return details_table_html(obj.details)

    @admin.display(description=_("registros de auditoria"))
    def audit_entries_display(self, obj: JobRun) -> str:
        # A sweep can write thousands of entries: show the first ones and link to the rest.
        limit = 20
        entries = list(obj.audit_entries.order_by("created_at", "id")[: limit + 1])
        if not entries:
            return gettext("Nenhum registro de auditoria nesta execução.")
        url = reverse("admin:blingsync_auditlog_changelist") + f"?job_run__id__exact={obj.pk}"
        rows = format_html_join(
            "",
            "<tr><td><a href='{}'>{}</a></td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            (
                (
                    reverse("admin:blingsync_auditlog_change", args=[e.pk]),
                    timezone.localtime(e.created_at).strftime("%d/%m/%Y %H:%M:%S"),
                    e.get_action_display(),
                    audit_product_html(e),
                    e.get_outcome_display(),
                    e.error or audit_reason_text(e),
                )
                for e in entries[:limit]
            ),
        )
        total = obj.audit_entries.count()
        return format_html(
            "<table><thead><tr><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th>"
            "</tr></thead><tbody>{}</tbody></table><p><a href='{}'>{}</a></p>",
            gettext("quando"),
            gettext("ação"),
            gettext("produto"),
            gettext("resultado"),
            gettext("motivo"),
            rows,
            url,
            ngettext(
                "Ver o registro de auditoria desta execução",
                "Ver os %(count)d registros de auditoria desta execução",
                total,
            )
            % {"count": total},
        )

    def has_rerun_permission(self, request: HttpRequest) -> bool:
        return user_may_run_jobs(request.user)

    @admin.action(
        description=_("Reexecutar as execuções selecionadas (mesmos parâmetros)"),
        permissions=["rerun"],
    )
    def rerun_selected(self, request: HttpRequest, queryset: QuerySet[JobRun]) -> None:
        queued = []
        for run in queryset.order_by("id"):
            if not job_run_permitted(user=request.user, kind=run.kind, params=run.params):
                self.message_user(
                    request,
                    gettext(
                        "Você não tem permissão para reexecutar #%(id)d (%(kind)s) com os "
                        "mesmos parâmetros; ela não foi reexecutada."
                    )
                    % {"id": run.pk, "kind": run.get_kind_display()},
                    messages.ERROR,
                )
                continue
            if run.kind not in job_kinds():
                self.message_user(
                    request,
                    gettext("Tipo %(kind)s não está disponível; #%(id)d não foi reexecutada.")
                    % {"kind": run.get_kind_display(), "id": run.pk},
                    messages.WARNING,
                )
                continue
            queued.append(job_run_rerun(run=run, requested_by=request.user.get_username()))
        if queued:
            self.message_user(
                request,
                ngettext(
                    "%(count)d execução colocada na fila: %(ids)s.",
                    "%(count)d execuções colocadas na fila: %(ids)s.",
                    len(queued),
                )
                % {"count": len(queued), "ids": ", ".join(f"#{r.pk}" for r in queued)},
                messages.SUCCESS,
            )

    def change_view(self, request, object_id, form_url="", extra_context=None):
        run = JobRun.objects.filter(pk=object_id).first() if str(object_id).isdigit() else None
        show_rerun = bool(
            run and job_run_permitted(user=request.user, kind=run.kind, params=run.params)
        )
        show_stop = bool(
            run
            and run.status in (JobRun.Status.RUNNING, JobRun.Status.QUEUED)
            and run.stop_requested_at is None
            and request.user.has_perm(RUN_LIVE)
        )
        extra_context = {
            **(extra_context or {}),
            "show_rerun": show_rerun,
            "show_stop": show_stop,
        }
        if run is not None:
            extra_context["title"] = job_run_title(run)
            extra_context.update(job_run_plan_context(run=run, user=request.user))
        return super().change_view(request, object_id, form_url, extra_context)

    def changelist_view(self, request: HttpRequest, extra_context=None) -> HttpResponse:
        extra_context = {
            **(extra_context or {}),
            "may_run_jobs": user_may_run_jobs(request.user),
        }
        return super().changelist_view(request, extra_context)

    def get_urls(self):
        urls = super().get_urls()
        custom = [
            path(
                "run-now/",
                self.admin_site.admin_view(self.run_now_view),
                name="blingsync_jobrun_run_now",
            ),
            path(
                "<int:run_id>/rerun/",
                self.admin_site.admin_view(self.rerun_view),
                name="blingsync_jobrun_rerun",
            ),
            path(
                "<int:run_id>/stop/",
                self.admin_site.admin_view(self.stop_view),
                name="blingsync_jobrun_stop",
            ),
        ]
        return custom + urls

    def rerun_view(self, request: HttpRequest, run_id: int) -> HttpResponse:
        """The "rerun" button of a run's page (POST): same kind, same parameters, queued."""
        run = JobRun.objects.filter(pk=run_id).first()
        if request.method != "POST" or not self.has_view_permission(request) or run is None:
            raise PermissionDenied
        if not job_run_permitted(user=request.user, kind=run.kind, params=run.params):
            raise PermissionDenied
        self.rerun_selected(request, JobRun.objects.filter(pk=run_id))
        return redirect("admin:blingsync_jobrun_changelist")

    def stop_view(self, request: HttpRequest, run_id: int) -> HttpResponse:
        """The "Parar" button of a running run's page (POST, live-run permission): the run
        stops at its next write to Bling (or progress report) and ends "interrompida"."""
        run = JobRun.objects.filter(pk=run_id).first()
        if request.method != "POST" or not self.has_view_permission(request) or run is None:
            raise PermissionDenied
        permission_require(request, RUN_LIVE)
        if job_stop_request(
            run_id=run.pk, actor=request.user.get_username(), source=AuditLog.Source.ADMIN
        ):
            self.message_user(
                request,
                gettext(
                    "Parada pedida para #%(id)d: ela termina antes da próxima escrita no Bling."
                )
                % {"id": run.pk},
                messages.SUCCESS,
            )
        else:
            self.message_user(
                request,
                gettext("#%(id)d não está em andamento (ou a parada já foi pedida).")
                % {"id": run.pk},
                messages.WARNING,
            )
        return redirect("admin:blingsync_jobrun_change", run.pk)

    def run_now_view(self, request: HttpRequest) -> HttpResponse:
        """A button per job kind, with a dry-run choice; queues and returns at once. Each
        button is there only for who may use it, and each POST is checked again here."""
        if not self.has_view_permission(request) or not user_may_run_jobs(request.user):
            raise PermissionDenied
        if request.method == "POST":
            form = RunNowForm(request.POST)
            if form.is_valid():
                kind = form.cleaned_data["kind"]
                dry_run = form.cleaned_data["dry_run"]
                permission_require(request, job_run_permission(kind=kind, dry_run=dry_run))
                full = form.cleaned_data["full"]
                run = job_run_queue(
                    kind=kind,
                    trigger=JobRun.Trigger.ADMIN,
                    params={"dry_run": dry_run, "full": full},
                    requested_by=request.user.get_username(),
                )
                if full:
                    message = (
                        gettext(
                            "Execução #%(id)d (%(kind)s, completa, simulação) colocada na fila."
                        )
                        if dry_run
                        else gettext("Execução #%(id)d (%(kind)s, completa) colocada na fila.")
                    )
                else:
                    message = (
                        gettext("Execução #%(id)d (%(kind)s, simulação) colocada na fila.")
                        if dry_run
                        else gettext("Execução #%(id)d (%(kind)s) colocada na fila.")
                    )
                self.message_user(
                    request,
                    message % {"id": run.pk, "kind": run.get_kind_display()},
                    messages.SUCCESS,
                )
                next_url = request.POST.get("next", "")
                if next_url and url_has_allowed_host_and_scheme(
                    next_url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
                ):
                    return HttpResponseRedirect(next_url)
                return redirect("admin:blingsync_jobrun_changelist")
            for error in form.errors.values():
                # Iterating an ErrorList renders each ValidationError as its str message;
                # django-stubs types the items as they are stored (ValidationError | str).
                self.message_user(request, " ".join(error), messages.ERROR)  # type: ignore[arg-type]
        settings_row = RuntimeSettings.load()
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": _("Executar agora"),
            "kinds": job_kinds_available(request.user),
            "full_kinds": job_kinds_full(),
            "mode": settings_row.get_mode_display(),
            "install_dry_run": settings_row.mode == RuntimeSettings.Mode.DRY_RUN,
            "paused": settings_row.mode == RuntimeSettings.Mode.PAUSED,
        }
        return TemplateResponse(request, "admin/blingsync/jobrun/run_now.html", context)
