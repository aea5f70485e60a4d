"""The throttle is the database's: processes raising the same alert at the same instant send
it once (threads with their own connections stand in for processes)."""

from __future__ import annotations

import threading

import pytest
from django.core import mail
from django.db import connection as default_connection
from django.db import connections
from django.utils import timezone

from blingsync.alerts.models import AlertKind, AlertMessage
from blingsync.bling.ratelimit import BLING_TZ
from blingsync.models import RateLimitBucket
from blingsync.operations.alerts.services import alert_check


@pytest.mark.django_db(transaction=True)
def test_eight_processes_raising_the_same_alert_send_it_once(manager, settings):
    settings.BLING_RATE_PER_DAY = 1000
    RateLimitBucket.objects.create(
        key="bling", day=timezone.now().astimezone(BLING_TZ).date(), day_calls=900
    )
    barrier = threading.Barrier(8)
    errors: list[BaseException] = []

    def raise_it() -> None:
        try:
            barrier.wait(timeout=10)
            alert_check(kind=AlertKind.CALL_BUDGET)
        except BaseException as exc:  # reported by the main thread
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=raise_it) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert errors == []
    assert AlertMessage.objects.filter(kind=AlertKind.CALL_BUDGET).count() == 1
    assert len(mail.outbox) == 1
    assert default_connection.vendor in ("sqlite", "postgresql")
