"""Reading a signed delivery's envelope and deciding whether it is one we act upon.

Pure functions (no database, no HTTP): the inbox calls `envelope_assess` with the body, the
connected company and the time, and stores what it returns. SPEC 5.6: any signed body that
is valid JSON gets a 2xx; an envelope we cannot use is stored `ignored` with its reason
(never answered 4xx: Bling would retry it for 3 days and then disable the resource's
webhooks). Only a body that is not JSON at all (`NotJson`) is refused.

Bling's envelope (bling-v3.md 8.3): `{eventId, date, version, event, companyId, data}`.
The first reason that applies wins, in this order:
- not an object -> bad_envelope; no `eventId` -> no_event_id; an `eventId` that is not a
  usable string -> bad_envelope (both keyed by the body's sha256, so a copy is a duplicate);
- `companyId` not a string -> bad_envelope; a `companyId` other than the connected
  company's -> other_company (decided before anything else about the payload: it means
  the app's webhooks are configured on a second account, whatever that account sends);
  no `companyId` once a company is connected -> no_company (we cannot tell whose it is);
- `event`, `version`, `date` of the wrong type, `data` not an object -> bad_envelope;
- a `version` other than v1 (or none) -> unknown_version; an event we do not handle ->
  unknown_event; no usable `date` -> no_date; a `date` more than `STALE_AFTER` before
  reception -> stale (a replay: Bling retries for 3 days, and stored event ids are kept 7);
  one more than `FUTURE_AFTER` after reception -> future_date (a clock that far off, or a
  forged date meant to outlive the replay window);
- a handled event whose `data` carries no usable resource id -> bad_envelope.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from django.utils import timezone
from django.utils.dateparse import parse_datetime

from webhooks.models import WebhookEvent

Reason = WebhookEvent.IgnoreReason

KNOWN_VERSIONS = frozenset({"v1"})
_ACTIONS = ("created", "updated", "deleted")
HANDLED_EVENTS = frozenset(
    [f"{resource}.{action}" for resource in ("product", "stock", "order") for action in _ACTIONS]
    + ["virtual_stock.updated"]
    # Sales evidence from invoices (NF-e, NFC-e): routed to their own handler.
    + [
        f"{resource}.{action}"
        for resource in ("invoice", "consumer_invoice")
        for action in _ACTIONS
    ]
)
# Bling retries a delivery for up to 3 days: anything older is a replay.
STALE_AFTER = timedelta(days=4)
# Clocks drift and Bling's may be ahead of ours, but not by a day.
FUTURE_AFTER = timedelta(days=1)
# Deeper JSON is not an envelope of Bling's (a few levels) and would break whoever parses
# the stored body again (processing, the admin) with a RecursionError.
MAX_JSON_DEPTH = 64
# The largest id a bigint column holds; Bling's ids are positive.
_MAX_RESOURCE_ID = 2**63 - 1
_MAX_EVENT_ID = 100
_MAX_EVENT_TYPE = 60
_MAX_COMPANY = 64


class NotJson(ValueError):
    """The body is not JSON (or not UTF-8, as RFC 8259 requires): answered 400."""


@dataclass(frozen=True)
class Envelope:
    event_id: str  # the eventId, or "sha256:<hex of the body>" when it has no usable one
    event_type: str
    company_id: str
    resource_id: int | None
    event_date: datetime | None
    ignore_reason: str = ""  # a WebhookEvent.IgnoreReason value, "" for an event to process
    detail: str = ""  # why, in staff's words (Portuguese)


def storable(value: str) -> str:
    """`value` with NUL and lone surrogates replaced: PostgreSQL and SQLite store it as is."""
    if value.isascii():
        return value.replace("\x00", "\ufffd")
    return value.encode("utf-8", errors="replace").decode("utf-8").replace("\x00", "\ufffd")


def body_key(body: bytes) -> str:
    return "sha256:" + hashlib.sha256(body).hexdigest()


def _too_deep(value: Any, limit: int) -> bool:
    """True when `value` nests more than `limit` objects/arrays (iterative: no recursion)."""
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if depth > limit:
            return True
        children = item.values() if isinstance(item, dict) else item
        stack.extend((c, depth + 1) for c in children if isinstance(c, (dict, list)))
    return False


_UNREADABLE = object()  # valid JSON that Python cannot hold (too deep, a huge integer)


def _parse(body: bytes) -> Any:
    # Strict UTF-8 (RFC 8259): json.loads(bytes) would also take UTF-16/32 and a BOM, and then
    # the stored text (what processing parses again) would no longer be the JSON accepted.
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise NotJson("corpo não está em UTF-8") from None
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise NotJson(f"JSON inválido: {exc}") from None
    except (ValueError, RecursionError):
        # An integer literal past Python's digit limit, or nesting past the recursion limit:
        # JSON all the same, so it gets its 2xx (and is ignored).
        return _UNREADABLE
    if isinstance(value, (dict, list)) and _too_deep(value, MAX_JSON_DEPTH):
        return _UNREADABLE
    return value


def _text_field(value: Any, limit: int) -> str | None:
    """A usable string field (stripped), or None when absent, blank, too long or not storable."""
    if not isinstance(value, str):
        return None
    value = value.strip()
    if not value or len(value) > limit or storable(value) != value:
        return None
    return value


def event_date_parse(value: Any) -> datetime | None:
    """Bling's `date` in UTC; None when it is not a date a datetime can hold."""
    if not isinstance(value, str):
        return None
    try:
        parsed = parse_datetime(value.strip())
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


