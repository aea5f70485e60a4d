"""Admin of the core app: job runs (run now, rerun), runtime settings (mode with a confirmation
for live), the read-only audit log with CSV export, the Bling connection, and the django-q
schedules in Portuguese.

Everything that takes time is queued (`job_run_queue`), never run inside the request.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, StreamingHttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.text import capfirst
from django.utils.translation import gettext, gettext_noop, ngettext
from django.utils.translation import gettext_lazy as _
from django_q.admin import ScheduleAdmin
from django_q.models import Schedule

from blingsync import jobrunner
from blingsync.audit_reasons import audit_reason_text, reason_rule_label, reason_rules
from blingsync.deposits import deposits_available
from blingsync.formatting import duration_format, json_pretty
from blingsync.jobrunner import job_kinds_full, job_run_queue, job_run_rerun
from blingsync.models import AuditLog, BlingConnection, JobRun, RuntimeSettings
from blingsync.permissions import (
    CHANGE_MODE,
    CONNECT_BLING,
    EXPORT_AUDIT,
    job_kind_buttons,
    job_run_permission,
    job_run_permitted,
    permission_require,
    user_may_run_jobs,
)
from blingsync.runtime import mode_set
from blingsync.status import bling_connect_url
from blingsync.sweep_cursor import sweep_full_request
from blingsync.templatetags.blingsync_audit import audit_product_html

admin.site.site_header = "blingsync"
admin.site.site_title = "blingsync"
admin.site.index_title = _("Administração")
admin.site.index_template = "admin/blingsync_index.html"
# The "view site" link would only lead back here; the dashboard link replaces it.
admin.site.site_url = None


# --- helpers shown in several admins --------------------------------------------------------


def job_run_title(run: JobRun) -> str:
    """ "Códigos #12", with "(simulação)" when the run was one."""
    title = f"{capfirst(run.get_kind_display())} #{run.pk}"
    return f"{title} ({gettext('simulação')})" if run.dry_run else title


def job_kinds_available(user: Any) -> list[dict[str, Any]]:
    """Every job kind, in the order staff know them: label, whether it is registered, and
    whether `user` may run it as a simulation and live (what the buttons offer)."""
    return [
        {
            "kind": value,
            "label": str(label),
            "available": value in jobrunner._REGISTRY,
            **job_kind_buttons(user=user, kind=value),
        }
        for value, label in JobRun.Kind.choices
    ]


# --- Job runs -------------------------------------------------------------------------------


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
        if kind not in jobrunner._REGISTRY:
            raise forms.ValidationError(_("Este tipo de tarefa ainda não está disponível."))
        return kind

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        if cleaned.get("full") and cleaned.get("kind") not in job_kinds_full():
            raise forms.ValidationError(
                _("Este tipo de tarefa não tem varredura incremental: ela é sempre completa.")
            )
        return cleaned


@admin.register(JobRun)
class JobRunAdmin(admin.ModelAdmin):
    change_list_template = "admin/blingsync/jobrun/change_list.html"
    change_form_template = "admin/blingsync/jobrun/change_form.html"
    list_display = [
        "id",
        "kind_display",
        "trigger",
        "status_display",
        "dry_run_display",
        "seen",
        "changed",
        "skipped",
        "errors",
        "api_calls",
        "duration_display",
        "created_at",
        "requested_by",
    ]
    list_display_links = ["id", "kind_display"]
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
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    @admin.display(description=_("situação"), ordering="status")
    def status_display(self, obj: JobRun) -> str:
        return capfirst(obj.status_label)

    @admin.display(description=_("simulação"), boolean=True)
    def dry_run_display(self, obj: JobRun) -> bool:
        return obj.dry_run

    @admin.display(description=_("tipo"), ordering="kind")
    def kind_display(self, obj: JobRun) -> str:
        label = capfirst(obj.get_kind_display())
        return f"{label} ({gettext('simulação')})" if obj.dry_run else label

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
        return json_pretty(params)

    @admin.display(description=_("detalhes"))
    def details_display(self, obj: JobRun) -> str:
        return json_pretty(obj.details)

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
            if run.kind not in jobrunner._REGISTRY:
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
        extra_context = {**(extra_context or {}), "show_rerun": show_rerun}
        if run is not None:
            extra_context["title"] = job_run_title(run)
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
                self.message_user(request, " ".join(error), messages.ERROR)
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


# --- Runtime settings -----------------------------------------------------------------------

MODE_EXPLANATIONS = {
    RuntimeSettings.Mode.DRY_RUN: _(
        "Simulação (dry-run): tudo é calculado e registrado na auditoria como 'faria'; "
        "nada é escrito no Bling e nenhum contador é consumido."
    ),
    RuntimeSettings.Mode.LIVE: _(
        "Ao vivo: códigos, inativações e reativações são escritos no Bling."
    ),
    RuntimeSettings.Mode.PAUSED: _(
        "Pausado: nada é processado; os webhooks continuam sendo guardados e serão "
        "processados quando o modo mudar."
    ),
}


def deposit_field(*, current: int | None, label: Any) -> forms.TypedChoiceField:
    """The deposit setting as a choice among the account's deposits (blank = all of them).

    The deposit set now stays a choice even when Bling no longer lists it (or cannot be
    asked): saving the page never changes it behind staff's back.
    """
    deposits = deposits_available()
    choices: list[tuple[Any, str]] = [("", gettext("Todos os depósitos (soma dos saldos)"))]
    for deposit in deposits or []:
        text = deposit.description or gettext("Depósito %(id)s") % {"id": deposit.id}
        if deposit.default:
            text = gettext("%(name)s (padrão do Bling)") % {"name": text}
        choices.append((deposit.id, text))
    if current and all(value != current for value, _text in choices):
        choices.append(
            (current, gettext("Depósito %(id)s (não listado pelo Bling)") % {"id": current})
        )
    help_text = gettext("Vazio: soma de todos os depósitos.")
    if deposits is None:
        help_text += " " + gettext(
            "Não foi possível ler os depósitos do Bling agora (não conectado ou indisponível); "
            "o depósito atual é mantido."
        )
    return forms.TypedChoiceField(
        label=label,
        choices=choices,
        coerce=int,
        empty_value=None,
        required=False,
        help_text=help_text,
    )


class RuntimeSettingsForm(forms.ModelForm):
    confirm_live = forms.BooleanField(
        label=_("Confirmo a mudança para o modo ao vivo"),
        required=False,
        help_text=_(
            "Obrigatório ao mudar para 'ao vivo': a partir daí as mudanças são escritas no Bling."
        ),
    )

    class Meta:
        model = RuntimeSettings
        fields = [
            "mode",
            "confirm_live",
            "sweep_page_size",
            "stock_debounce_seconds",
            "event_retention_days",
            "sold_out_grace_minutes",
            "stock_deposit_id",
        ]
        widgets = {"mode": forms.RadioSelect}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if "stock_deposit_id" in self.fields:
            self.fields["stock_deposit_id"] = deposit_field(
                current=self.instance.stock_deposit_id if self.instance else None,
                label=self.fields["stock_deposit_id"].label,
            )
        if "mode" not in self.fields:
            return  # read-only for a user who may not change the mode
        self.fields["mode"].choices = [
            (value, MODE_EXPLANATIONS[value]) for value in RuntimeSettings.Mode.values
        ]
        self.fields["mode"].help_text = ""

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        switching_to_live = (
            cleaned.get("mode") == RuntimeSettings.Mode.LIVE
            and self.initial.get("mode") != RuntimeSettings.Mode.LIVE
        )
        if switching_to_live and not cleaned.get("confirm_live"):
            self.add_error(
                "confirm_live",
                _("Marque a confirmação para mudar para o modo ao vivo."),
            )
        return cleaned


@admin.register(RuntimeSettings)
class RuntimeSettingsAdmin(admin.ModelAdmin):
    form = RuntimeSettingsForm
    readonly_fields = ["updated_at", "updated_by"]
    fieldsets = [
        (_("Modo"), {"fields": ["mode", "confirm_live"]}),
        (
            _("Varreduras e eventos"),
            {
                "fields": [
                    "sweep_page_size",
                    "stock_debounce_seconds",
                    "event_retention_days",
                    "sold_out_grace_minutes",
                    "stock_deposit_id",
                ]
            },
        ),
        (_("Última alteração"), {"fields": ["updated_at", "updated_by"]}),
    ]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def get_readonly_fields(self, request: HttpRequest, obj=None):
        # The mode needs its own permission; the other settings need the change permission.
        if request.user.has_perm(CHANGE_MODE):
            return self.readonly_fields
        return ["mode", *self.readonly_fields]

    def get_fieldsets(self, request: HttpRequest, obj=None):
        if request.user.has_perm(CHANGE_MODE):
            return self.fieldsets
        return [
            (title, {**box, "fields": [f for f in box["fields"] if f != "confirm_live"]})
            for title, box in self.fieldsets
        ]

    def changelist_view(self, request: HttpRequest, extra_context=None) -> HttpResponse:
        # A single row: the list would only ever hold it, so go straight to it.
        row = RuntimeSettings.load()
        return HttpResponseRedirect(
            reverse("admin:blingsync_runtimesettings_change", args=[row.pk])
        )

    def change_view(self, request, object_id, form_url="", extra_context=None):
        RuntimeSettings.load()  # a new install has no row until someone asks for it
        return super().change_view(request, object_id, form_url, extra_context)

    def save_model(self, request: HttpRequest, obj: RuntimeSettings, form, change) -> None:
        actor = request.user.get_username()
        new_mode = obj.mode
        if "mode" in form.changed_data:
            permission_require(request, CHANGE_MODE)
            # The mode goes through mode_set so the switch is audited like any other change.
            obj.mode = form.initial.get("mode", RuntimeSettings.Mode.DRY_RUN)
        obj.updated_by = actor
        super().save_model(request, obj, form, change)
        if "stock_deposit_id" in form.changed_data:
            # The stock counted changes for every product: the next stock sweep is full.
            sweep_full_request(
                kinds=["stock"],
                reason=f"depósito de estoque alterado por {actor} "
                f"({form.initial.get('stock_deposit_id') or 'todos'} → "
                f"{obj.stock_deposit_id or 'todos'})",
            )
        if new_mode != obj.mode:
            mode_set(mode=new_mode, actor=actor, source=AuditLog.Source.ADMIN)
            obj.refresh_from_db()
            self.message_user(
                request,
                gettext("Modo alterado para: %(mode)s.") % {"mode": obj.get_mode_display()},
                messages.WARNING if new_mode == RuntimeSettings.Mode.LIVE else messages.INFO,
            )


# --- Audit log ------------------------------------------------------------------------------

AUDIT_CSV_COLUMNS = [
    ("created_at", _("quando")),
    ("action", _("ação")),
    ("bling_product_id", _("id do produto no Bling")),
    ("code", _("código")),
    ("product_name", _("produto")),
    ("product_code", _("código atual no Bling")),
    ("before", _("antes")),
    ("after", _("depois")),
    ("reason", _("motivo")),
    ("reason_rule", _("regra")),
    ("reason_data", _("dados do motivo")),
    ("source", _("origem")),
    ("source_ref", _("referência da origem")),
    ("actor", _("quem")),
    ("job_run", _("execução")),
    ("dry_run", _("simulação")),
    ("outcome", _("resultado")),
    ("error", _("erro")),
]


class _Echo:
    """A file-like object whose write returns the line, for streaming csv.writer output."""

    def write(self, value: str) -> str:
        return value


def audit_csv_rows(queryset: QuerySet[AuditLog]) -> Iterator[list[Any]]:
    yield [str(label) for _name, label in AUDIT_CSV_COLUMNS]
    for entry in queryset.iterator(chunk_size=2000):
        yield [
            timezone.localtime(entry.created_at).isoformat(),
            entry.action,
            entry.bling_product_id if entry.bling_product_id is not None else "",
            entry.code,
            entry.product_name,
            entry.product_code,
            "" if entry.before is None else json.dumps(entry.before, ensure_ascii=False),
            "" if entry.after is None else json.dumps(entry.after, ensure_ascii=False),
            # The sentence in the exporting admin's language, and the fields it is made of.
            audit_reason_text(entry),
            entry.reason_rule,
            json.dumps(entry.reason_data, ensure_ascii=False) if entry.reason_data else "",
            entry.source,
            entry.source_ref,
            entry.actor,
            entry.job_run_id or "",
            "1" if entry.dry_run else "0",
            entry.outcome,
            entry.error,
        ]


def audit_csv_response(queryset: QuerySet[AuditLog]) -> StreamingHttpResponse:
    # Staff open this in a spreadsheet set to pt-BR: ";" is its list separator (a comma would
    # put everything in one column) and the BOM tells it the file is UTF-8 (accents).
    writer = csv.writer(_Echo(), delimiter=";")

    def lines() -> Iterator[str]:
        yield "\ufeff"
        for row in audit_csv_rows(queryset):
            yield writer.writerow(row)

    response = StreamingHttpResponse(
        lines(),
        content_type="text/csv; charset=utf-8",
    )
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    response["Content-Disposition"] = f'attachment; filename="auditoria-{stamp}.csv"'
    return response


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
class AuditLogAdmin(admin.ModelAdmin):
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
        "dry_run",
        "outcome",
        "error",
    ]
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    @admin.display(description=_("quando"), ordering="created_at")
    def created_display(self, obj: AuditLog) -> str:
        return timezone.localtime(obj.created_at).strftime("%d/%m/%Y %H:%M:%S")

    @admin.display(description=_("origem"), ordering="source")
    def origin_display(self, obj: AuditLog) -> str:
        """Where it came from: the job run (linked) or the source, and who."""
        if obj.job_run_id:
            url = reverse("admin:blingsync_jobrun_change", args=[obj.job_run_id])
            origin = format_html(
                '<a href="{}">{} #{}</a>', url, obj.job_run.get_kind_display(), obj.job_run_id
            )
        else:
            origin = format_html("{}", obj.get_source_display())
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
        return json_pretty(obj.reason_data)

    @admin.display(description=_("antes"))
    def before_display(self, obj: AuditLog) -> str:
        return json_pretty(obj.before)

    @admin.display(description=_("depois"))
    def after_display(self, obj: AuditLog) -> str:
        return json_pretty(obj.after)

    def has_export_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm(EXPORT_AUDIT)

    @admin.action(description=_("Exportar as entradas selecionadas em CSV"), permissions=["export"])
    def export_csv(self, request: HttpRequest, queryset: QuerySet[AuditLog]) -> HttpResponse:
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

    def export_csv_view(self, request: HttpRequest) -> HttpResponse:
        """The whole list as currently filtered and searched (same query string)."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        permission_require(request, EXPORT_AUDIT)
        changelist = self.get_changelist_instance(request)
        queryset = changelist.get_queryset(request).order_by("created_at", "id")
        return audit_csv_response(queryset)


