"""`python manage.py process_events`: drain pending webhook events (and due retries and stock
evaluations) in this process, e.g. after a pause, after a crash or when no cluster is running.

Before draining it takes back what a killed worker left (`blingsync.recovery.recovery_reclaim`):
events left `processing` whose claim expired, and open write intents (situations, codes),
settled by reading Bling; stock evaluations whose claim expired are claimable as they are."""

from __future__ import annotations

import time

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from blingsync.audit import AuditSource, audit_source
from blingsync.models import AuditLog, BlingConnection
from blingsync.recovery import recovery_reclaim
from blingsync.runtime import mode_is_paused
from products.stock_evaluations import stock_evaluations_run_due
from webhooks.maintenance import events_reprocess
from webhooks.models import WebhookEvent
from webhooks.processing import (
    ORDER_CHANGED,
    PRODUCT_CHANGED,
    STOCK_EVENTS,
    event_process,
)
from webhooks.selectors import events_to_process

# Event types whose processing calls Bling (the others are decided locally).
_NEEDS_BLING = PRODUCT_CHANGED | STOCK_EVENTS | ORDER_CHANGED | {"order.deleted"}


class Command(BaseCommand):
    help = _(
        "Processa neste processo os eventos de webhook pendentes, as retentativas vencidas e "
        "as avaliações de estoque agendadas que já venceram."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--limit", type=int, default=None, help=_("processar no máximo N eventos")
        )
        parser.add_argument(
            "--retry-failed",
            action="store_true",
            help=_("devolver também os eventos que falharam de vez (novas tentativas)"),
        )

    def handle(self, *args, limit: int | None = None, retry_failed: bool = False, **options):
        if limit is not None and limit < 1:
            raise CommandError(_("--limit precisa ser 1 ou mais."))
        if mode_is_paused():
            raise CommandError(
                _("O modo está 'pausado': nada é processado. Use `set_mode live` ou `dry_run`.")
            )
        if retry_failed:
            failed = list(
                WebhookEvent.objects.filter(
                    status=WebhookEvent.Status.FAILED, next_attempt_at__isnull=True
                ).values_list("pk", flat=True)
            )
            returned = events_reprocess(event_ids=failed, queue=False)
            self.stdout.write(_("%(n)d evento(s) com falha devolvidos à fila.") % {"n": returned})

        reclaimed = recovery_reclaim()
        if any(reclaimed.values()):
            self.stdout.write(
                _("Retomado de um processo interrompido: %(parts)s.")
                % {"parts": ", ".join(f"{k}={v}" for k, v in sorted(reclaimed.items()))}
            )
        ids = events_to_process(limit=limit)
        needs_bling = WebhookEvent.objects.filter(pk__in=ids, event_type__in=_NEEDS_BLING).exists()
        connected = BlingConnection.objects.filter(status=BlingConnection.Status.CONNECTED).exists()
        if needs_bling and not connected:
            raise CommandError(
                _(
                    "Há eventos que precisam do Bling, mas não há conexão ativa. Conecte pelo "
                    "admin ou com `bling_connect` e rode de novo."
                )
            )

        started = time.monotonic()
        total = len(ids)
        counts: dict[str, int] = {}
        self.stdout.write(_("%(n)d evento(s) a processar.") % {"n": total})
        source = AuditSource(source=AuditLog.Source.COMMAND, actor="process_events")
        with audit_source(source):
            for done, pk in enumerate(ids, start=1):
                outcome = event_process(event_id=pk)
                counts[outcome] = counts.get(outcome, 0) + 1
                if outcome == "not_connected":
                    self._summary(counts, {}, started)
                    raise CommandError(
                        _("Parado: a conexão com o Bling não está ativa; conecte e rode de novo.")
                    )
                if outcome == "held":
                    self._summary(counts, {}, started)
                    raise CommandError(
                        _(
                            "Parado: o modo mudou (pausado ou simulação) e nada mais foi "
                            "escrito no Bling; o evento voltou para a fila."
                        )
                    )
                if outcome in ("retry", "failed"):
                    error = (
                        WebhookEvent.objects.filter(pk=pk)
                        .values_list("last_error", flat=True)
                        .first()
                    )
                    self.stderr.write(f"  #{pk}: {error}")
                    if error and error.startswith("BlingCircuitOpen"):
                        self._summary(counts, {}, started)
                        raise CommandError(
                            _("Parado: o Bling não está acessível (%(error)s).") % {"error": error}
                        )
                if done == total or done % 50 == 0:
                    self.stdout.write(f"  {done}/{total}")
            evaluations = stock_evaluations_run_due()
        self._summary(counts, evaluations, started)
        failures = counts.get("retry", 0) + counts.get("failed", 0)
        if failures:
            raise CommandError(
                _("%(n)d evento(s) falharam; veja o erro de cada um no admin.") % {"n": failures}
            )

    def _summary(self, counts: dict[str, int], evaluations: dict[str, int], started: float):
        parts = ", ".join(f"{k}={v}" for k, v in sorted(counts.items())) or "-"
        evals = ", ".join(f"{k}={v}" for k, v in sorted(evaluations.items())) or "-"
        self.stdout.write(
            _("Eventos: %(parts)s. Avaliações de estoque: %(evals)s. Duração: %(s).1f s.")
            % {"parts": parts, "evals": evals, "s": time.monotonic() - started}
        )
