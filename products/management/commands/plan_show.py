"""`python manage.py plan_show (--run N | --latest KIND)`: a simulation's plan in the
retailer's words (products by name, codes, reasons), with what became of each item."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.utils.translation import gettext as _

from products.management.commands._plan import plan_arguments, plan_find
from products.models import PlanItem
from products.plan_text import plan_apply_hint, plan_header, plan_item_line, plan_warnings
from products.plans import plan_totals


class Command(BaseCommand):
    help = "Show the plan of a simulation (what it would change and why)."

    def add_arguments(self, parser: CommandParser) -> None:
        plan_arguments(parser)
        parser.add_argument("--action", choices=PlanItem.Action.values, help="only this action")

    def handle(self, *args: Any, **options: Any) -> None:
        run = plan_find(options)
        self.stdout.write(plan_header(run=run))
        for warning in plan_warnings(run=run):
            self.stdout.write(self.style.WARNING("! " + warning))
        items = PlanItem.objects.filter(run=run).order_by("position", "id")
        if options.get("action"):
            items = items.filter(action=options["action"])
        for item in items.iterator():
            self.stdout.write("  " + plan_item_line(item))
        left = plan_totals(run=run)["left_alone"]
        if left:
            self.stdout.write(_("Deixados como estão:"))
            for key, n in sorted(left.items()):
                self.stdout.write(f"  {key}: {n}")
        self.stdout.write(plan_apply_hint(run=run))
