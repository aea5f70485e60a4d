"""The webhook inbox: store every request as received, decide the answer, queue the work.

`webhook_receive` is all the receiver view does. It never calls Bling and never processes:
Bling counts any 2xx within 5 s as delivered and disables a webhook that keeps failing, so
the answer must not depend on processing. Rules (SPEC 5.6):

- body over `WEBHOOK_MAX_BODY_BYTES` -> 413, recorded with a truncated body;
- missing or wrong signature -> 401, recorded with `signature_valid=False` and no event id
  (a forged copy must never block the real event with the same id), never processed;
- signed but not a JSON object with string `eventId` and `event` -> 400, recorded; so is a
  body that is not UTF-8, nests deeper than `MAX_JSON_DEPTH`, or whose `eventId`, `event` or
  `companyId` holds a NUL or a lone surrogate (neither PostgreSQL nor SQLite can store them);
- an id in `data` outside 1..2**63-1 is no resource id: the event is kept (200) with
  `resource_id` None, so processing ignores it and the raw body stays as evidence;
- an `eventId` already stored -> 200, not processed again. The unique constraint decides
  (insert inside a savepoint, catch IntegrityError): a check-then-insert would let two copies
  arriving at the same instant both pass;
- otherwise the event is stored `pending` and its processing queued after commit -> 200
  (with the ORM broker the task row is written in the event's own transaction, which is
  the same guarantee in one write: see `queueing.enqueue_joins_transaction`).

Whatever the input, the answer is never a 500: everything stored is a storable copy (no NUL,
no lone surrogate), and if even the refused row cannot be stored, a minimal one without body
and headers is (then nothing at all, logged without the payload) and the 4xx is still answered.
"""

from __future__ import annotations

import ipaddress
import json
import logging
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from django.conf import settings
from django.db import DataError, IntegrityError, transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from blingsync.alerts.triggers import alert_signature_failure
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


# Deeper JSON is refused: Bling's payloads nest a few levels, and a deep one would break
# whoever parses the body again (processing, the admin) with a RecursionError.
MAX_JSON_DEPTH = 64
# The largest id a bigint column holds; Bling's ids are positive.
_MAX_RESOURCE_ID = 2**63 - 1


def _text(raw: bytes) -> str:
    # PostgreSQL text cannot hold NUL; anything not UTF-8 is evidence of junk, not of an event.
    return raw.decode("utf-8", errors="replace").replace("\x00", "\ufffd")


def _storable(value: str) -> str:
    """`value` with NUL and lone surrogates replaced: PostgreSQL and SQLite store it as is."""
    if value.isascii():
        return value.replace("\x00", "\ufffd")
    return value.encode("utf-8", errors="replace").decode("utf-8").replace("\x00", "\ufffd")


def _unstorable(value: str) -> bool:
    return _storable(value) != value


def _clean_headers(headers: Mapping[str, str]) -> dict[str, str]:
    cleaned = {}
    for name, value in headers.items():
        name = str(name)
        if name.lower() in _SECRET_HEADERS:
            continue
        cleaned[_storable(name[:_MAX_HEADER_CHARS])] = _storable(str(value)[:_MAX_HEADER_CHARS])
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
    if isinstance(value, str) and value.isascii() and value.isdigit() and len(value) <= 19:
        value = int(value)
    if isinstance(value, int) and 0 < value <= _MAX_RESOURCE_ID:
        return value
    # Zero, negative or beyond a bigint: not an id Bling gives (the body keeps what came).
    return None


def _event_date(value: Any) -> datetime | None:
    """Bling's `date`, informative only: a bad one is kept in the body, not refused."""
    if not isinstance(value, str):
        return None
    try:
        parsed = parse_datetime(value)
    except ValueError:
        return None
    if parsed is None:
        return None
    if timezone.is_naive(parsed):
        parsed = timezone.make_aware(parsed, UTC)
    try:
        # Stored in UTC: year 1 or 9999 with an offset falls outside what a datetime holds.
        return parsed.astimezone(UTC)
    except OverflowError:
        return None


class _Malformed(ValueError):
    pass


def _too_deep(value: Any, limit: int) -> bool:
    """True when `value` nests more than `limit` objects/arrays (iterative: no recursion)."""
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        children = item.values() if isinstance(item, dict) else item
        if depth > limit:
            return True
        stack.extend((c, depth + 1) for c in children if isinstance(c, (dict, list)))
    return False


