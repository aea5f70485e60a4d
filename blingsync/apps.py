"""App config of the core app: Bling connection, runtime settings, job runs, audit (the faces
staff use are the operations app, `blingsync.operations`)."""

import logging
import multiprocessing
import sys
import threading

from django.apps import AppConfig
from django.utils.module_loading import autodiscover_modules
from django.utils.translation import gettext_lazy as _

logger = logging.getLogger(__name__)

# Seconds a starting cluster waits before queueing its recovery (its broker and workers come
# up meanwhile; the task waits in the queue anyway).
START_RECOVERY_DELAY = 2.0


def _start_recovery_queue() -> None:
    from django.db import connection

    from blingsync.recovery import START_TASK
    from blingsync.task_queue import task_queue_now

    try:
        task_queue_now(func=START_TASK, arg=0, task_name="recovery-at-start")
        logger.info("cluster start: recovery queued")
    except Exception:
        logger.exception("cluster start: could not queue recovery; the minute tick will do it")
    finally:
        connection.close()


def _is_cluster_main_process() -> bool:
    return sys.argv[1:2] == ["qcluster"] and multiprocessing.current_process().name == (
        "MainProcess"
    )


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
        # A starting cluster takes back the work its predecessor left (recovery without the
        # minute schedule, `blingsync.recovery.recovery_at_start`): only in the `qcluster`
        # command's main process, once, after a moment (no database access during start-up).
        if _is_cluster_main_process():
            timer = threading.Timer(START_RECOVERY_DELAY, _start_recovery_queue)
            timer.daemon = True
            timer.start()
        # The admin's sections of the two third-party apps staff see, in their words.
        from django.apps import apps

        names = {"axes": _("Tentativas de login"), "django_q": _("Tarefas em segundo plano")}
        for label, verbose_name in names.items():
            if apps.is_installed(label):
                apps.get_app_config(label).verbose_name = verbose_name
