"""Raising alerts and sending them (services).

- `alert_raise` claims the kind's hourly slot in the database (`AlertThrottle`, a
  conditional UPDATE: of all processes raising the same kind, one wins), records one
  `AlertMessage` per recipient language (pending) and queues the sending after commit. A
  raise that rolls back with its transaction claims nothing and sends nothing.
- `alert_message_send` claims a message (conditional UPDATE), renders it in its language,
  sends it through Django's mail framework (`EMAIL_URL`) and records the outcome. A failure
  is recorded and retried (1, 5, 15 minutes; the periodic check picks retries up), never
  raised to the caller.
- `alert_check` computes one kind's fact and raises it; `alerts_check_all` (the schedule)
  runs every check, the daily summary and the due retries.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from functools import partial

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone, translation

from blingsync.alerts.models import AlertKind, AlertMessage, AlertThrottle
from blingsync.alerts.triggers import THROTTLE, throttle_sent_recently
from blingsync.operations.alerts import selectors
from blingsync.operations.alerts.content import message_render
from blingsync.operations.alerts.links import alert_link
from blingsync.operations.alerts.recipients import alert_recipients, recipients_by_language
from blingsync.operations.alerts.selectors import AlertFact
from blingsync.operations.alerts.summary import daily_summary_due, daily_summary_facts
from blingsync.task_queue import task_queue_now

logger = logging.getLogger(__name__)

RETRY_DELAYS = [timedelta(minutes=m) for m in (1, 5, 15)]
MAX_ATTEMPTS = len(RETRY_DELAYS) + 1
# A message still pending this long after it was recorded lost its task (worker killed):
# the periodic check sends it. One being sent this long belongs to a dead worker.
LOST_AFTER = timedelta(minutes=2)
STALE_SENDING = timedelta(minutes=10)
SEND_TASK = "blingsync.operations.alerts.tasks.alert_send_task"

Status = AlertMessage.Status


# --------------------------------------------------------------------------- throttle


def throttle_get(*, kind: str) -> AlertThrottle:
    row, _created = AlertThrottle.objects.get_or_create(kind=kind)
    return row


def throttle_claim(*, kind: str, fingerprint: str | None, now: datetime) -> bool:
    """Take the kind's slot: True for the one caller that may send now.

    Nobody wins within `THROTTLE` of the last alert of the kind, nor for the situation
    (`fingerprint`) that was reported last.
    """
    throttle_get(kind=kind)
    rows = AlertThrottle.objects.filter(kind=kind).filter(
        Q(last_sent_at__isnull=True) | Q(last_sent_at__lte=now - THROTTLE)
    )
    if fingerprint is not None:
        rows = rows.exclude(fingerprint=fingerprint)
    return rows.update(last_sent_at=now, fingerprint=fingerprint or "") == 1


def throttle_window_start(*, kind: str, now: datetime) -> datetime:
    """Where a count-based check starts: the kind's last alert (what came before it was
    reported then), or an hour back for a kind never sent."""
    last = AlertThrottle.objects.filter(kind=kind).values_list("last_sent_at", flat=True).first()
    return last or now - THROTTLE


def _throttle_forget(*, kind: str, fingerprint: str) -> None:
    """A message that could not be delivered at all: its situation counts as not reported, so
    the next check (after the hourly throttle) raises it again."""
    if fingerprint:
        AlertThrottle.objects.filter(kind=kind, fingerprint=fingerprint).update(fingerprint="")


# --------------------------------------------------------------------------- raising


def alert_raise(*, fact: AlertFact, now: datetime | None = None) -> list[AlertMessage]:
    """Record and queue the messages of `fact` if its kind may be sent now; [] otherwise."""
    now = now or timezone.now()
    if not throttle_claim(kind=fact.kind, fingerprint=fact.fingerprint, now=now):
        return []
    recipients = alert_recipients(daily_summary=fact.kind == AlertKind.DAILY_SUMMARY)
    facts = dict(fact.facts, _fingerprint=fact.fingerprint or "")
    link = alert_link(kind=fact.kind)
    if not recipients and fact.kind == AlertKind.DAILY_SUMMARY:
        logger.info("daily summary: nobody asked for it")
        return []
    if not recipients:
        logger.warning("alert %s has no recipients (no allowed user with e-mail)", fact.kind)
        message = AlertMessage.objects.create(
            kind=fact.kind,
            language=settings.LANGUAGE_CODE,
            facts=facts,
            link=link,
            status=Status.FAILED,
            error="nenhum destinatário: ninguém com permissão e e-mail, ALERTS_TO vazio",
        )
        return [message]
    messages = [
        AlertMessage.objects.create(
            kind=fact.kind, language=language, recipients=emails, facts=facts, link=link
        )
        for language, emails in recipients_by_language(recipients).items()
    ]
    ids = [m.pk for m in messages]
    transaction.on_commit(lambda: _enqueue(ids))
    logger.info("alert %s raised: %d message(s)", fact.kind, len(ids))
    return messages


def _enqueue(message_ids: list[int]) -> None:
    for message_id in message_ids:
        try:
            task_queue_now(func=SEND_TASK, arg=message_id, task_name=f"alert-message-{message_id}")
        except Exception:
            # Recorded as pending: the periodic check sends it.
            logger.exception("could not queue alert message %s", message_id)


# --------------------------------------------------------------------------- sending


def _claim(*, message_id: int, now: datetime) -> AlertMessage | None:
    due = (
        Q(status=Status.PENDING)
        | Q(status=Status.FAILED, next_attempt_at__lte=now)
        | Q(status=Status.SENDING, claimed_at__lt=now - STALE_SENDING)
    )
    claimed = (
        AlertMessage.objects.filter(pk=message_id)
        .filter(due)
        .update(status=Status.SENDING, claimed_at=now, attempts=F("attempts") + 1)
    )
    return AlertMessage.objects.get(pk=message_id) if claimed else None


def alert_message_send(*, message_id: int) -> str:
    """Send one recorded message; returns its status after the attempt ("not_claimed" when
    it is not due or someone else is sending it). Never raises for a delivery problem."""
    now = timezone.now()
    message = _claim(message_id=message_id, now=now)
    if message is None:
        return "not_claimed"
    try:
        with translation.override(message.language):
            subject, text, html = message_render(
                kind=message.kind, facts=message.facts, link=message.link
            )
        email = EmailMultiAlternatives(
            subject=subject, body=text, from_email=settings.ALERTS_FROM, to=message.recipients
        )
        email.attach_alternative(html, "text/html")
        email.send(fail_silently=False)
    except Exception as exc:
        return _send_failed(message, exc)
    AlertMessage.objects.filter(pk=message.pk, claimed_at=now).update(
        status=Status.SENT, sent_at=timezone.now(), subject=subject[:300], error=""
    )
    logger.info(
        "alert message %s (%s) sent to %d recipient(s)",
        message.pk,
        message.kind,
        len(message.recipients),
    )
    return Status.SENT


def _send_failed(message: AlertMessage, exc: Exception) -> str:
    error = f"{type(exc).__name__}: {exc}"[:2000]
    final = message.attempts >= MAX_ATTEMPTS
    next_at = None if final else timezone.now() + RETRY_DELAYS[message.attempts - 1]
    AlertMessage.objects.filter(pk=message.pk, claimed_at=message.claimed_at).update(
        status=Status.FAILED, error=error, next_attempt_at=next_at
    )
    if next_at is None:  # `final`, spelled so that the type checker knows next_at below
        _throttle_forget(kind=message.kind, fingerprint=message.facts.get("_fingerprint", ""))
        logger.error(
            "alert message %s (%s) not sent, giving up: %s", message.pk, message.kind, error
        )
    else:
        logger.warning(
            "alert message %s (%s) not sent (attempt %d), retry at %s: %s",
            message.pk,
            message.kind,
            message.attempts,
            next_at.isoformat(),
            error,
        )
    return Status.FAILED


def alert_messages_due(*, now: datetime) -> list[int]:
    """Messages to send now: retries due, and pending ones whose task was lost."""
    return list(
        AlertMessage.objects.filter(
            Q(status=Status.FAILED, next_attempt_at__lte=now)
            | Q(status=Status.PENDING, created_at__lt=now - LOST_AFTER)
            | Q(status=Status.SENDING, claimed_at__lt=now - STALE_SENDING)
        )
        .order_by("created_at")
        .values_list("pk", flat=True)
    )


# --------------------------------------------------------------------------- checks


def _windowed(
    check: Callable[..., AlertFact | None], kind: str
) -> Callable[[datetime], AlertFact | None]:
    return lambda now: check(since=throttle_window_start(kind=kind, now=now))


CHECKS: dict[str, Callable[[datetime], AlertFact | None]] = {
    AlertKind.NEEDS_RECONNECT: lambda now: selectors.needs_reconnect_fact(),
    AlertKind.SIGNATURE_FAILURES: lambda now: selectors.signature_failures_fact(),
    AlertKind.OTHER_COMPANY: _windowed(selectors.other_company_fact, AlertKind.OTHER_COMPANY),
    AlertKind.SCHEDULE_OVERDUE: lambda now: selectors.schedule_overdue_fact(),
    AlertKind.EVENTS_FAILED: _windowed(selectors.events_failed_fact, AlertKind.EVENTS_FAILED),
    AlertKind.WRITES_FAILED: _windowed(selectors.writes_failed_fact, AlertKind.WRITES_FAILED),
    AlertKind.CALL_BUDGET: lambda now: selectors.call_budget_fact(),
}


def alert_check(*, kind: str, now: datetime | None = None) -> list[AlertMessage]:
    """Raise `kind` if its fact holds now (and the throttle lets it through)."""
    now = now or timezone.now()
    if throttle_sent_recently(kind=kind, now=now):
        return []
    fact = CHECKS[kind](now)
    return alert_raise(fact=fact, now=now) if fact is not None else []


def daily_summary_send_if_due(*, now: datetime | None = None) -> list[AlertMessage]:

    now = now or timezone.now()
    day = daily_summary_due(now=now)
    if day is None:
        return []
    # Once a day: the fingerprint is the day reported.
    if AlertThrottle.objects.filter(
        kind=AlertKind.DAILY_SUMMARY, fingerprint=day.isoformat()
    ).exists():
        return []
    fact = AlertFact(
        kind=AlertKind.DAILY_SUMMARY,
        facts=daily_summary_facts(day=day),
        fingerprint=day.isoformat(),
    )
    return alert_raise(fact=fact, now=now)


def alerts_check_all(*, now: datetime | None = None) -> dict[str, int]:
    """The periodic check: every alert kind, the daily summary, then due retries. One part
    failing is logged and does not stop the others. Returns messages raised/sent per part."""
    now = now or timezone.now()
    done: dict[str, int] = {}
    parts: list[tuple[str, Callable[[], list[AlertMessage]]]] = [
        (kind, partial(alert_check, kind=kind, now=now)) for kind in CHECKS
    ]
    parts.append((AlertKind.DAILY_SUMMARY, lambda: daily_summary_send_if_due(now=now)))
    for name, part in parts:
        try:
            done[name] = len(part())
        except Exception:
            logger.exception("alert check %s failed", name)
    sent = 0
    for message_id in alert_messages_due(now=now):
        sent += alert_message_send(message_id=message_id) == Status.SENT
    done["resent"] = sent
    return done
