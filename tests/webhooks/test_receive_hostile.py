"""POST /webhooks/bling/ with signed but hostile bodies: a 4xx (or 200) recorded, never a 500.

The families of bench/drills/badinput.py that once answered 500: NUL and lone surrogates in
the envelope's strings, ids beyond a bigint, deep nesting. Run on SQLite and on PostgreSQL
(`DATABASE_URL=postgres://...`): each refuses different things (PostgreSQL: NUL in text and
in jsonb, surrogates; SQLite: surrogates, integers past 64 bits).
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import uuid

import pytest
from django.db import DataError, OperationalError
from django.db.models import QuerySet

from webhooks.envelope import MAX_JSON_DEPTH
from webhooks.inbox import webhook_receive
from webhooks.models import WebhookEvent

from .conftest import URL

pytestmark = pytest.mark.django_db

# A handled event whose processing needs no Bling call (a deleted product is only noted).
QUIET = "product.deleted"
REJECTED = WebhookEvent.Status.REJECTED
BAD = WebhookEvent.IgnoreReason.BAD_ENVELOPE
NO_DATE = WebhookEvent.IgnoreReason.NO_DATE


def _env(**fields) -> dict:
    env = {
        "eventId": str(uuid.uuid4()),
        "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "version": "v1",
        "event": QUIET,
        "companyId": "d4475854366a36c86a37e792f9634a51",
        "data": {"id": 1},
    }
    env.update(fields)
    return env


def _escaped(**fields) -> bytes:
    """JSON as Bling would write it: non-ASCII (and a lone surrogate) as \\uXXXX escapes."""
    return json.dumps(_env(**fields)).encode("ascii")


def _nested(opening: bytes, closing: bytes, leaf: bytes, levels: int, event="product.updated"):
    now = dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    head = json.dumps({"eventId": str(uuid.uuid4()), "event": event, "version": "v1", "date": now})[
        :-1
    ]
    return head.encode() + b',"data":' + opening * levels + leaf + closing * levels + b"}"


def _depth(levels: int) -> bytes:
    """An envelope nesting exactly `levels` objects in all (the envelope is level 1)."""
    return _nested(b'{"a":', b"}", b"1", levels - 1, event=QUIET)


# (label, body, expected status, ignore_reason ("" = an event processed), resource_id)
FAMILIES = [
    ("eventId with NUL", _escaped(eventId="abc\u0000def"), 200, BAD, None),
    ("event with NUL", _escaped(event="product.\u0000updated"), 200, BAD, None),
    ("companyId with NUL", _escaped(companyId="c\u0000"), 200, BAD, None),
    (
        "eventId lone surrogate",
        b'{"eventId":"\\ud800x","event":"product.updated","data":{}}',
        200,
        BAD,
        None,
    ),
    ("event lone surrogate", _escaped(event="\udfff"), 200, BAD, None),
    ("companyId lone surrogate", _escaped(companyId="c\udc80"), 200, BAD, None),
    (
        "eventId raw surrogate bytes",
        '{"eventId":"\ud800"}'.encode("utf-8", "surrogatepass"),
        400,
        None,
        None,
    ),
    (
        "data strings with NUL and surrogate",
        _escaped(data={"id": 3, "nome": "a\u0000b\ud800"}),
        200,
        "",
        3,
    ),
    ("data.id beyond bigint", _escaped(data={"id": 10**30}), 200, BAD, None),
    ("data.id just beyond bigint", _escaped(data={"id": 2**63}), 200, BAD, None),
    ("data.id largest bigint", _escaped(data={"id": 2**63 - 1}), 200, "", 2**63 - 1),
    ("data.id negative", _escaped(data={"id": -5}), 200, BAD, None),
    ("data.id float", _escaped(data={"id": 1.5e308}), 200, BAD, None),
    ("data.id long digit string", _escaped(data={"id": "9" * 40}), 200, BAD, None),
    ("data.id non-ASCII digits", _escaped(data={"id": "١٢"}), 200, BAD, None),
    (
        "stock produto.id beyond bigint",
        _escaped(event="stock.updated", data={"produto": {"id": 10**20}}),
        200,
        BAD,
        None,
    ),
    ("NaN id", _escaped(eventId="nan-1").replace(b'{"id": 1}', b'{"id": NaN}'), 200, BAD, None),
    # A date no datetime can hold is no date (SPEC 5.6: an event without one is ignored).
    ("date year 99999", _escaped(date="99999-01-01T00:00:00Z"), 200, NO_DATE, None),
    ("date 9999 before UTC", _escaped(date="9999-12-31T23:59:59-05:00"), 200, NO_DATE, None),
    ("date year 1 after UTC", _escaped(date="0001-01-01T00:00:00+05:00"), 200, NO_DATE, None),
    ("date offset +99:00", _escaped(date="2026-11-23T12:00:00+99:00"), 200, NO_DATE, None),
    (
        "integer of 5000 digits",
        b'{"eventId":"n","event":"x","data":{"id":' + b"9" * 5000 + b"}}",
        200,
        BAD,
        None,
    ),
    ("deep nesting 50k arrays", _nested(b"[", b"]", b"", 50_000), 200, BAD, None),
    ("deep nesting 20k dicts in data", _nested(b'{"a":', b"}", b"1", 20_000), 200, BAD, None),
    (f"nesting {MAX_JSON_DEPTH + 1} levels", _depth(MAX_JSON_DEPTH + 1), 200, BAD, None),
    # Parsed: ignored only because nested dicts carry no id.
    (f"nesting {MAX_JSON_DEPTH} levels", _depth(MAX_JSON_DEPTH), 200, BAD, None),
    ("utf-16 body", json.dumps(_env()).encode("utf-16"), 400, None, None),
    ("BOM + json", b"\xef\xbb\xbf" + _escaped(), 400, None, None),
    ("invalid utf-8", b'{"eventId":"\xff\xfe","event":"product.updated"}', 400, None, None),
]


def _rows() -> QuerySet[WebhookEvent]:
    return WebhookEvent.objects.order_by("id")


@pytest.mark.parametrize(
    "body,status,reason,resource_id", [f[1:] for f in FAMILIES], ids=[f[0] for f in FAMILIES]
)
def test_a_hostile_signed_body_is_answered_and_recorded(
    client, fake_bling, django_capture_on_commit_callbacks, body, status, reason, resource_id
):
    # The test client re-raises any exception of the view: reaching the asserts means no 500.
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            URL,
            data=body,
            content_type="application/json",
            HTTP_X_BLING_SIGNATURE_256=fake_bling.sign(body),
        )
    assert response.status_code == status
    event = WebhookEvent.objects.get()
    assert event.http_status == status
    assert event.signature_valid is True
    assert "\x00" not in event.body
    event.body.encode("utf-8")  # no lone surrogate either
    if status == 400:  # not JSON (or not UTF-8): the only signed bodies refused
        assert event.status == REJECTED
        assert event.event_id is None
        assert event.body  # the sanitised copy is kept as evidence
        assert event.last_error
        return
    assert event.event_id
    assert event.resource_id == resource_id
    assert event.body == body.decode("utf-8")  # exactly what was signed
    assert event.ignore_reason == reason
    if reason:
        assert event.status == WebhookEvent.Status.IGNORED and event.note
        assert event.attempts == 0  # never queued
    else:
        # Processed like any event: the worker can parse what was accepted.
        assert event.status == WebhookEvent.Status.PROCESSED


def test_an_id_beyond_bigint_is_kept_as_evidence_and_ignored(
    post_webhook, fake_bling, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = post_webhook("product.updated", {"id": 10**30}, event_id="evt-big")
    assert response.status_code == 200
    event = WebhookEvent.objects.get(event_id="evt-big")
    assert event.resource_id is None
    assert str(10**30) in event.body
    assert event.status == WebhookEvent.Status.IGNORED and event.ignore_reason == BAD
    assert fake_bling.calls(prefix="/produtos") == []  # nothing asked of Bling for it


def test_the_same_hostile_body_twice_is_one_ignored_row(client, fake_bling):
    """Keyed by the body's sha256 (its eventId is unusable): the copy is a duplicate."""
    body = _escaped(eventId="dup\u0000")
    for _ in range(2):
        response = client.post(
            URL,
            data=body,
            content_type="application/json",
            HTTP_X_BLING_SIGNATURE_256=fake_bling.sign(body),
        )
        assert response.status_code == 200
    event = _rows().get()
    assert event.event_id.startswith("sha256:") and event.ignore_reason == BAD