def _parse_envelope(body: bytes) -> dict[str, Any]:
    # Strict UTF-8 (RFC 8259): json.loads(bytes) would also take UTF-16/32 and a BOM, and then
    # the stored text (what processing parses again) would no longer be the JSON accepted.
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise _Malformed("corpo não está em UTF-8") from None
    try:
        envelope = json.loads(text)
    except json.JSONDecodeError as exc:
        raise _Malformed(f"JSON inválido: {exc}") from None
    except ValueError:
        # An integer literal past Python's digit limit (sys.get_int_max_str_digits).
        raise _Malformed("JSON inválido: número longo demais") from None
    except RecursionError:
        raise _Malformed(f"JSON aninhado além de {MAX_JSON_DEPTH} níveis") from None
    if not isinstance(envelope, dict):
        raise _Malformed("o corpo não é um objeto JSON")
    if _too_deep(envelope, MAX_JSON_DEPTH):
        raise _Malformed(f"JSON aninhado além de {MAX_JSON_DEPTH} níveis")
    event_id, event_type = envelope.get("eventId"), envelope.get("event")
    if not isinstance(event_id, str) or not event_id.strip() or len(event_id) > 100:
        raise _Malformed("eventId ausente ou inválido")
    if _unstorable(event_id):
        raise _Malformed("eventId com NUL ou surrogate isolado")
    if not isinstance(event_type, str) or not event_type.strip() or len(event_type) > 60:
        raise _Malformed("event ausente ou inválido")
    if _unstorable(event_type):
        raise _Malformed("event com NUL ou surrogate isolado")
    if "data" in envelope and not isinstance(envelope["data"], dict):
        raise _Malformed("data não é um objeto")
    company = envelope.get("companyId")
    if company is not None and not isinstance(company, str):
        raise _Malformed("companyId não é texto")
    if company is not None and _unstorable(company):
        raise _Malformed("companyId com NUL ou surrogate isolado")
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
) -> WebhookEvent | None:
    """Store a refused delivery; never raises for what the delivery holds.

    If the full row cannot be stored, a minimal one is (no body, no headers, no address: only
    fixed values that any database takes); if even that fails (database unreachable), the
    refusal is only logged, without the payload, and the caller still answers its 4xx.
    """
    fields = {
        "event_id": None,
        "signature_valid": signature_valid,
        "http_status": http_status,
        "status": WebhookEvent.Status.REJECTED,
    }
    try:
        with transaction.atomic():
            return WebhookEvent.objects.create(
                **fields,
                event_type=_storable(event_type[:60]),
                body=_storable(body),
                headers=headers,
                remote_addr=remote_addr,
                last_error=_storable(error),
            )
    except Exception as exc:  # noqa: BLE001 - the answer must not depend on storing
        failure = type(exc).__name__
    logger.warning("webhook refusal (%d) stored without body: %s", http_status, failure)
    try:
        with transaction.atomic():
            return WebhookEvent.objects.create(
                **fields, last_error=f"{_storable(error)} (corpo não guardado: {failure})"
            )
    except Exception as exc:  # noqa: BLE001
        logger.error("webhook refusal (%d) not recorded: %s", http_status, type(exc).__name__)
        return None


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
        alert_signature_failure()
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
    # UTF-8 without NUL or lone surrogates by now (_parse_envelope): the text parsed is stored.
    text = body.decode("utf-8")
    try:
        with transaction.atomic():
            event = WebhookEvent.objects.create(
                event_id=envelope["eventId"].strip(),
                event_type=event_type,
                company_id=(envelope.get("companyId") or "")[:64],
                resource_id=_resource_id(event_type, envelope.get("data")),
                event_date=event_date,
                body=text,
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
    except (DataError, ValueError, OverflowError) as exc:
        # A value the checks above let through but the database refuses: the delivery is
        # refused (and recorded) rather than answered 500. Database outages still raise: a
        # 5xx makes Bling deliver again later, which is what should happen then.
        logger.warning("webhook refused: signed but not storable (%s)", type(exc).__name__)
        event = _record_rejected(
            http_status=400,
            body=_text(body),
            headers=clean_headers,
            remote_addr=remote_addr,
            signature_valid=True,
            error=f"evento não armazenável: {type(exc).__name__}",
            event_type=event_type,
        )
        return 400, event
    return 200, event
