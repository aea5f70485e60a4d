"""Issue 13: the inbox on the open internet.

Never switched off by Bling (any signed JSON body gets a 2xx, unusable envelopes are stored
`ignored` with a reason), never acting for another company, never storing strangers' junk
(unsigned requests keep <= 2 KB of metadata for 48 h), back within minutes after a crash
(claim leases, a recovery tick every minute).
"""

from __future__ import annotations

import hashlib
import json
import time
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from blingsync import lease
from blingsync.models import RuntimeSettings
from blingsync.recovery import recovery_due, recovery_tick
from products.models import StockEvaluation
from tests.fakebling import webhooks as fake_webhooks
from tests.products.soldout_support import mode_live, tree_mirror
from webhooks.inbox import webhook_receive
from webhooks.maintenance import events_purge
from webhooks.models import WebhookEvent
from webhooks.processing import event_process

from .conftest import URL

pytestmark = pytest.mark.django_db

Status = WebhookEvent.Status
Reason = WebhookEvent.IgnoreReason
OTHER_COMPANY = "0123456789abcdef0123456789abcdef"


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _envelope(fake, **changes) -> dict:
    env = {
        "eventId": str(uuid.uuid4()),
        "date": _iso(timezone.now()),
        "version": "v1",
        "event": "product.updated",
        "companyId": fake.company_id,
        "data": {"id": 424242, "codigo": "", "situacao": "A"},
    }
    for key, value in changes.items():
        if value is _DROP:
            env.pop(key)
        else:
            env[key] = value
    return env


_DROP = object()


def _post_signed(client, fake, body: bytes):
    return client.post(
        URL, data=body, content_type="application/json", HTTP_X_BLING_SIGNATURE_256=fake.sign(body)
    )


# (label, envelope changes or a raw body, stored ignore_reason)
SHAPES = [
    ("no eventId", {"eventId": _DROP}, Reason.NO_EVENT_ID),
    ("eventId null", {"eventId": None}, Reason.NO_EVENT_ID),
    ("eventId a number", {"eventId": 123}, Reason.BAD_ENVELOPE),
    ("eventId blank", {"eventId": "  "}, Reason.BAD_ENVELOPE),
    ("eventId too long", {"eventId": "e" * 101}, Reason.BAD_ENVELOPE),
    ("version v2", {"version": "v2"}, Reason.UNKNOWN_VERSION),
    ("no version", {"version": _DROP}, Reason.UNKNOWN_VERSION),
    ("version a number", {"version": 1}, Reason.BAD_ENVELOPE),
    ("unknown event", {"event": "product.exploded"}, Reason.UNKNOWN_EVENT),
    ("unhandled resource", {"event": "product_supplier.updated"}, Reason.UNKNOWN_EVENT),
    ("event missing", {"event": _DROP}, Reason.BAD_ENVELOPE),
    ("event a list", {"event": ["product.updated"]}, Reason.BAD_ENVELOPE),
    ("data a list", {"data": [{"id": 1}]}, Reason.BAD_ENVELOPE),
    ("data null", {"data": None}, Reason.BAD_ENVELOPE),
    ("data missing", {"data": _DROP}, Reason.BAD_ENVELOPE),
    ("data a string", {"data": "12345"}, Reason.BAD_ENVELOPE),
    ("data without id", {"data": {"nome": "x"}}, Reason.BAD_ENVELOPE),
    ("data.id a word", {"data": {"id": "abc"}}, Reason.BAD_ENVELOPE),
    ("data.id true", {"data": {"id": True}}, Reason.BAD_ENVELOPE),
    ("stock without produto", {"event": "stock.updated", "data": {"id": 5}}, Reason.BAD_ENVELOPE),
    ("companyId a number", {"companyId": 42}, Reason.BAD_ENVELOPE),
    ("date a number", {"date": 1733000000}, Reason.BAD_ENVELOPE),
    ("another company", {"companyId": OTHER_COMPANY}, Reason.OTHER_COMPANY),
    (
        "another company, unknown version",
        {"companyId": OTHER_COMPANY, "version": "v9"},
        Reason.OTHER_COMPANY,
    ),
    ("date 5 days old", {"date": _iso(timezone.now() - timedelta(days=5))}, Reason.STALE),
    ("body a list", b"[1, 2, 3]", Reason.BAD_ENVELOPE),
    ("body a string", b'"product.updated"', Reason.BAD_ENVELOPE),
    ("body null", b"null", Reason.BAD_ENVELOPE),
    ("body a number", b"42", Reason.BAD_ENVELOPE),
]


