"""App config of the alerts (its own app label, so its models and migrations stay apart)."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AlertsConfig(AppConfig):
    name = "blingsync.alerts"
    label = "alerts"
    verbose_name = _("Alertas por e-mail")
    default_auto_field = "django.db.models.BigAutoField"
