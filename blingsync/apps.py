"""App config of the core app: Bling connection, runtime settings, job runs, audit (the faces
staff use are the operations app, `blingsync.operations`)."""

from django.apps import AppConfig
from django.utils.module_loading import autodiscover_modules
from django.utils.translation import gettext_lazy as _


class BlingsyncConfig(AppConfig):
    name = "blingsync"
    verbose_name = _("Bling: conexão e operação")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Each app registers its job kinds in its `jobs.py` (see blingsync.jobrunner).
        autodiscover_modules("jobs")
        # Each app's safety net for work whose worker died (see blingsync.recovery).
        autodiscover_modules("recovery")
        # Sentences of audit reasons: the core app's, then each app's `reasons.py`.
        import blingsync.audit_reasons  # noqa: F401

        autodiscover_modules("reasons")
        # What the app does with the Bling client's events (API calls counted on the run,
        # token refresh audited, needs-reconnect alert): the client itself imports none of it.
        from blingsync.bling_subscribers import bling_subscriptions_wire

        bling_subscriptions_wire()
        # The admin's sections of the two third-party apps staff see, in their words.
        from django.apps import apps

        names = {"axes": _("Tentativas de login"), "django_q": _("Tarefas em segundo plano")}
        for label, verbose_name in names.items():
            if apps.is_installed(label):
                apps.get_app_config(label).verbose_name = verbose_name