@pytest.mark.parametrize("shape,reason", [s[1:] for s in SHAPES], ids=[s[0] for s in SHAPES])
def test_every_signed_json_shape_gets_200_and_its_stored_reason(
    client, fake_bling, bling_connected, django_capture_on_commit_callbacks, shape, reason
):
    body = shape if isinstance(shape, bytes) else json.dumps(_envelope(fake_bling, **shape))
    body = body if isinstance(body, bytes) else body.encode()
    fake_bling.requests.clear()
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = _post_signed(client, fake_bling, body)
    assert response.status_code == 200  # Bling never retries it, never disables the webhook
    event = WebhookEvent.objects.get()
    assert event.status == Status.IGNORED
    assert event.ignore_reason == reason
    assert event.note  # staff read why
    # Never queued for processing; another company's event asks for the alert check (only).
    alert_checks = [c for c in callbacks if c.__qualname__.startswith("alert_check_soon.")]
    assert len(alert_checks) == (1 if reason == Reason.OTHER_COMPANY else 0)
    assert event.attempts == 0 and len(callbacks) == len(alert_checks)
    assert event.body == body.decode()  # the signed body is kept as evidence
    assert event.recover_at is None
    assert fake_bling.calls() == []
    if reason in (Reason.NO_EVENT_ID, Reason.BAD_ENVELOPE) and event.event_id.startswith("sha"):
        assert event.event_id == "sha256:" + hashlib.sha256(body).hexdigest()
    # A copy is a duplicate (keyed by its eventId, or by the body's sha256): one row.
    assert _post_signed(client, fake_bling, body).status_code == 200
    assert WebhookEvent.objects.count() == 1


def test_a_signed_body_that_is_not_json_stays_400(client, fake_bling):
    assert _post_signed(client, fake_bling, b'{"eventId": "x", ').status_code == 400
    event = WebhookEvent.objects.get()
    assert event.status == Status.REJECTED and event.signature_valid is True


def test_staff_filter_the_inbox_by_reason(client, fake_bling, bling_connected):
    for changes in ({"companyId": OTHER_COMPANY}, {"version": "v2"}, {}):
        _post_signed(client, fake_bling, json.dumps(_envelope(fake_bling, **changes)).encode())
    user = get_user_model().objects.create_user("bia", password="x", is_staff=True)
    user.user_permissions.add(Permission.objects.get(codename="view_webhookevent"))
    client.force_login(user)
    url = reverse("admin:webhooks_webhookevent_changelist")
    page = client.get(url + "?ignore_reason__exact=other_company")
    assert page.status_code == 200
    assert page.context["cl"].result_count == 1
    assert "outra empresa" in page.text
    assert client.get(url).context["cl"].result_count == 3
    assert "versão desconhecida" in client.get(url).text


def test_another_companys_event_never_reaches_bling(
    client, fake_bling, bling_connected, django_capture_on_commit_callbacks
):
    tree = tree_mirror(fake_bling)
    mode_live()
    pid = fake_bling.add_product("Memória de outra conta", categoria_id=tree.memoria)["id"]
    fake_bling.requests.clear()
    body = fake_webhooks.body(OTHER_COMPANY, "product.created", {"id": pid, "codigo": ""})
    with django_capture_on_commit_callbacks(execute=True):
        assert _post_signed(client, fake_bling, body).status_code == 200
    event = WebhookEvent.objects.get()
    assert (event.status, event.ignore_reason) == (Status.IGNORED, "other_company")
    assert event.get_ignore_reason_display() == "outra empresa"
    assert event.company_id == OTHER_COMPANY
    # Recovery and a reprocess do not pick it up either.
    recovery_tick(now=timezone.now() + timedelta(minutes=10))
    assert not [r for r in fake_bling.calls() if str(pid) in r.path or str(pid) in str(r.query)]
    assert fake_bling.products[pid]["codigo"] == ""