def test_headers_with_nul_and_surrogates_are_stored_sanitised(fake_bling):
    body = _escaped()
    headers = {
        "X-Bling-Signature-256": fake_bling.sign(body),
        "X-Odd\x00Name": "a\x00b",
        "X-Surrogate": "c\ud800d",
    }
    status, event = webhook_receive(body=body, headers=headers, remote_addr="127.0.0.1")
    assert status == 200
    stored = WebhookEvent.objects.get(pk=event.pk).headers
    assert stored["X-Odd\ufffdName"] == "a\ufffdb"
    assert stored["X-Surrogate"] == "c?d"


def test_a_refusal_whose_row_cannot_be_stored_is_stored_without_body(
    fake_bling, monkeypatch, caplog
):
    """Last line of defence: the full row fails, a minimal one is stored, still a 401."""
    real_create = QuerySet.create

    def create(self, **fields):
        if self.model is WebhookEvent and fields.get("body"):
            raise DataError("the database refused this row")
        return real_create(self, **fields)

    monkeypatch.setattr(QuerySet, "create", create)
    body = _escaped(eventId="secret-payload\u0000")
    with caplog.at_level(logging.WARNING, logger="webhooks.inbox"):
        status, event = webhook_receive(
            body=body,
            headers={"X-Bling-Signature-256": fake_bling.sign(body, secret="wrong")},
            remote_addr="127.0.0.1",
        )
    assert status == 401
    event = WebhookEvent.objects.get(pk=event.pk)
    assert event.status == REJECTED and event.http_status == 401
    assert event.body == "" and event.headers == {}
    assert "DataError" in event.last_error
    assert "secret-payload" not in caplog.text  # never the payload in the log


