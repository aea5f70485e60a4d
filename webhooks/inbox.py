"""The webhook inbox: store every request, decide the answer, queue the work.

`webhook_receive` is all the receiver view does. It never calls Bling and never processes:
Bling counts any 2xx within 5 s as delivered and disables a webhook that keeps failing, so
the answer must not depend on processing. Rules (SPEC 5.6):

- body over `WEBHOOK_MAX_BODY_BYTES` -> 413; missing or wrong signature -> 401. Neither is
  trusted, so only metadata is kept (time, remote address, size, sha256 of the body, its
  first 512 bytes, a few headers: at most 2 KB a row, purged after 48 hours), with no event
  id (a forged copy must never block the real event with the same id), never processed.
  Past a few rows from one network (an IPv4 address, an IPv6 /64) in a minute, a refusal
  is only counted on the latest row (`repeats`, see `refusal_fold`), so a flood neither
  fills the disk nor writes to the database for each request; the signature-failure alert
  check is queued at most once a minute (`alert_pace`), not once per stored refusal;
- signed but not JSON (or not UTF-8) -> 400, recorded with its body;
- any other signed body -> 200. `envelope.envelope_assess` decides: an envelope we cannot
  use (no eventId, unknown version or event, wrong types, another company, a replayed old
  date) is stored `ignored` with its `ignore_reason` and never queued; the rest is stored
  `pending` and its processing queued (with the ORM broker the task row is written in the
  event's own transaction, which is what `on_commit` promises in one write: see
  `queueing.enqueue_joins_transaction`);
- an event id already stored (an eventId, or the body's sha256 for an envelope without a
  usable one) -> 200, not stored again. The unique constraint decides (insert inside a
  savepoint, catch IntegrityError): a check-then-insert would let two copies arriving at the
  same instant both pass.

Whatever the input, the answer is never a 500: everything stored is a storable copy (no NUL,
no lone surrogate); a refused row that cannot be stored falls back to a minimal one, and a
signed event the database refuses to store is kept as a minimal ignored row (200).
"""

from __future__ import annotations

import hashlib
import ipaddress
import logging
from collections.abc import Mapping
from datetime import datetime, timedelta

from django.conf import settings
from django.db import DataError, IntegrityError, transaction
from django.utils import timezone

from blingsync.alerts.triggers import alert_other_company_event, alert_signature_failure
from blingsync.models import BlingConnection
from webhooks.alert_pace import refusal_alert_claim
from webhooks.envelope import Envelope, NotJson, body_key, envelope_assess, storable
from webhooks.models import WebhookEvent
from webhooks.queueing import (
    enqueue_joins_transaction,
    event_enqueue,
    event_enqueue_in_transaction,
)
from webhooks.refusal_fold import refusal_fold, refusal_network
from webhooks.signature import SIGNATURE_HEADER, signature_is_valid

logger = logging.getLogger(__name__)

# Never stored: credentials a proxy or a client might add.
_SECRET_HEADERS = {"authorization", "cookie", "proxy-authorization", "x-api-key"}
_MAX_HEADER_CHARS = 1000
# What is kept of an untrusted (unsigned or oversized) request: the first bytes of its body
# and these headers, each cut short, so that a row stays under 2 KB whatever was sent.
REFUSED_HEAD_BYTES = 512
REFUSED_HEADERS = (
    "Content-Type",
    "Content-Length",
    "User-Agent",
    "X-Forwarded-For",
    "X-Real-Ip",
    "X-Bling-Signature-256",
)
_REFUSED_HEADER_BYTES = 100
# How long after reception a pending event may wait for its task before the recovery tick
# queues it again (normally it is processed in well under a second).
QUEUE_GRACE = timedelta(seconds=60)

Status = WebhookEvent.Status


def _bytes_cut(value: str, limit: int) -> str:
    """`value` cut to at most `limit` bytes of UTF-8 (never in the middle of a character)."""
    return value.encode("utf-8")[:limit].decode("utf-8", errors="ignore")


def _clean_headers(headers: Mapping[str, str]) -> dict[str, str]:
    cleaned = {}
    for name, value in headers.items():
        name = str(name)
        if name.lower() in _SECRET_HEADERS:
            continue
        cleaned[storable(name[:_MAX_HEADER_CHARS])] = storable(str(value)[:_MAX_HEADER_CHARS])
    return cleaned


def _refused_headers(headers: Mapping[str, str]) -> dict[str, str]:
    kept = {}
    for name in REFUSED_HEADERS:
        value = _header(headers, name)
        if value is not None:
            kept[name] = _bytes_cut(storable(str(value)), _REFUSED_HEADER_BYTES)
    return kept


