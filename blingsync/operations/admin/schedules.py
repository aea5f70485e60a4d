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
from blingsync.operations.alerts.schedules import ALERTS_FUNC, ALERTS_SCHEDULE
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
    "repeats": (
        _("repetições"),
        _("-1 = sempre; 0 = desativado (o agendamento para); n = mais n vezes."),
    ),
    "next_run": (_("próxima execução"), _("Quando o agendamento roda da próxima vez.")),
    "cron": (_("cron"), _("Expressão cron, quando a frequência é 'Cron'.")),
    "task": (_("última tarefa"), ""),
    "cluster": (_("cluster"), _("Técnico; deixe vazio.")),
    "intended_date_kwarg": (_("argumento da data prevista"), _("Técnico; deixe vazio.")),
}


# Only when and how often: what a schedule runs is set by `setup_schedules`, never typed into
# the admin (an editable `func` would let anyone who may edit a schedule make the worker call
# any Python function).
# No cron: a cadence in words (every N minutes, hourly, daily, weekly) is what staff set.
SCHEDULE_EDITABLE_FIELDS = ["name", "schedule_type", "minutes", "repeats", "next_run"]
SCHEDULE_READONLY_FIELDS = ["func", "args", "kwargs", "hook", "cluster", "intended_date_kwarg"]
SCHEDULE_TYPES_OFFERED = (Schedule.MINUTES, Schedule.HOURLY, Schedule.DAILY, Schedule.WEEKLY)
_CADENCE_WORDS = {
    Schedule.ONCE: _("uma vez"),
    Schedule.HOURLY: _("a cada hora"),
    Schedule.DAILY: _("todo dia"),
    Schedule.WEEKLY: _("toda semana"),
    Schedule.BIWEEKLY: _("a cada duas semanas"),
    Schedule.MONTHLY: _("todo mês"),
    Schedule.BIMONTHLY: _("a cada dois meses"),
    Schedule.QUARTERLY: _("a cada três meses"),
    Schedule.YEARLY: _("todo ano"),
    Schedule.CRON: _("expressão cron (técnico)"),
}


# One-off schedules other apps create (a debounced stock evaluation, an event retried later),
# by their task's dotted path (display only: nothing here imports those apps).
_ONE_OFF_LABELS = {
    "products.tasks.stock_evaluation_task": _("avaliação de estoque do produto %(arg)s"),
    "webhooks.tasks.process_event_task": _("processar o evento de webhook %(arg)s"),
}


def schedule_label(obj: Schedule) -> str:
    """What a schedule runs, in words: the job kind's label, or the label setup_schedules gave
    a plain task; its name otherwise (never the function's dotted path)."""
    kind = (obj.args or "").strip("'\" ")
    if obj.func == JOB_FUNC and kind in JobRun.Kind.values:
        return str(capfirst(JobRun.Kind(kind).label))
    spec = next((s for s in SCHEDULES if s.name == obj.name), None)
    # A plain task by its label, as long as it still runs what setup_schedules gave it.
    if spec is not None and spec.label and obj.func == spec.func:
        return str(capfirst(str(spec.label)))
    if obj.name == ALERTS_SCHEDULE and obj.func == ALERTS_FUNC:
        return str(_("Alertas por e-mail e resumo diário"))
    if obj.func in _ONE_OFF_LABELS:
        arg = (obj.args or "").strip("'\" ()")
        return str(capfirst(str(_ONE_OFF_LABELS[obj.func] % {"arg": arg})))
    return str(obj.name or _("agendamento %(id)s") % {"id": obj.pk})


def schedule_repeats(obj: Schedule) -> str:
    """How many more times, in words (django-q: -1 forever, 0 off, n more times)."""
    repeats = obj.repeats if obj.repeats is not None else -1
    if repeats < 0:
        return str(_("uma vez") if obj.schedule_type == Schedule.ONCE else _("sempre"))
    if repeats == 0:
        return str(_("desativado"))
    return ngettext("mais %(n)d vez", "mais %(n)d vezes", repeats) % {"n": repeats}


def schedule_cadence(obj: Schedule) -> str:
    """How often, in words ("a cada 15 minutos", "todo dia")."""
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
    words = _CADENCE_WORDS.get(obj.schedule_type)
    return str(words) if words else str(obj.get_schedule_type_display())


# django-q names a schedule by its function's dotted path in page titles, breadcrumbs,
# messages and history; staff read what it does instead.
Schedule.__str__ = schedule_label


class ScheduleForm(forms.ModelForm):
    class Meta:
        model = Schedule
        fields = SCHEDULE_EDITABLE_FIELDS
        labels = {name: label for name, (label, _help) in SCHEDULE_LABELS.items()}
        help_texts = {name: help_text for name, (_label, help_text) in SCHEDULE_LABELS.items()}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        field = self.fields["schedule_type"]
        current = self.instance.schedule_type if self.instance.pk else None
        offered = [t for t in SCHEDULE_TYPES_OFFERED]
        if current and current not in offered:
            offered.append(current)  # keep what is set, even if no longer offered
        words = {
            Schedule.MINUTES: _("a cada N minutos (veja “minutos”)"),
            **_CADENCE_WORDS,
        }
        if isinstance(field, forms.ChoiceField):
            field.choices = [(t, words[t]) for t in offered]


admin.site.unregister(Schedule)


@admin.register(Schedule)
class BlingsyncScheduleAdmin(ScheduleAdmin):
    """django-q's schedule admin with the cadence first and labels staff can read."""

    form = ScheduleForm
    list_display = (
        "job_kind",
        "cadence",
        "repeats_display",
        "next_run",
        "get_last_run",
        "get_success",
    )
    list_display_links = ("job_kind",)
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
        return schedule_label(obj)

    @admin.display(description=_("frequência"))
    def cadence(self, obj: Schedule) -> str:
        return schedule_cadence(obj)

    @admin.display(description=_("repetições"), ordering="repeats")
    def repeats_display(self, obj: Schedule) -> str:
        return schedule_repeats(obj)
