"""Issue 23 (smaller items) at the inbox: refusals folded per sending network (an IPv4
address, an IPv6 /64), at most one signature-failure alert check queued a minute, and
events dated more than a day ahead, without a date, or without a companyId once a company is
connected stored `ignored` with their reason (still answered 200)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from tests.products.soldout_support import mode_live, tree_mirror
from webhooks import refusal_fold
from webhooks.inbox import webhook_receive
from webhooks.models import InboxClaim, WebhookEvent
from webhooks.refusal_fold import refusal_network

from .conftest import URL
from .test_open_internet import _DROP, _envelope, _iso

pytestmark = pytest.mark.django_db

Status = WebhookEvent.Status
Reason = WebhookEvent.IgnoreReason
JUNK = b'{"eventId": "x"}'
BAD_SIGNATURE = {"X-Bling-Signature-256": "sha256=" + "0" * 64}


@pytest.mark.parametrize(
    "address,network",
    [
        ("203.0.113.7", "203.0.113.7"),
        ("2001:db8:1:2:aaaa:bbbb:cccc:dddd", "2001:db8:1:2::/64"),
        ("2001:DB8:1:2::1", "2001:db8:1:2::/64"),
        ("::ffff:203.0.113.7", "203.0.113.7"),
        (None, ""),
        ("unix-socket", ""),
    ],
)
def test_the_sending_network_of_an_address(address, network):
    assert refusal_network(address) == network


def test_a_flood_from_one_ipv6_64_is_folded_as_one_sender(monkeypatch):
    monkeypatch.setattr(refusal_fold, "FLUSH_EVERY", 60.0)
    for host in range(1, 16):  # 15 addresses of one /64
        status, _row = webhook_receive(
            body=JUNK, headers=BAD_SIGNATURE, remote_addr=f"2001:db8:1:2::{host:x}"
        )
        assert status == 401
    webhook_receive(body=JUNK, headers=BAD_SIGNATURE, remote_addr="2001:db8:1:3::1")
    refusal_fold.refusals_flush()

    flood = WebhookEvent.objects.filter(remote_network="2001:db8:1:2::/64")
    assert flood.count() == refusal_fold.ROWS_PER_MINUTE
    assert sum(flood.values_list("repeats", flat=True)) == 15 - refusal_fold.ROWS_PER_MINUTE
    # The addresses are kept as sent; another /64 is another sender.
    assert flood.values_list("remote_addr", flat=True).distinct().count() == 10
    assert WebhookEvent.objects.get(remote_network="2001:db8:1:3::/64").repeats == 0


def test_the_dashboard_names_refused_sources_by_network(monkeypatch):
    from webhooks.selectors import inbox_figures

    monkeypatch.setattr(refusal_fold, "FLUSH_EVERY", 60.0)
    for host in range(1, 13):
        webhook_receive(body=JUNK, headers=BAD_SIGNATURE, remote_addr=f"2001:db8:9:9::{host:x}")
    webhook_receive(body=JUNK, headers=BAD_SIGNATURE, remote_addr="203.0.113.7")

    figures = inbox_figures()

    assert figures.refused_sources == [("2001:db8:9:9::/64", 12), ("203.0.113.7", 1)]


def test_refusals_from_many_networks_queue_one_alert_check_a_minute(
    django_capture_on_commit_callbacks,
):
    def alert_checks(callbacks) -> int:
        return sum(1 for c in callbacks if c.__qualname__.startswith("alert_check_soon."))

    with django_capture_on_commit_callbacks() as callbacks:
        for n in range(30):  # 30 networks: every refusal gets a row of its own
            status, row = webhook_receive(
                body=JUNK, headers=BAD_SIGNATURE, remote_addr=f"198.51.100.{n}"
            )
            assert status == 401 and row is not None
    assert WebhookEvent.objects.filter(signature_valid=False).count() == 30
    assert alert_checks(callbacks) == 1

    # A minute later the next stored refusal asks for the check again.
    InboxClaim.objects.update(claimed_at=timezone.now() - timedelta(seconds=61))
    with django_capture_on_commit_callbacks() as callbacks:
        webhook_receive(body=JUNK, headers=BAD_SIGNATURE, remote_addr="192.0.2.1")
        webhook_receive(body=JUNK, headers=BAD_SIGNATURE, remote_addr="192.0.2.2")
    assert alert_checks(callbacks) == 1


# --- event dates and companies ----------------------------------------------------------------


def _post(client, fake, envelope: dict):
    import json

    body = json.dumps(envelope).encode()
    return client.post(
        URL, data=body, content_type="application/json", HTTP_X_BLING_SIGNATURE_256=fake.sign(body)
    )


@pytest.fixture
def product(fake_bling, bling_connected):
    tree = tree_mirror(fake_bling)
    mode_live()
    return fake_bling.add_product("Memória", categoria_id=tree.memoria)["id"]


def _product_envelope(fake, pid: int, **changes) -> dict:
    return _envelope(fake, data={"id": pid, "codigo": "", "situacao": "A"}, **changes)


@pytest.mark.parametrize(
    "changes,reason",
    [
        ({"date": _iso(timezone.now() + timedelta(days=2))}, Reason.FUTURE_DATE),
        ({"date": _DROP}, Reason.NO_DATE),
        ({"date": "amanhã"}, Reason.NO_DATE),
        ({"date": "0000-00-00 00:00:00"}, Reason.NO_DATE),
        ({"companyId": _DROP}, Reason.NO_COMPANY),
        ({"companyId": ""}, Reason.BAD_ENVELOPE),  # a blank text is no usable companyId
    ],
    ids=["two days ahead", "no date", "unreadable date", "zero date", "no companyId", "blank"],
)
def test_an_unusable_date_or_company_is_ignored_with_its_reason(
    client, fake_bling, product, django_capture_on_commit_callbacks, changes, reason
):
    with django_capture_on_commit_callbacks(execute=True):
        response = _post(client, fake_bling, _product_envelope(fake_bling, product, **changes))

    assert response.status_code == 200  # Bling never retries it, never disables the webhook
    event = WebhookEvent.objects.get()
    assert (event.status, event.ignore_reason) == (Status.IGNORED, reason)
    assert event.note and event.attempts == 0
    assert fake_bling.products[product]["codigo"] == ""  # no effect
    assert not fake_bling.calls(method="PATCH")


def test_an_event_dated_hours_ahead_is_processed(
    client, fake_bling, product, django_capture_on_commit_callbacks
):
    ahead = _iso(timezone.now() + timedelta(hours=12))  # clocks drift: within a day is fine
    with django_capture_on_commit_callbacks(execute=True):
        _post(client, fake_bling, _product_envelope(fake_bling, product, date=ahead))

    assert WebhookEvent.objects.get().status == Status.PROCESSED
    assert fake_bling.products[product]["codigo"] == "MEMO00001"


def test_without_a_connected_company_a_missing_company_id_is_not_a_reason(
    client, fake_bling, db, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = _post(client, fake_bling, _product_envelope(fake_bling, 424242, companyId=_DROP))

    assert response.status_code == 200
    assert WebhookEvent.objects.get().ignore_reason != Reason.NO_COMPANY
