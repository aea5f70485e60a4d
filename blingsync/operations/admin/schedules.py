"""django-q's schedule admin, in Portuguese: the cadence first, each schedule named by what it
runs, and only when and how often editable."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django import forms
from django.contrib import admin
from django.http import HttpRequest
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from django_q.admin import ScheduleAdmin
from django_q.models import Schedule

from blingsync.models import JobRun
from blingsync.operations.schedules import JOB_FUNC, SCHEDULES

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

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
    def job_kind(self, obj: Schedule) -> StrOrPromise:
        kind = (obj.args or "").strip("'\" ")
        if obj.func == JOB_FUNC and kind in JobRun.Kind.values:
            return capfirst(JobRun.Kind(kind).label)
        spec = next((s for s in SCHEDULES if s.name == obj.name), None)
        # A plain task by its label, as long as it still runs what setup_schedules gave it.
        if spec is not None and spec.label and obj.func == spec.func:
            return capfirst(str(spec.label))
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
