"""`python manage.py setup_schedules`: create the sweeps' django-q schedules (idempotent)."""

from __future__ import annotations

from django.core.management.base import BaseCommand
from django.utils.translation import gettext as _

from blingsync.operations.schedules import schedules_setup


class Command(BaseCommand):
    help = _("Cria os agendamentos das tarefas; as frequências existentes ficam.")

    def handle(self, *args, **options) -> None:
        for name, created in schedules_setup():
            self.stdout.write(f"{name}: {_('criado') if created else _('mantido')}")