def test_an_event_stored_before_the_connection_is_checked_again_when_processed(
    fake_bling, bling_connected
):
    """Stored pending while no company was known; the connected account is another one."""
    tree = tree_mirror(fake_bling)
    mode_live()
    pid = fake_bling.add_product("Memória", categoria_id=tree.memoria)["id"]
    event = WebhookEvent.objects.create(
        event_id="early",
        event_type="product.created",
        company_id=OTHER_COMPANY,
        resource_id=pid,
        body=fake_webhooks.body(OTHER_COMPANY, "product.created", {"id": pid}).decode(),
        signature_valid=True,
    )
    fake_bling.requests.clear()
    assert event_process(event_id=event.pk) == "ignored"
    event.refresh_from_db()
    assert event.ignore_reason == Reason.OTHER_COMPANY
    assert fake_bling.calls() == []


@pytest.mark.parametrize("days,reason", [(5, Reason.STALE), (3, "")])
def test_a_date_older_than_four_days_is_a_replay(
    client, fake_bling, bling_connected, django_capture_on_commit_callbacks, days, reason
):
    tree = tree_mirror(fake_bling)
    mode_live()
    pid = fake_bling.add_product("Memória", categoria_id=tree.memoria)["id"]
    body = fake_bling.webhook_body(
        "product.updated",
        {"id": pid, "codigo": ""},
        date=_iso(timezone.now() - timedelta(days=days)),
    )
    with django_capture_on_commit_callbacks(execute=True):
        assert _post_signed(client, fake_bling, body).status_code == 200
    event = WebhookEvent.objects.get()
    assert event.ignore_reason == reason
    if reason:
        assert event.status == Status.IGNORED
        assert fake_bling.products[pid]["codigo"] == ""  # no effect
    else:
        assert event.status == Status.PROCESSED  # Bling retries for 3 days: still real
        assert fake_bling.products[pid]["codigo"] == "MEMO00001"


# --- strangers ------------------------------------------------------------------------------


