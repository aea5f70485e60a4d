"""`python manage.py setup_schedules`: create the sweeps' django-q schedules (idempotent)."""

from __future__ import annotations

from django.core.management.base import BaseCommand

from blingsync.operations.schedules import schedules_setup


class Command(BaseCommand):
    help = "Create the django-q schedules of the sweeps; existing cadences are kept."

    def handle(self, *args, **options) -> None:
        for name, created in schedules_setup():
            self.stdout.write(f"{name}: {'created' if created else 'kept'}")
