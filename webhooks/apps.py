"""App config of webhooks: the signed inbox of Bling events and their processing."""

import logging
import multiprocessing
import sys
import threading

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

logger = logging.getLogger(__name__)

# Seconds the starting cluster waits before queueing its recovery (its broker and workers
# come up meanwhile; the task waits in the queue anyway).
START_RECOVERY_DELAY = 2.0


def _queue_start_recovery() -> None:
    from django.db import connection
    from django_q.tasks import async_task

    try:
        async_task("webhooks.tasks.recovery_at_start_task", 0, task_name="recovery-at-start")
        logger.info("cluster start: recovery queued")
    except Exception:
        logger.exception("cluster start: could not queue recovery; the minute tick will do it")
    finally:
        connection.close()


class WebhooksConfig(AppConfig):
    name = "webhooks"
    verbose_name = _("Webhooks")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # A starting cluster takes back the work its predecessor left (recovery without the
        # minute schedule, `webhooks.recovery.recovery_at_start`): only in the `qcluster`
        # command's main process, once, after a moment (no database access during start-up).
        if sys.argv[1:2] == ["qcluster"] and multiprocessing.current_process().name == (
            "MainProcess"
        ):
            timer = threading.Timer(START_RECOVERY_DELAY, _queue_start_recovery)
            timer.daemon = True
            timer.start()
