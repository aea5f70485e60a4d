"""What an alert or the summary says, in the active language (call under
`translation.override`): subject, a headline, detail lines and the label of the link."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.template.loader import render_to_string
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from blingsync.alerts.models import AlertKind
from blingsync.models import JobRun, RuntimeSettings
from blingsync.operations.alerts.summary import summary_subject


@dataclass
class Content:
    subject: str
    headline: str
    lines: list[str] = field(default_factory=list)
    action: str = ""


def _alert_content(kind: str, facts: dict[str, Any]) -> Content:
    count = int(facts.get("count") or 0)
    if kind == AlertKind.NEEDS_RECONNECT:
        lines = [_("Todo o trabalho com o Bling está parado até a conta ser conectada de novo.")]
        if facts.get("error"):
            lines.append(_("Motivo: %(error)s") % {"error": facts["error"]})
        return Content(
            subject=_("A conexão com o Bling precisa ser refeita"),
            headline=_("O Bling recusou a renovação do acesso de %(company)s.")
            % {"company": facts.get("company") or _("sua conta")},
            lines=lines,
            action=_("Conectar ao Bling"),
        )
    if kind == AlertKind.SIGNATURE_FAILURES:
        return Content(
            subject=_("Webhooks recusados: %(count)d falhas de assinatura na última hora")
            % {"count": count},
            headline=_(
                "%(count)d webhooks chegaram com assinatura ausente ou inválida na última hora."
            )
            % {"count": count},
            lines=[
                _(
                    "Um client secret errado (BLING_CLIENT_SECRET) faz o Bling desativar os "
                    "webhooks após 3 dias de falhas; também pode ser alguém testando o endereço."
                )
            ],
            action=_("Ver os webhooks recusados"),
        )
    if kind == AlertKind.OTHER_COMPANY:
        return Content(
            subject=_("Eventos de outra empresa do Bling estão chegando"),
            headline=ngettext(
                "%(count)d evento de uma empresa diferente da conectada foi recebido.",
                "%(count)d eventos de uma empresa diferente da conectada foram recebidos.",
                count,
            )
            % {"count": count},
            lines=[_("Os webhooks parecem configurados em duas contas do Bling.")],
            action=_("Ver os eventos"),
        )
    if kind == AlertKind.SCHEDULE_OVERDUE:
        labels = dict(JobRun.Kind.choices)
        lines = []
        for item in facts.get("kinds", []):
            label = str(labels.get(item["kind"], item["kind"]))
            last = item.get("last_success") or _("nunca")
            line = _("%(kind)s: último sucesso %(last)s") % {"kind": label, "last": last}
            if item.get("last_error"):
                line += " — " + item["last_error"]
            lines.append(line)
        return Content(
            subject=_("Tarefas agendadas sem sucesso"),
            headline=_(
                "Estas tarefas não terminam com sucesso há três intervalos do seu agendamento:"
            ),
            lines=lines,
            action=_("Abrir o painel"),
        )
    if kind == AlertKind.EVENTS_FAILED:
        return Content(
            subject=_("Eventos de webhook falharam de vez"),
            headline=ngettext(
                "%(count)d evento falhou depois de todas as tentativas.",
                "%(count)d eventos falharam depois de todas as tentativas.",
                count,
            )
            % {"count": count},
            lines=[_("Eles esperam por você: corrija a causa e use a ação “reprocessar”.")],
            action=_("Ver os eventos que falharam"),
        )
    if kind == AlertKind.WRITES_FAILED:
        lines = []
        if facts.get("last_error"):
            lines.append(_("Último erro: %(error)s") % {"error": facts["last_error"]})
        return Content(
            subject=_("Alterações no Bling falharam"),
            headline=ngettext(
                "%(count)d alteração no Bling falhou.",
                "%(count)d alterações no Bling falharam.",
                count,
            )
            % {"count": count},
            lines=lines,
            action=_("Ver a auditoria"),
        )
    if kind == AlertKind.CALL_BUDGET:
        return Content(
            subject=_("%(percent)d%% da cota diária de chamadas ao Bling já foi usada")
            % {"percent": facts.get("percent", 0)},
            headline=_("Hoje já foram %(calls)d de %(limit)d chamadas permitidas por dia.")
            % {"calls": facts.get("calls", 0), "limit": facts.get("limit", 0)},
            lines=[_("Ao atingir o limite, o trabalho com o Bling para até amanhã.")],
            action=_("Abrir o painel"),
        )
    return Content(subject=kind, headline=kind)


def message_render(*, kind: str, facts: dict[str, Any], link: str) -> tuple[str, str, str]:
    """(subject, plain text, HTML) of a message, in the active language."""
    if kind == AlertKind.DAILY_SUMMARY:
        subject = summary_subject(facts)
        template = "alerts/email/summary"

        mode = facts.get("mode", "")
        mode_label = (
            RuntimeSettings.Mode(mode).label if mode in RuntimeSettings.Mode.values else mode
        )
        context: dict[str, Any] = {
            "subject": subject,
            "s": facts,
            "link": link,
            "mode_label": str(mode_label),
        }
    else:
        content = _alert_content(kind, facts)
        subject = content.subject
        template = "alerts/email/alert"
        context = {"subject": subject, "content": content, "link": link}
    subject = "[blingsync] " + " ".join(subject.split())
    text = render_to_string(f"{template}.txt", context)
    html = render_to_string(f"{template}.html", context)
    return subject, text, html