def resource_id_of(event_type: str, data: Any) -> int | None:
    """The product id of product/stock events, the document id of order/invoice events."""
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


def company_matches(*, company_id: str, connected_company: str) -> bool:
    """Whether an event's company is the connected one (unknown on either side: yes)."""
    if not company_id or not connected_company:
        return True
    return company_id.strip().lower() == connected_company.strip().lower()


def envelope_assess(*, body: bytes, connected_company: str, now: datetime) -> Envelope:
    """What to store for a signed `body` (see the module docstring); raises NotJson."""
    value = _parse(body)
    key = body_key(body)

    def ignored(reason: str, detail: str, **known: Any) -> Envelope:
        fields: dict[str, Any] = {
            "event_id": key,
            "event_type": "",
            "company_id": "",
            "resource_id": None,
            "event_date": None,
        }
        fields.update(known)
        return Envelope(**fields, ignore_reason=reason, detail=detail)

    if value is _UNREADABLE:
        return ignored(
            Reason.BAD_ENVELOPE, f"JSON aninhado além de {MAX_JSON_DEPTH} níveis ou número longo"
        )
    if not isinstance(value, dict):
        return ignored(Reason.BAD_ENVELOPE, "o corpo não é um objeto JSON")

    raw_type = value.get("event")
    event_type = storable(raw_type.strip())[:_MAX_EVENT_TYPE] if isinstance(raw_type, str) else ""
    raw_company = value.get("companyId")
    company = storable(raw_company.strip())[:_MAX_COMPANY] if isinstance(raw_company, str) else ""
    event_date = event_date_parse(value.get("date"))
    known = {"event_type": event_type, "company_id": company, "event_date": event_date}

    if value.get("eventId") is None:
        return ignored(Reason.NO_EVENT_ID, "envelope sem eventId", **known)
    event_id = _text_field(value.get("eventId"), _MAX_EVENT_ID)
    if event_id is None:
        return ignored(Reason.BAD_ENVELOPE, "eventId não é um texto utilizável", **known)
    known["event_id"] = event_id

    if raw_company is not None and _text_field(raw_company, _MAX_COMPANY) is None:
        return ignored(Reason.BAD_ENVELOPE, "companyId não é um texto utilizável", **known)
    if not company_matches(company_id=company, connected_company=connected_company):
        return ignored(
            Reason.OTHER_COMPANY,
            f"evento da empresa {company}, não da conectada ({connected_company})",
            **known,
        )
    if not company and connected_company:
        return ignored(
            Reason.NO_COMPANY,
            f"evento sem companyId; a empresa conectada é {connected_company}",
            **known,
        )
    if _text_field(raw_type, _MAX_EVENT_TYPE) is None:
        return ignored(Reason.BAD_ENVELOPE, "event ausente ou não é um texto", **known)
    version = value.get("version")
    if version is not None and not isinstance(version, str):
        return ignored(Reason.BAD_ENVELOPE, "version não é um texto", **known)
    date = value.get("date")
    if date is not None and not isinstance(date, str):
        return ignored(Reason.BAD_ENVELOPE, "date não é um texto", **known)
    data = value.get("data")
    if not isinstance(data, dict):
        return ignored(Reason.BAD_ENVELOPE, "data não é um objeto", **known)

    if (version or "").strip().lower() not in KNOWN_VERSIONS:
        shown = storable(version)[:20] if version else "ausente"
        return ignored(Reason.UNKNOWN_VERSION, f"versão do payload {shown}", **known)
    if event_type not in HANDLED_EVENTS:
        return ignored(Reason.UNKNOWN_EVENT, f"evento {event_type} não tratado", **known)
    if event_date is None:
        shown = storable(date.strip())[:40] if isinstance(date, str) and date.strip() else ""
        detail = f"data do evento ilegível ({shown})" if shown else "evento sem data"
        return ignored(Reason.NO_DATE, detail, **known)
    if event_date - now > FUTURE_AFTER:
        return ignored(
            Reason.FUTURE_DATE,
            f"data do evento {event_date:%Y-%m-%d %H:%M} UTC, mais de "
            f"{FUTURE_AFTER.days} dia depois do recebimento",
            **known,
        )
    if now - event_date > STALE_AFTER:
        return ignored(
            Reason.STALE,
            f"data do evento {event_date:%Y-%m-%d %H:%M} UTC, mais de "
            f"{STALE_AFTER.days} dias antes do recebimento (reenvio)",
            **known,
        )
    resource_id = resource_id_of(event_type, data)
    if resource_id is None:
        return ignored(Reason.BAD_ENVELOPE, "data sem id de recurso válido", **known)
    return Envelope(
        event_id=event_id,
        event_type=event_type,
        company_id=company,
        resource_id=resource_id,
        event_date=event_date,
    )
