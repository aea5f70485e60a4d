"""The client address behind TRUSTED_PROXY_COUNT proxies (SPEC 6): login throttling and the
webhook inbox never take it from a header a client can forge when the count is 0, and take
the last hop's X-Forwarded-For entry (counted from the right) when it is 1."""

from __future__ import annotations

import pytest
from axes.models import AccessAttempt
from django.test import RequestFactory

from blingsync.client_address import client_address
from webhooks.models import WebhookEvent

pytestmark = pytest.mark.django_db

PASSWORD = "senha-certa-e-longa-123"
PROXY = "10.0.0.2"


@pytest.fixture
def staff(django_user_model):
    return django_user_model.objects.create_user(username="bruno", password=PASSWORD, is_staff=True)


def _login(client, password: str, forwarded: str):
    return client.post(
        "/admin/login/?next=/admin/",
        {"username": "bruno", "password": password},
        REMOTE_ADDR=PROXY,
        HTTP_X_FORWARDED_FOR=forwarded,
    )


@pytest.mark.parametrize(
    "count,forwarded,expected",
    [
        (0, "", PROXY),
        (0, "203.0.113.9", PROXY),  # forged: ignored
        (1, "", PROXY),  # fewer hops than proxies: the peer
        (1, "203.0.113.9", "203.0.113.9"),
        (1, "6.6.6.6, 203.0.113.9", "203.0.113.9"),  # the client's own entry is never used
        (1, "6.6.6.6,203.0.113.9", "203.0.113.9"),
        (2, "6.6.6.6, 203.0.113.9, 10.0.0.7", "203.0.113.9"),
        (1, "not-an-address", PROXY),
        (1, "2001:db8::1", "2001:db8::1"),
    ],
)
def test_the_client_address_counts_trusted_hops_from_the_right(
    settings, count, forwarded, expected
):
    settings.TRUSTED_PROXY_COUNT = count
    request = RequestFactory().get("/", REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR=forwarded)
    assert client_address(request) == expected


def test_at_zero_a_forged_forwarded_for_does_not_escape_the_lockout(client, staff, settings):
    settings.TRUSTED_PROXY_COUNT = 0
    for n in range(settings.AXES_FAILURE_LIMIT):
        _login(client, "errada", forwarded=f"198.51.100.{n}")  # a new "address" each time

    locked = _login(client, PASSWORD, forwarded="198.51.100.200")

    assert locked.status_code == 429
    assert set(AccessAttempt.objects.values_list("ip_address", flat=True)) == {PROXY}


def test_at_one_each_client_behind_the_proxy_is_locked_out_on_its_own(client, staff, settings):
    settings.TRUSTED_PROXY_COUNT = 1
    attacker = "6.6.6.6, 203.0.113.66"  # whatever the attacker writes first, the proxy appends
    for _ in range(settings.AXES_FAILURE_LIMIT):
        _login(client, "errada", forwarded=attacker)
    assert _login(client, PASSWORD, forwarded=attacker).status_code == 429

    # The owner, behind the same proxy, still logs in: the lockout is the attacker's.
    response = _login(client, PASSWORD, forwarded="198.51.100.7")

    assert response.status_code == 302
    assert set(AccessAttempt.objects.values_list("ip_address", flat=True)) == {"203.0.113.66"}


@pytest.mark.parametrize("count,stored", [(0, PROXY), (1, "203.0.113.9")])
def test_the_inbox_records_the_client_address_of_a_refusal(client, settings, count, stored):
    settings.TRUSTED_PROXY_COUNT = count

    response = client.post(
        "/webhooks/bling/",
        data=b'{"eventId": "forged"}',
        content_type="application/json",
        REMOTE_ADDR=PROXY,
        HTTP_X_FORWARDED_FOR="6.6.6.6, 203.0.113.9",
        HTTP_X_BLING_SIGNATURE_256="sha256=" + "0" * 64,
    )

    assert response.status_code == 401
    row = WebhookEvent.objects.get()
    assert row.remote_addr == stored and row.remote_network == stored
    assert row.signature_valid is False and row.event_id is None
