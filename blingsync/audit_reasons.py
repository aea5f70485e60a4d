"""Audit reasons as sentences in the reader's language, built at display time.

An audit row stores *why* as data: `reason_rule` (which rule decided, e.g.
"code.prefix_derived") and `reason_data` (its facts: prefix, categories, evidence). Staff
filter and export by those; what they read is a sentence built here, with gettext, in the
language active when the page or the CSV is made (Portuguese, or English for an admin in
English). Each app registers the sentences of its rules (`reason_register`, called from its
`reasons.py`, autodiscovered at start-up); a row whose rule has no sentence (rows written
before this existed, free-text reasons) shows the text stored in `reason`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from django.utils import formats, timezone
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

logger = logging.getLogger(__name__)

SentenceBuilder = Callable[[Mapping[str, Any]], str]


@dataclass(frozen=True)
class ReasonRule:
    key: str
    label: Any  # lazy translation: the name of the rule in filters
    build: SentenceBuilder


_RULES: dict[str, ReasonRule] = {}


def reason_register(key: str, label: Any) -> Callable[[SentenceBuilder], SentenceBuilder]:
    """Register the sentence of one reason rule (decorator)."""

    def decorator(build: SentenceBuilder) -> SentenceBuilder:
        _RULES[key] = ReasonRule(key=key, label=label, build=build)
        return build

    return decorator


def reason_rules() -> list[ReasonRule]:
    """Every registered rule, by key (for the admin filter)."""
    return [_RULES[key] for key in sorted(_RULES)]


def reason_rule_label(key: str) -> str:
    rule = _RULES.get(key)
    return str(rule.label) if rule else key


def reason_sentence(*, rule: str, data: Mapping[str, Any] | None) -> str:
    """The sentence of `rule` with `data`, in the active language; "" when unknown."""
    spec = _RULES.get(rule or "")
    if spec is None:
        return ""
    try:
        return spec.build(data or {})
    except (KeyError, TypeError, ValueError, InvalidOperation):
        # Data from an older version of the rule: the stored text still says it.
        logger.warning("audit reason %s: data does not fit its sentence", rule)
        return ""


def audit_reason_text(entry: Any) -> str:
    """What staff read as an entry's reason: the sentence, else the stored text."""
    return (
        reason_sentence(rule=getattr(entry, "reason_rule", ""), data=entry.reason_data)
        or entry.reason
    )


# --- formatting facts for sentences -------------------------------------------------------


def fmt_number(value: Any) -> str:
    """3, 2,5 (pt) / 2.5 (en): no trailing zeros."""
    if value is None or value == "":
        return "?"
    number = Decimal(str(value)).normalize()
    if number == number.to_integral():
        number = number.quantize(Decimal(1))
    return formats.number_format(number)


def fmt_moment(value: Any) -> str:
    """An ISO date-time from the data, in local time and the reader's format."""
    moment = value if isinstance(value, datetime) else parse_datetime(str(value))
    if moment is None:
        raise ValueError(value)
    if timezone.is_aware(moment):
        moment = timezone.localtime(moment)
    return formats.date_format(moment, "SHORT_DATETIME_FORMAT")


def fmt_day(value: Any) -> str:
    day = parse_date(str(value))
    if day is None:
        raise ValueError(value)
    return formats.date_format(day, "SHORT_DATE_FORMAT")


def fmt_list(values: Any, *, limit: int = 5) -> str:
    """ "1, 2, 3 e mais 4" (pt) / "1, 2, 3 and 4 more" (en)."""
    items = [str(v) for v in (values or [])]
    shown = ", ".join(items[:limit])
    if len(items) > limit:
        return _("%(shown)s e mais %(more)d") % {"shown": shown, "more": len(items) - limit}
    return shown


# --- reasons of the core app ----------------------------------------------------------------


@reason_register("mode.changed", gettext_lazy("modo alterado pela equipe"))
def _mode_changed(data: Mapping[str, Any]) -> str:
    return _("Modo alterado por %(actor)s.") % {"actor": data["actor"]}


@reason_register("job.stopped", gettext_lazy("execução parada pela equipe"))
def _job_stopped(data: Mapping[str, Any]) -> str:
    return _("Parada da execução %(run)s pedida por %(actor)s.") % {
        "run": data.get("run"),
        "actor": data.get("actor"),
    }


_TOKEN_WHY = {
    "expiring": gettext_lazy("Token renovado antes de expirar."),
    "scheduled": gettext_lazy("Token renovado pela tarefa agendada."),
    "401": gettext_lazy("Token renovado porque o Bling recusou o anterior (401)."),
}


@reason_register("token.refreshed", gettext_lazy("renovação do token"))
def _token_refreshed(data: Mapping[str, Any]) -> str:
    return str(_TOKEN_WHY[data["why"]])


@reason_register("connection.connected", gettext_lazy("conexão ao Bling pela equipe"))
def _connected(data: Mapping[str, Any]) -> str:
    if data.get("actor"):
        return _("Conta do Bling conectada por %(actor)s.") % {"actor": data["actor"]}
    return _("Conta do Bling conectada.")