def _ip_or_none(value: str | None) -> str | None:
    # The column is `inet` on PostgreSQL: a unix-socket peer or junk must not fail the insert.
    try:
        return str(ipaddress.ip_address((value or "").strip()))
    except ValueError:
        return None


def _header(headers: Mapping[str, str], name: str) -> str | None:
    lowered = name.lower()
    for key, value in headers.items():
        if str(key).lower() == lowered:
            return value
    return None


def _text(raw: bytes) -> str:
    # PostgreSQL text cannot hold NUL; anything not UTF-8 is evidence of junk, not of an event.
    return raw.decode("utf-8", errors="replace").replace("\x00", "\ufffd")


def _store_refusal(*, fields: dict, minimal: dict, http_status: int) -> WebhookEvent | None:
    """Store a refused delivery; never raises for what the delivery holds.

    If the full row cannot be stored, `minimal` is (fixed values any database takes); if
    even that fails (database unreachable), the refusal is only logged, without the
    payload, and the caller still answers its 4xx.
    """
    try:
        with transaction.atomic():
            return WebhookEvent.objects.create(**fields)
    except Exception as exc:  # noqa: BLE001 - the answer must not depend on storing
        failure = type(exc).__name__
    logger.warning("webhook refusal (%d) stored without body: %s", http_status, failure)
    try:
        with transaction.atomic():
            minimal = {
                **minimal,
                "last_error": f"{minimal['last_error']} (não guardado: {failure})",
            }
            return WebhookEvent.objects.create(**minimal)
    except Exception as exc:  # noqa: BLE001
        logger.error("webhook refusal (%d) not recorded: %s", http_status, type(exc).__name__)
        return None


def _record_untrusted(
    *,
    http_status: int,
    body: bytes,
    headers: Mapping[str, str],
    remote_addr: str | None,
    error: str,
) -> WebhookEvent | None:
    """Metadata of an unsigned, badly signed or oversized request (at most 2 KB a row); past
    a few a minute from one network, only counted (`refusal_fold`): then None."""
    network = refusal_network(remote_addr)
    try:
        if refusal_fold(network=network, now=timezone.now()):
            return None
    except Exception as exc:  # noqa: BLE001 - the answer must not depend on storing
        logger.warning("could not fold a refusal: %s", type(exc).__name__)
    common = {
        "event_id": None,
        "signature_valid": False,
        "http_status": http_status,
        "status": Status.REJECTED,
        "body_size": len(body),
        "body_sha256": hashlib.sha256(body).hexdigest(),
        "last_error": error,
        "remote_network": network,
    }
    head = _bytes_cut(_text(body[:REFUSED_HEAD_BYTES]), REFUSED_HEAD_BYTES)
    return _store_refusal(
        fields={
            **common,
            "body": head,
            "headers": _refused_headers(headers),
            "remote_addr": remote_addr,
        },
        minimal=common,
        http_status=http_status,
    )


def _record_not_json(
    *, body: bytes, headers: dict, remote_addr: str | None, error: str
) -> WebhookEvent | None:
    """A signed body that is not JSON: 400, kept whole (it came from Bling)."""
    common = {
        "event_id": None,
        "signature_valid": True,
        "http_status": 400,
        "status": Status.REJECTED,
        "body_size": len(body),
        "body_sha256": hashlib.sha256(body).hexdigest(),
        "last_error": storable(error),
    }
    return _store_refusal(
        fields={**common, "body": _text(body), "headers": headers, "remote_addr": remote_addr},
        minimal=common,
        http_status=400,
    )


def connected_company_id() -> str:
    """The company id of the connected Bling account ("" when none is known yet)."""
    value = (
        BlingConnection.objects.exclude(company_id="")
        .order_by("pk")
        .values_list("company_id", flat=True)
        .first()
    )
    return value or ""


def _event_fields(
    envelope: Envelope, *, body: bytes, headers: dict, remote_addr: str | None, now: datetime
) -> dict:
    fields = {
        "event_id": envelope.event_id,
        "event_type": envelope.event_type,
        "company_id": envelope.company_id,
        "resource_id": envelope.resource_id,
        "event_date": envelope.event_date,
        "body": body.decode("utf-8"),  # valid UTF-8: envelope_assess refused anything else
        "body_size": len(body),
        "body_sha256": hashlib.sha256(body).hexdigest(),
        "headers": headers,
        "remote_addr": remote_addr,
        "signature_valid": True,
        "http_status": 200,
    }
    if envelope.ignore_reason:
        fields.update(
            status=Status.IGNORED,
            ignore_reason=envelope.ignore_reason,
            note=envelope.detail[:300],
            processed_at=now,
        )
    else:
        fields.update(status=Status.PENDING, recover_at=now + QUEUE_GRACE)
    return fields