def _row_bytes(event: WebhookEvent) -> int:
    """The stored row's size: PostgreSQL measures it; elsewhere the sum of its values."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cur:
            cur.execute(
                "SELECT pg_column_size(t.*) FROM webhooks_webhookevent t WHERE id = %s",
                [event.pk],
            )
            return cur.fetchone()[0]
    values = [getattr(event, f.attname) for f in WebhookEvent._meta.concrete_fields]
    return sum(len(json.dumps(v, default=str).encode()) for v in values)


@pytest.mark.parametrize("signature", ["missing", "bad"])
def test_an_unsigned_200_kib_body_leaves_a_row_under_2_kb_purged_after_48_hours(
    post_webhook, signature
):
    data = {"id": 1, "nome": "çã€" * (25 * 1024), "lixo": "x" * (50 * 1024)}  # 200+ KiB
    response = post_webhook("product.updated", data, signature=signature)
    assert response.status_code == 401
    event = WebhookEvent.objects.get()
    assert event.status == Status.REJECTED and event.event_id is None
    assert event.body_size > 200 * 1024
    assert len(event.body_sha256) == 64
    assert len(event.body.encode()) <= 512 and event.body.startswith('{"eventId"')
    assert set(event.headers) <= {
        "Content-Type",
        "Content-Length",
        "User-Agent",
        "X-Forwarded-For",
        "X-Real-Ip",
        "X-Bling-Signature-256",
    }
    assert _row_bytes(event) <= 2048

    now = timezone.now()
    assert events_purge(retention_days=14, now=now + timedelta(hours=47)) == 0
    assert events_purge(retention_days=14, now=now + timedelta(hours=49)) == 1
    assert not WebhookEvent.objects.exists()


def test_huge_headers_do_not_grow_the_row(fake_bling):
    body = b"junk" * 1000
    headers = {
        "User-Agent": "u" * 5000,
        "X-Forwarded-For": "1.2.3.4, " * 500,
        "X-Bling-Signature-256": "sha256=" + "a" * 5000,
        "X-Something-Else": "z" * 5000,
    }
    assert webhook_receive(body=body, headers=headers, remote_addr="10.0.0.9")[0] == 401
    event = WebhookEvent.objects.get()
    assert "X-Something-Else" not in event.headers
    assert _row_bytes(event) <= 2048


def test_ignored_events_are_kept_seven_days_so_a_replay_stays_a_duplicate(fake_bling):
    body = fake_bling.webhook_body("product_supplier.created", {"id": 1}, event_id="keep-me")
    webhook_receive(
        body=body, headers={"X-Bling-Signature-256": fake_bling.sign(body)}, remote_addr=None
    )
    now = timezone.now()
    assert events_purge(retention_days=1, now=now + timedelta(days=6)) == 0
    status, duplicate = webhook_receive(
        body=body, headers={"X-Bling-Signature-256": fake_bling.sign(body)}, remote_addr=None
    )
    assert (status, duplicate) == (200, None)
    assert events_purge(retention_days=1, now=now + timedelta(days=8)) == 1


# --- recovery -------------------------------------------------------------------------------


class WorkerKilled(BaseException):
    """Stands for SIGKILL: nothing after it runs (not an Exception: no handler catches it)."""


def _stored(fake, client, event: str, data: dict) -> WebhookEvent:
    """Store a signed event without running its task (its worker never gets to it)."""
    body = fake.webhook_body(event, data)
    status, stored = webhook_receive(
        body=body, headers={"X-Bling-Signature-256": fake.sign(body)}, remote_addr="127.0.0.1"
    )
    assert status == 200
    return stored


def _patches(fake, pid: int) -> list:
    return [r for r in fake.calls(method="PATCH") if r.path.endswith(f"/produtos/{pid}")]


@pytest.mark.parametrize("killed", ["after_the_patch", "before_the_patch"])
def test_an_expired_lease_is_recovered_by_the_next_tick_without_a_second_patch(
    client, fake_bling, bling_connected, monkeypatch, killed
):
    tree = tree_mirror(fake_bling)
    mode_live()
    pid = fake_bling.add_product("Memória 32GB", categoria_id=tree.memoria)["id"]
    event = _stored(fake_bling, client, "product.created", {"id": pid, "codigo": ""})

    import webhooks.processing as processing

    if killed == "after_the_patch":
        monkeypatch.setattr(processing, "_finish", _raise_killed)
    else:
        monkeypatch.setattr("products.codes.product_code_ensure", _raise_killed)
    with pytest.raises(WorkerKilled):
        event_process(event_id=event.pk)
    monkeypatch.undo()
    event.refresh_from_db()
    assert event.status == Status.PROCESSING
    assert len(_patches(fake_bling, pid)) == (1 if killed == "after_the_patch" else 0)

    # While the lease runs, the tick leaves the event alone (a live worker may hold it).
    assert recovery_tick() is None
    assert event.recover_at <= timezone.now() + lease.LEASE

    # The worker stopped renewing: the first tick past the lease takes it back.
    summary = recovery_tick(now=timezone.now() + lease.LEASE + timedelta(seconds=1))
    assert summary["events_released"] == 1 and summary["events_requeued"] == 1
    event.refresh_from_db()
    assert event.status == Status.PROCESSED and event.attempts == 2
    assert event.recover_at is None
    assert len(_patches(fake_bling, pid)) == 1  # one PATCH in all
    assert fake_bling.products[pid]["codigo"] == "MEMO00001"


def _raise_killed(*args, **kwargs):
    raise WorkerKilled


def test_a_pending_event_whose_task_died_is_queued_by_the_tick_after_its_grace(
    client, fake_bling, bling_connected
):
    tree = tree_mirror(fake_bling)
    mode_live()
    pid = fake_bling.add_product("Memória", categoria_id=tree.memoria)["id"]
    event = _stored(fake_bling, client, "product.created", {"id": pid, "codigo": ""})
    assert recovery_tick(now=timezone.now() + timedelta(seconds=30)) is None
    recovery_tick(now=timezone.now() + timedelta(seconds=61))
    event.refresh_from_db()
    assert event.status == Status.PROCESSED
    assert len(_patches(fake_bling, pid)) == 1


def test_a_killed_stock_evaluation_is_run_again_by_the_tick(monkeypatch, bling_connected):
    mode_live()
    calls = []

    def evaluate(*, product_id, dry_run):
        calls.append(product_id)
        if len(calls) == 1:
            raise WorkerKilled

    monkeypatch.setattr("products.soldout.product_stock_evaluate", evaluate)
    from products.stock_evaluations import stock_evaluation_run

    now = timezone.now()
    StockEvaluation.objects.create(bling_product_id=77, due_at=now, recover_at=now)
    with pytest.raises(WorkerKilled):
        stock_evaluation_run(product_id=77)
    row = StockEvaluation.objects.get()
    assert row.claimed_at is not None and row.recover_at > timezone.now()
    assert recovery_tick() is None  # its lease still runs

    summary = recovery_tick(now=timezone.now() + lease.LEASE + timedelta(seconds=1))
    assert summary["evaluations_released"] == 1 and summary["evaluations_requeued"] == 1
    assert calls == [77, 77]
    assert not StockEvaluation.objects.exists()


def test_an_idle_tick_costs_one_query(django_assert_num_queries, fake_bling):
    for i in range(3):  # settled rows of every kind
        WebhookEvent.objects.create(event_id=f"done-{i}", status=Status.PROCESSED)
    WebhookEvent.objects.create(status=Status.REJECTED, http_status=401)
    StockEvaluation.objects.create(
        bling_product_id=5,
        due_at=timezone.now() + timedelta(minutes=1),
        recover_at=timezone.now() + timedelta(minutes=2),
    )
    with django_assert_num_queries(1):
        assert recovery_tick() is None
    assert recovery_due(now=timezone.now() + timedelta(minutes=3)) is True


def test_when_paused_the_tick_queues_nothing(fake_bling, client, bling_connected):
    RuntimeSettings.load()
    RuntimeSettings.objects.filter(pk=1).update(mode=RuntimeSettings.Mode.PAUSED)
    event = _stored(fake_bling, client, "invoice.created", {"id": 1})
    assert recovery_tick(now=timezone.now() + timedelta(minutes=5)) == {"paused": 1}
    event.refresh_from_db()
    assert event.status == Status.PENDING and event.attempts == 0


@pytest.mark.django_db(transaction=True)
def test_a_live_worker_renews_its_lease_while_it_waits(monkeypatch):
    monkeypatch.setattr(lease, "RENEW_EVERY", timedelta(seconds=0.05))
    token = timezone.now()
    event = WebhookEvent.objects.create(
        event_id="slow",
        status=Status.PROCESSING,
        claimed_at=token,
        recover_at=token + lease.LEASE,
        signature_valid=True,
    )
    first = event.recover_at
    with lease.lease_kept(model=WebhookEvent, pk=event.pk, token=token):
        time.sleep(0.4)  # a long wait on Bling
    event.refresh_from_db()
    assert event.recover_at > first
    # A claim taken over (another token) is never extended.
    WebhookEvent.objects.filter(pk=event.pk).update(claimed_at=token + timedelta(seconds=1))
    taken = WebhookEvent.objects.get(pk=event.pk).recover_at
    with lease.lease_kept(model=WebhookEvent, pk=event.pk, token=token):
        time.sleep(0.2)
    assert WebhookEvent.objects.get(pk=event.pk).recover_at == taken


def test_a_flood_from_one_address_keeps_ten_rows_a_minute_and_its_count(
    fake_bling, monkeypatch, django_assert_num_queries
):
    from webhooks import refusal_fold
    from webhooks.selectors import signature_failures_count

    monkeypatch.setattr(refusal_fold, "FLUSH_EVERY", 60.0)
    body = b'{"eventId": "x"}' + b" " * 1000
    headers = {"X-Bling-Signature-256": "sha256=" + "0" * 64}
    for _ in range(11):
        assert webhook_receive(body=body, headers=headers, remote_addr="203.0.113.7")[0] == 401
    # Folding: the flood's next requests do not touch the database at all.
    with django_assert_num_queries(0):
        for _ in range(4):
            status, row = webhook_receive(body=body, headers=headers, remote_addr="203.0.113.7")
            assert (status, row) == (401, None)
    assert webhook_receive(body=body, headers=headers, remote_addr="198.51.100.1")[0] == 401
    assert signature_failures_count(hours=1) == 16  # every refusal counted (flushed first)
    flood = WebhookEvent.objects.filter(remote_addr="203.0.113.7")
    assert flood.count() == 10
    assert sorted(flood.values_list("repeats", flat=True)) == [0] * 9 + [5]
    assert WebhookEvent.objects.get(remote_addr="198.51.100.1").repeats == 0
    # Once the rows are a minute old (and the fold is no longer remembered), fresh samples.
    WebhookEvent.objects.update(received_at=timezone.now() - timedelta(minutes=2))
    refusal_fold.refusal_folds_forget()
    webhook_receive(body=body, headers=headers, remote_addr="203.0.113.7")
    assert flood.count() == 11


def test_a_code_write_held_by_a_killed_process_is_retried_soon_without_spending_attempts(
    client, fake_bling, bling_connected
):
    """A dead sweep or worker left its claim on the product's code write (it expires after
    products.codes.WRITE_CLAIM): the event is retried in 30 s, not after the backoff."""
    from products.models import CodeAssignment

    tree = tree_mirror(fake_bling)
    mode_live()
    pid = fake_bling.add_product("Memória", categoria_id=tree.memoria)["id"]
    CodeAssignment.objects.create(
        bling_product_id=pid,
        code="MEMO00001",
        prefix="MEMO",
        number=1,
        write_claimed_until=timezone.now() + timedelta(minutes=2),
    )
    event = _stored(fake_bling, client, "product.created", {"id": pid, "codigo": ""})
    assert event_process(event_id=event.pk) == "retry"
    event.refresh_from_db()
    assert event.status == Status.FAILED and event.attempts == 0
    assert timedelta(seconds=25) < event.next_attempt_at - timezone.now() <= timedelta(seconds=30)
    assert _patches(fake_bling, pid) == []

    CodeAssignment.objects.filter(bling_product_id=pid).update(write_claimed_until=None)
    WebhookEvent.objects.filter(pk=event.pk).update(next_attempt_at=timezone.now())
    assert event_process(event_id=event.pk) == "processed"
    assert [r.json for r in _patches(fake_bling, pid)] == [{"codigo": "MEMO00001"}]


@pytest.mark.django_db(transaction=True)
def test_the_count_of_a_flood_that_stopped_reaches_the_database(monkeypatch):
    """Nothing else arrives after the flood: a timer writes its last counts."""
    from webhooks import refusal_fold

    monkeypatch.setattr(refusal_fold, "FLUSH_EVERY", 0.2)
    for _ in range(13):
        webhook_receive(body=b"junk", headers={}, remote_addr="203.0.113.9")
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        repeats = sum(WebhookEvent.objects.values_list("repeats", flat=True))
        if repeats == 3:
            break
        time.sleep(0.1)
    assert WebhookEvent.objects.count() == 10 and repeats == 3
