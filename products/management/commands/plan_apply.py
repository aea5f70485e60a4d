"""`python manage.py plan_apply (--run N | --latest KIND) [--ids ID,...] [--action ACTION]`:
apply a simulation's plan, all of it or the products/action chosen (SPEC 5.14). Runs here,
as a job run of kind `plan`; any mode but paused."""

from __future__ import annotations

import getpass
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from blingsync.models import JobRun
from products.management.commands._plan import plan_arguments, plan_find
from products.models import PlanItem
from products.plan_apply import PlanRefused, plan_apply_queue


def ids_parse(value: str) -> list[int]:
    try:
        return [int(part) for part in value.replace(" ", "").split(",") if part]
    except ValueError:
        raise CommandError(
            _("--ids espera ids de produtos do Bling separados por vírgula: %(value)s")
            % {"value": value}
        ) from None


class Command(BaseCommand):
    help = "Apply a simulation's plan (all items, or the chosen products / action)."

    def add_arguments(self, parser: CommandParser) -> None:
        plan_arguments(parser)
        parser.add_argument("--ids", help="Bling product ids, comma-separated (default: all)")
        parser.add_argument("--action", choices=PlanItem.Action.values, help="only this action")

    def handle(self, *args: Any, **options: Any) -> None:
        plan_run = plan_find(options)
        ids = ids_parse(options["ids"]) if options.get("ids") else []
        try:
            run = plan_apply_queue(
                plan_run=plan_run,
                requested_by=f"command:{getpass.getuser()}",
                trigger=JobRun.Trigger.COMMAND,
                product_ids=ids,
                action=options.get("action") or "",
                now=True,
            )
        except PlanRefused as exc:
            raise CommandError(str(exc)) from exc
        items = PlanItem.objects.filter(applied_by=run)
        self.stdout.write(
            _(
                "Plano #%(plan)d aplicado pela execução #%(run)d: %(applied)d aplicados, "
                "%(skipped)d não aplicados, %(failed)d com erro; %(calls)d chamadas ao Bling."
            )
            % {
                "plan": plan_run.pk,
                "run": run.pk,
                "applied": items.filter(status=PlanItem.Status.APPLIED).count(),
                "skipped": items.filter(status=PlanItem.Status.SKIPPED).count(),
                "failed": items.filter(status=PlanItem.Status.FAILED).count(),
                "calls": run.api_calls,
            }
        )
        for item in items.exclude(status=PlanItem.Status.APPLIED).order_by("position"):
            label = item.name or str(item.bling_product_id)
            self.stdout.write(f"  {label} (id {item.bling_product_id}): {item.status_reason}")
        if run.status != JobRun.Status.SUCCEEDED:
            raise CommandError(
                _("A aplicação #%(id)d não terminou: %(error)s")
                % {"id": run.pk, "error": run.error or run.status_label}
            )