def _store_event(fields: dict) -> WebhookEvent:
    """Insert the event (and queue it when pending) in one transaction; IntegrityError for
    an event id already stored."""
    with transaction.atomic():
        event = WebhookEvent.objects.create(**fields)
        if event.status == Status.PENDING:
            event_pk = event.pk
            if enqueue_joins_transaction():
                event_enqueue_in_transaction(event_pk=event_pk)
            else:
                transaction.on_commit(lambda: event_enqueue(event_pk=event_pk))
    return event


def webhook_receive(
    *, body: bytes, headers: Mapping[str, str], remote_addr: str | None
) -> tuple[int, WebhookEvent | None]:
    """Record one delivery and return (HTTP status, the stored row; None for a duplicate or
    a refusal only counted on an earlier row)."""
    remote_addr = _ip_or_none(remote_addr)

    if len(body) > settings.WEBHOOK_MAX_BODY_BYTES:
        event = _record_untrusted(
            http_status=413,
            body=body,
            headers=headers,
            remote_addr=remote_addr,
            error=f"corpo acima de {settings.WEBHOOK_MAX_BODY_BYTES} bytes",
        )
        # A folded refusal (a flood) is logged at DEBUG: one line per request would flood the log.
        logger.log(
            logging.WARNING if event else logging.DEBUG,
            "webhook refused: body over %d bytes from %s",
            settings.WEBHOOK_MAX_BODY_BYTES,
            remote_addr,
        )
        return 413, event

    signature = _header(headers, SIGNATURE_HEADER)
    if not signature_is_valid(body=body, header_value=signature):
        missing = signature is None
        event = _record_untrusted(
            http_status=401,
            body=body,
            headers=headers,
            remote_addr=remote_addr,
            error="assinatura ausente" if missing else "assinatura inválida",
        )
        if event and refusal_alert_claim(now=event.received_at):
            # A folded refusal (a flood) costs nothing more, and a stored one queues the
            # alert check only when none was queued in the last minute.
            alert_signature_failure()
        logger.log(
            logging.WARNING if event else logging.DEBUG,
            "webhook refused: %s signature from %s",
            "missing" if missing else "invalid",
            remote_addr,
        )
        return 401, event

    clean_headers = _clean_headers(headers)
    now = timezone.now()
    try:
        envelope = envelope_assess(body=body, connected_company=connected_company_id(), now=now)
    except NotJson as exc:
        event = _record_not_json(
            body=body, headers=clean_headers, remote_addr=remote_addr, error=str(exc)
        )
        logger.warning("webhook refused: signed but not JSON (%s)", exc)
        return 400, event

    fields = _event_fields(
        envelope, body=body, headers=clean_headers, remote_addr=remote_addr, now=now
    )
    try:
        event = _store_event(fields)
    except IntegrityError:
        # Another copy of this event is already stored (or being stored right now).
        logger.info("duplicate webhook event %s ignored", envelope.event_id)
        return 200, None
    except (DataError, ValueError, OverflowError) as exc:
        # A value the envelope checks let through but the database refuses. Still a signed
        # JSON body, so still a 2xx (a 4xx would make Bling retry it for 3 days, then disable
        # the webhook): kept as a minimal ignored row. Database outages still raise: a 5xx
        # makes Bling deliver again later, which is what should happen then.
        failure = type(exc).__name__
        logger.warning("webhook kept as ignored: signed but not storable (%s)", failure)
        minimal = {
            "event_id": body_key(body),
            "event_type": envelope.event_type,
            "signature_valid": True,
            "http_status": 200,
            "status": Status.IGNORED,
            "ignore_reason": WebhookEvent.IgnoreReason.BAD_ENVELOPE,
            "note": f"evento não armazenável: {failure}",
            "body_size": len(body),
            "body_sha256": hashlib.sha256(body).hexdigest(),
            "processed_at": now,
        }
        try:
            with transaction.atomic():
                event = WebhookEvent.objects.create(**minimal)
        except IntegrityError:
            return 200, None
        except (DataError, ValueError, OverflowError):
            minimal["event_type"] = ""
            with transaction.atomic():
                event = WebhookEvent.objects.create(**minimal)
    if event.status == Status.IGNORED:
        logger.info("webhook event %s stored as ignored: %s", event.pk, event.ignore_reason)
        if event.ignore_reason == WebhookEvent.IgnoreReason.OTHER_COMPANY:
            alert_other_company_event()  # webhooks configured on two accounts: tell staff
    return 200, event
