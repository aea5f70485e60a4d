"""App config of the operations faces (no models of its own, so no name in the admin)."""

from django.apps import AppConfig


class OperationsConfig(AppConfig):
    name = "blingsync.operations"
    label = "operations"