# --- Bling connection -----------------------------------------------------------------------


@admin.register(BlingConnection)
class BlingConnectionAdmin(admin.ModelAdmin):
    change_list_template = "admin/blingsync/blingconnection/change_list.html"
    change_form_template = "admin/blingsync/blingconnection/change_form.html"
    list_display = [
        "__str__",
        "status",
        "expires_at",
        "expires_in_display",
        "last_refresh_at",
        "last_refresh_ok",
    ]
    # Tokens are never shown: only these fields exist in the admin at all.
    fields = [
        "name",
        "company_id",
        "company_name",
        "status",
        "expires_at",
        "expires_in_display",
        "scope",
        "connected_at",
        "last_refresh_at",
        "last_refresh_ok",
        "last_refresh_error",
    ]
    readonly_fields = [f for f in fields if f != "name"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    @admin.display(description=_("token expira em"))
    def expires_in_display(self, obj: BlingConnection) -> str:
        if not obj.expires_at:
            return "—"
        seconds = (obj.expires_at - timezone.now()).total_seconds()
        if seconds <= 0:
            return gettext("expirado")
        return duration_format(seconds)

    def _connect_context(self, request: HttpRequest, extra_context) -> dict[str, Any]:
        # The connect button only for who may connect (the views check it again).
        url = bling_connect_url() if request.user.has_perm(CONNECT_BLING) else ""
        return {**(extra_context or {}), "bling_connect_url": url}

    def changelist_view(self, request: HttpRequest, extra_context=None) -> HttpResponse:
        return super().changelist_view(request, self._connect_context(request, extra_context))

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        extra_context = self._connect_context(request, extra_context)
        return super().changeform_view(request, object_id, form_url, extra_context)


# --- django-q schedules, in Portuguese ------------------------------------------------------

# django-q2 ships no pt-BR catalogue; these of its strings are translated in ours.
DJANGO_Q_STRINGS = [
    gettext_noop("Scheduled task"),
    gettext_noop("Scheduled tasks"),
    gettext_noop("Successful task"),
    gettext_noop("Successful tasks"),
    gettext_noop("Failed task"),
    gettext_noop("Failed tasks"),
    gettext_noop("Queued task"),
    gettext_noop("Queued tasks"),
    gettext_noop("Once"),
    gettext_noop("Minutes"),
    gettext_noop("Hourly"),
    gettext_noop("Daily"),
    gettext_noop("Weekly"),
    gettext_noop("Biweekly"),
    gettext_noop("Monthly"),
    gettext_noop("Bimonthly"),
    gettext_noop("Quarterly"),
    gettext_noop("Yearly"),
    gettext_noop("Cron"),
    gettext_noop("Resubmit selected tasks to queue"),
    gettext_noop("Time Taken"),
    gettext_noop("Short result"),
    gettext_noop("Name"),
    gettext_noop("Function"),
    gettext_noop("Hook"),
    gettext_noop("Arguments"),
    gettext_noop("Keyword arguments"),
    gettext_noop("Schedule Type"),
    gettext_noop("Repeats"),
    gettext_noop("Next Run"),
    gettext_noop("Last task id"),
    gettext_noop("Cluster"),
    gettext_noop("Intended date kwarg"),
    gettext_noop("success"),
    gettext_noop("last_run"),
    gettext_noop("Task id"),
    gettext_noop("Result"),
    gettext_noop("Group"),
    gettext_noop("Started at"),
    gettext_noop("Stopped at"),
    gettext_noop("Success"),
    gettext_noop("Attempt count"),
    gettext_noop("Cluster key"),
    gettext_noop("Payload"),
    gettext_noop("Lock until"),
]

SCHEDULE_LABELS = {
    "name": (_("nome"), _("Identifica o agendamento; não altere os de blingsync.")),
    "func": (_("função"), _("Função executada (técnico; não altere).")),
    "hook": (_("gancho"), _("Função chamada com o resultado (técnico).")),
    "args": (_("argumentos"), _("Para blingsync: o tipo da tarefa, ex. 'codes'.")),
    "kwargs": (_("argumentos nomeados"), _("Técnico; normalmente vazio.")),
    "schedule_type": (_("frequência"), _("Com que frequência a tarefa é executada.")),
    "minutes": (_("minutos"), _("Intervalo em minutos, quando a frequência é 'Minutos'.")),
    "repeats": (_("repetições"), _("-1 = para sempre; 0 = desativado; n = mais n vezes.")),
    "next_run": (_("próxima execução"), _("Quando o agendamento roda da próxima vez.")),
    "cron": (_("cron"), _("Expressão cron, quando a frequência é 'Cron'.")),
    "task": (_("última tarefa"), ""),
    "cluster": (_("cluster"), _("Técnico; deixe vazio.")),
    "intended_date_kwarg": (_("argumento da data prevista"), _("Técnico; deixe vazio.")),
}


# Only when and how often: what a schedule runs is set by `setup_schedules`, never typed into
# the admin (an editable `func` would let anyone who may edit a schedule make the worker call
# any Python function).
SCHEDULE_EDITABLE_FIELDS = ["name", "schedule_type", "minutes", "cron", "repeats", "next_run"]
SCHEDULE_READONLY_FIELDS = ["func", "args", "kwargs", "hook", "cluster", "intended_date_kwarg"]


class ScheduleForm(forms.ModelForm):
    class Meta:
        model = Schedule
        fields = SCHEDULE_EDITABLE_FIELDS
        labels = {name: label for name, (label, _help) in SCHEDULE_LABELS.items()}
        help_texts = {name: help_text for name, (_label, help_text) in SCHEDULE_LABELS.items()}


admin.site.unregister(Schedule)


@admin.register(Schedule)
class BlingsyncScheduleAdmin(ScheduleAdmin):
    """django-q's schedule admin with the cadence first and labels staff can read."""

    form = ScheduleForm
    list_display = (
        "name",
        "job_kind",
        "cadence",
        "repeats",
        "next_run",
        "get_last_run",
        "get_success",
    )
    list_display_links = ("name",)
    list_filter = ("schedule_type", "next_run")
    fieldsets = [
        (None, {"fields": SCHEDULE_EDITABLE_FIELDS}),
        (_("Técnico"), {"classes": ["collapse"], "fields": SCHEDULE_READONLY_FIELDS}),
    ]
    readonly_fields = SCHEDULE_READONLY_FIELDS

    def has_add_permission(self, request: HttpRequest) -> bool:
        # A new schedule would need a function typed in: `setup_schedules` creates ours.
        return False

    @admin.display(description=_("tarefa"))
    def job_kind(self, obj: Schedule) -> str:
        kind = (obj.args or "").strip("'\" ")
        if obj.func == "blingsync.tasks.scheduled_job" and kind in JobRun.Kind.values:
            return capfirst(JobRun.Kind(kind).label)
        return obj.func

    @admin.display(description=_("frequência"))
    def cadence(self, obj: Schedule) -> str:
        if obj.schedule_type == Schedule.MINUTES:
            minutes = obj.minutes or 0
            if minutes and minutes % (24 * 60) == 0:
                return ngettext("a cada %(n)d dia", "a cada %(n)d dias", minutes // 1440) % {
                    "n": minutes // 1440
                }
            if minutes and minutes % 60 == 0:
                return ngettext("a cada %(n)d hora", "a cada %(n)d horas", minutes // 60) % {
                    "n": minutes // 60
                }
            return ngettext("a cada %(n)d minuto", "a cada %(n)d minutos", minutes) % {"n": minutes}
        return str(obj.get_schedule_type_display())


# django-q's task admins: "resubmit" needs the live-run permission (see the module).
from blingsync import admin_tasks  # noqa: E402, F401