def test_a_refusal_that_cannot_be_stored_at_all_is_still_answered(
    client, fake_bling, monkeypatch, caplog
):
    real_create = QuerySet.create

    def create(self, **fields):
        if self.model is WebhookEvent:
            raise OperationalError("database unreachable")
        return real_create(self, **fields)

    monkeypatch.setattr(QuerySet, "create", create)
    body = b'{"eventId":"secret-payload","data":' + b"[" * 5000 + b"]" * 5000 + b"}"
    with caplog.at_level(logging.WARNING, logger="webhooks.inbox"):
        response = client.post(
            URL,
            data=body,
            content_type="application/json",
            HTTP_X_BLING_SIGNATURE_256=fake_bling.sign(body, secret="wrong"),
        )
    assert response.status_code == 401
    assert not WebhookEvent.objects.exists()
    assert "not recorded" in caplog.text
    assert "secret-payload" not in caplog.text


def test_an_accepted_event_the_database_refuses_is_answered_200_and_kept_minimal(
    post_webhook, monkeypatch
):
    """A value the checks let through but the database refuses: still signed JSON, so 200
    (a 4xx would get the webhook disabled), kept as a minimal ignored row, not a 500."""
    real_create = QuerySet.create

    def create(self, **fields):
        if self.model is WebhookEvent and fields.get("status") == WebhookEvent.Status.PENDING:
            raise DataError("value out of range")
        return real_create(self, **fields)

    monkeypatch.setattr(QuerySet, "create", create)
    response = post_webhook(QUIET, {"id": 1}, event_id="evt-refused")
    assert response.status_code == 200
    event = WebhookEvent.objects.get()
    assert event.status == WebhookEvent.Status.IGNORED and event.ignore_reason == BAD
    assert event.event_id.startswith("sha256:")
    assert event.event_type == QUIET
    assert "DataError" in event.note
