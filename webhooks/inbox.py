"""The webhook inbox: store every request as received, decide the answer, queue the work.

`webhook_receive` is all the receiver view does. It never calls Bling and never processes:
Bling counts any 2xx within 5 s as delivered and disables a webhook that keeps failing, so
the answer must not depend on processing. Rules (SPEC 5.6):

- body over `WEBHOOK_MAX_BODY_BYTES` -> 413, recorded with a truncated body;
- missing or wrong signature -> 401, recorded with `signature_valid=False` and no event id
  (a forged copy must never block the real event with the same id), never processed;
- signed but not a JSON object with string `eventId` and `event` -> 400, recorded;
- an `eventId` already stored -> 200, not processed again. The unique constraint decides
  (insert inside a savepoint, catch IntegrityError): a check-then-insert would let two copies
  arriving at the same instant both pass;
- otherwise the event is stored `pending` and its processing queued after commit -> 200
  (with the ORM broker the task row is written in the event's own transaction, which is
  the same guarantee in one write: see `queueing.enqueue_joins_transaction`).
"""

from __future__ import annotations

import ipaddress
import json
import logging
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from webhooks.models import WebhookEvent
from webhooks.queueing import (
    enqueue_joins_transaction,
    event_enqueue,
    event_enqueue_in_transaction,
)
from webhooks.signature import SIGNATURE_HEADER, signature_is_valid

logger = logging.getLogger(__name__)

# Never stored: credentials a proxy or a client might add.
_SECRET_HEADERS = {"authorization", "cookie", "proxy-authorization", "x-api-key"}
_TRUNCATED_BODY_CHARS = 4096
_MAX_HEADER_CHARS = 1000


def _text(raw: bytes) -> str:
    # PostgreSQL text cannot hold NUL; anything not UTF-8 is evidence of junk, not of an event.
    return raw.decode("utf-8", errors="replace").replace("\x00", "\ufffd")


def _clean_headers(headers: Mapping[str, str]) -> dict[str, str]:
    cleaned = {}
    for name, value in headers.items():
        if name.lower() in _SECRET_HEADERS:
            continue
        cleaned[str(name)] = str(value)[:_MAX_HEADER_CHARS].replace("\x00", "\ufffd")
    return cleaned


def _ip_or_none(value: str | None) -> str | None:
    # The column is `inet` on PostgreSQL: a unix-socket peer or junk must not fail the insert.
    try:
        return str(ipaddress.ip_address((value or "").strip()))
    except ValueError:
        return None


def _header(headers: Mapping[str, str], name: str) -> str | None:
    lowered = name.lower()
    for key, value in headers.items():
        if key.lower() == lowered:
            return value
    return None


def _resource_id(event_type: str, data: Any) -> int | None:
    """The product id of product/stock events, the order id of order events."""
    if not isinstance(data, dict):
        return None
    if event_type.startswith(("stock.", "virtual_stock.")):
        product = data.get("produto")
        value = product.get("id") if isinstance(product, dict) else None
    else:
        value = data.get("id")
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.isdigit():
        return int(value)
    return None


def _event_date(value: Any) -> datetime | None:
    """Bling's `date`, informative only: a bad one is kept in the body, not refused."""
    if not isinstance(value, str):
        return None
    try:
        parsed = parse_datetime(value)
    except ValueError:
        return None
    if parsed is not None and timezone.is_naive(parsed):
        parsed = timezone.make_aware(parsed, UTC)
    return parsed


class _Malformed(ValueError):
    pass


def _parse_envelope(body: bytes) -> dict[str, Any]:
    try:
        envelope = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise _Malformed(f"JSON inválido: {exc}") from None
    if not isinstance(envelope, dict):
        raise _Malformed("o corpo não é um objeto JSON")
    event_id, event_type = envelope.get("eventId"), envelope.get("event")
    if not isinstance(event_id, str) or not event_id.strip() or len(event_id) > 100:
        raise _Malformed("eventId ausente ou inválido")
    if not isinstance(event_type, str) or not event_type.strip() or len(event_type) > 60:
        raise _Malformed("event ausente ou inválido")
    if "data" in envelope and not isinstance(envelope["data"], dict):
        raise _Malformed("data não é um objeto")
    company = envelope.get("companyId")
    if company is not None and not isinstance(company, str):
        raise _Malformed("companyId não é texto")
    return envelope


def _record_rejected(
    *,
    http_status: int,
    body: str,
    headers: dict,
    remote_addr: str | None,
    signature_valid: bool,
    error: str,
    event_type: str = "",
) -> WebhookEvent:
    return WebhookEvent.objects.create(
        event_id=None,
        event_type=event_type[:60],
        body=body,
        headers=headers,
        remote_addr=remote_addr,
        signature_valid=signature_valid,
        http_status=http_status,
        status=WebhookEvent.Status.REJECTED,
        last_error=error,
    )


def webhook_receive(
    *, body: bytes, headers: Mapping[str, str], remote_addr: str | None
) -> tuple[int, WebhookEvent | None]:
    """Record one delivery and return (HTTP status, the stored row or None for a duplicate)."""
    clean_headers = _clean_headers(headers)
    remote_addr = _ip_or_none(remote_addr)

    if len(body) > settings.WEBHOOK_MAX_BODY_BYTES:
        event = _record_rejected(
            http_status=413,
            body=_text(body[:_TRUNCATED_BODY_CHARS]),
            headers=clean_headers,
            remote_addr=remote_addr,
            signature_valid=False,
            error=f"corpo acima de {settings.WEBHOOK_MAX_BODY_BYTES} bytes",
        )
        logger.warning("webhook refused: body over %d bytes", settings.WEBHOOK_MAX_BODY_BYTES)
        return 413, event

    if not signature_is_valid(body=body, header_value=_header(headers, SIGNATURE_HEADER)):
        missing = _header(headers, SIGNATURE_HEADER) is None
        event = _record_rejected(
            http_status=401,
            body=_text(body),
            headers=clean_headers,
            remote_addr=remote_addr,
            signature_valid=False,
            error="assinatura ausente" if missing else "assinatura inválida",
        )
        logger.warning(
            "webhook refused: %s signature from %s",
            "missing" if missing else "invalid",
            remote_addr,
        )
        return 401, event

    try:
        envelope = _parse_envelope(body)
    except _Malformed as exc:
        event = _record_rejected(
            http_status=400,
            body=_text(body),
            headers=clean_headers,
            remote_addr=remote_addr,
            signature_valid=True,
            error=str(exc),
        )
        logger.warning("webhook refused: signed but malformed (%s)", exc)
        return 400, event

    event_type = envelope["event"].strip()
    event_date = _event_date(envelope.get("date"))
    try:
        with transaction.atomic():
            event = WebhookEvent.objects.create(
                event_id=envelope["eventId"].strip(),
                event_type=event_type,
                company_id=(envelope.get("companyId") or "")[:64],
                resource_id=_resource_id(event_type, envelope.get("data")),
                event_date=event_date,
                body=_text(body),
                headers=clean_headers,
                remote_addr=remote_addr,
                signature_valid=True,
                http_status=200,
                status=WebhookEvent.Status.PENDING,
            )
            event_pk = event.pk
            if enqueue_joins_transaction():
                event_enqueue_in_transaction(event_pk=event_pk)
            else:
                transaction.on_commit(lambda: event_enqueue(event_pk=event_pk))
    except IntegrityError:
        # Another copy of this eventId is already stored (or being stored right now).
        logger.info("duplicate webhook event %s ignored", envelope["eventId"])
        return 200, None
    return 200, event
