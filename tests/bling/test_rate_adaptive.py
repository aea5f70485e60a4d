"""The adaptive rate limit: 429s from Bling (another integration sharing the account's limit)
slow every process down (multiplicative decrease, pause), the rate climbs back slowly
(additive increase after quiet intervals), and the 429s are counted and shown.

The limiter's own rules are checked on the DB row with the clock moved by editing its times;
the convergence tests run against the fake with a real outside pressure (the fake allowing
fewer calls than we are configured for, or another client calling with its own token).
"""

from __future__ import annotations

import logging
import threading
import time
import urllib.error
import urllib.request

import pytest

from blingsync.bling import ratelimit
from blingsync.bling.client import api_request
from blingsync.jobrunner import JobContext, _current_context
from blingsync.models import JobRun, RateLimitBucket
from tests.bling.processes import workers_run

logger = logging.getLogger(__name__)

PATH = "/empresas/me/dados-basicos"


def _age(seconds: float) -> None:
    """Move the limiter's recorded times `seconds` into the past (as if time had passed)."""
    shift = int(seconds * 1_000_000)
    bucket = RateLimitBucket.objects.get()
    RateLimitBucket.objects.update(
        last_slot_us=bucket.last_slot_us - shift,
        recent_slots_us=[t - shift for t in bucket.recent_slots_us],
        last_429_us=bucket.last_429_us - shift,
        decreased_us=bucket.decreased_us - shift,
        rate_changed_us=bucket.rate_changed_us - shift,
        recent_429s=[t - seconds for t in bucket.recent_429s],
    )


def _throttle_after_a_new_reservation() -> ratelimit.Throttle:
    """A call reserved now and answered 429 (the pause of the previous one aged away)."""
    if RateLimitBucket.objects.exists():
        _age(2)
    reservation = ratelimit._reserve(ratelimit.DEFAULT_KEY)
    throttle = ratelimit.ratelimit_throttled(reserved_us=reservation.reserved_us)
    return throttle


@pytest.fixture
def limited(db, settings):
    settings.BLING_RATE_PER_SECOND = 3
    settings.BLING_RATE_MARGIN = 0.1
    return settings


def test_a_429_halves_the_rate_for_every_process_and_pauses_them(limited):
    reservation = ratelimit._reserve(ratelimit.DEFAULT_KEY)
    before = time.time()
    throttle = ratelimit.ratelimit_throttled(reserved_us=reservation.reserved_us)
    assert (throttle.rate_before, throttle.rate_after, throttle.decreased) == (3, 1.5, True)
    state = ratelimit.ratelimit_state()
    assert state["configured_rate"] == 3
    assert state["effective_rate"] == pytest.approx(1.5, abs=0.001)
    assert state["throttled"] is True
    assert state["rate_limited_last_hour"] == 1
    assert state["rate_limited_total"] == 1
    assert state["last_rate_limited_at"] is not None
    assert state["circuit"] == "closed"
    # Every process's next slot is at least a second away, then spaced at the halved rate.
    slot = ratelimit._reserve(ratelimit.DEFAULT_KEY).slot_us / 1_000_000
    assert slot >= before + 1.0
    following = ratelimit._reserve(ratelimit.DEFAULT_KEY).slot_us / 1_000_000
    assert following - slot == pytest.approx(1.1 / 1.5, abs=0.001)


def test_429s_for_calls_reserved_before_the_decrease_lower_the_rate_only_once(limited):
    first = ratelimit._reserve(ratelimit.DEFAULT_KEY)
    second = ratelimit._reserve(ratelimit.DEFAULT_KEY)
    assert ratelimit.ratelimit_throttled(reserved_us=first.reserved_us).rate_after == 1.5
    again = ratelimit.ratelimit_throttled(reserved_us=second.reserved_us)
    assert (again.decreased, again.rate_after, again.last_hour) == (False, 1.5, 2)
    # A call reserved after the decrease that still gets a 429: the rate goes down again.
    assert _throttle_after_a_new_reservation().rate_after == 0.75


def test_the_rate_never_goes_below_the_floor(limited):
    rates = [_throttle_after_a_new_reservation().rate_after for _ in range(5)]
    assert rates == [1.5, 0.75, 0.5, 0.5, 0.5]
    assert ratelimit.ratelimit_state()["rate_limited_last_hour"] == 5


def test_the_rate_climbs_back_a_step_per_quiet_interval_up_to_the_configured_rate(limited):
    _throttle_after_a_new_reservation()
    _age(5)
    ratelimit._reserve(ratelimit.DEFAULT_KEY)
    assert ratelimit.ratelimit_state()["effective_rate"] == pytest.approx(1.5, abs=0.001)
    _age(6)  # 11 s quiet: one step
    ratelimit._reserve(ratelimit.DEFAULT_KEY)
    assert ratelimit.ratelimit_state()["effective_rate"] == pytest.approx(1.6, abs=0.001)
    _age(25)  # two more quiet intervals since that step
    ratelimit._reserve(ratelimit.DEFAULT_KEY)
    assert ratelimit.ratelimit_state()["effective_rate"] == pytest.approx(1.8, abs=0.001)
    _age(3600)  # an hour later: back to the configured rate, the 429 out of the hour
    first = ratelimit._reserve(ratelimit.DEFAULT_KEY).slot_us
    state = ratelimit.ratelimit_state()
    assert (state["effective_rate"], state["throttled"]) == (3, False)
    assert (state["rate_limited_last_hour"], state["rate_limited_total"]) == (0, 1)
    # Back at the configured rate, its window: 3 calls at once, the 4th 1.1 s after the 1st.
    slots = [first, *(ratelimit._reserve(ratelimit.DEFAULT_KEY).slot_us for _ in range(3))]
    assert slots[2] - slots[0] < 100_000
    assert slots[3] - slots[0] == 3 * ratelimit._interval_for(3)


def test_climbing_stops_below_the_rate_that_got_the_429_until_the_probe_period(limited):
    _throttle_after_a_new_reservation()  # 3 -> 1.5
    _throttle_after_a_new_reservation()  # 429 again at 1.5: -> 0.75, ceiling 1.5
    _age(200)  # 20 quiet intervals would be +2.0/s; held one step below the ceiling
    ratelimit._reserve(ratelimit.DEFAULT_KEY)
    assert ratelimit.ratelimit_state()["effective_rate"] == pytest.approx(1.4, abs=0.001)
    _age(95)  # 295 s since the 429: still held
    ratelimit._reserve(ratelimit.DEFAULT_KEY)
    assert ratelimit.ratelimit_state()["effective_rate"] == pytest.approx(1.4, abs=0.001)
    _age(10)  # 305 s without a 429: probing above the ceiling, step by step
    ratelimit._reserve(ratelimit.DEFAULT_KEY)
    assert ratelimit.ratelimit_state()["effective_rate"] == pytest.approx(1.5, abs=0.001)
    _age(11)
    ratelimit._reserve(ratelimit.DEFAULT_KEY)
    assert ratelimit.ratelimit_state()["effective_rate"] == pytest.approx(1.6, abs=0.001)


def test_a_429_is_counted_on_the_run_and_logged_without_secrets(
    fake_bling, bling_connected, limited, caplog
):
    run = JobRun.objects.create(kind=JobRun.Kind.values[0], trigger=JobRun.Trigger.values[0])
    ctx = JobContext(run=run, dry_run=False, since=None, limit=None, progress=lambda *a: None)
    token = _current_context.set(ctx)
    try:
        fake_bling.fail_next(2, status=429)
        with caplog.at_level(logging.WARNING, logger="blingsync.bling.client"):
            api_request("GET", PATH)
    finally:
        _current_context.reset(token)
    ctx.flush()
    run.refresh_from_db()
    assert run.details["bling_429"] == 2
    assert run.details["bling_rate_lowest"] == 0.75
    assert [c.status for c in fake_bling.calls(path=PATH)] == [429, 429, 200]
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 2
    assert "429" in warnings[0] and "3.00 -> 1.50/s" in warnings[0]
    assert not any(t in caplog.text for t in fake_bling.tokens.access)
    assert "Bearer" not in caplog.text


@pytest.mark.django_db(transaction=True)
def test_with_bling_allowing_one_call_per_second_our_client_converges(
    fake_bling, bling_connected, settings
):
    """Configured at 3/s while the account has only 1/s left for us."""
    settings.BLING_RATE_PER_SECOND = 3
    fake_bling.rate_per_second = 1
    for _ in range(40):
        api_request("GET", PATH)
    calls = fake_bling.calls(path=PATH)
    served = [c for c in calls if c.status == 200]
    refused = [c for c in calls if c.status == 429]
    seconds = calls[-1].at - calls[0].at
    logger.warning(
        "1/s left for us: 40 calls in %.1f s, %d x 429, effective rate now %.2f/s",
        seconds,
        len(refused),
        ratelimit.ratelimit_state()["effective_rate"],
    )
    assert len(served) == 40
    assert len(refused) <= 6, f"{len(refused)} x 429"
    state = ratelimit.ratelimit_state()
    assert state["rate_limited_total"] == len(refused)
    assert state["effective_rate"] <= 1.1  # at most one call per second, margin included


class OtherClient(threading.Thread):
    """Another integration on the same account: its own token, calls at a fixed rate."""

    def __init__(self, fake, rate: float) -> None:
        super().__init__(daemon=True)
        self.fake, self.rate = fake, rate
        self.token = fake.issue_tokens()["access_token"]
        self.stop = threading.Event()
        self.statuses: list[int] = []

    def run(self) -> None:
        started = time.monotonic()
        i = 0
        while not self.stop.wait(max(0.0, started + i / self.rate - time.monotonic())):
            req = urllib.request.Request(
                f"{self.fake.base_url}/produtos?pagina=1&limite=1",
                headers={"Authorization": f"Bearer {self.token}", "enable-jwt": "1"},
            )
            try:
                with urllib.request.urlopen(req, timeout=10) as resp:  # noqa: S310 - loopback
                    self.statuses.append(resp.status)
            except urllib.error.HTTPError as exc:
                self.statuses.append(exc.code)
            i += 1


@pytest.mark.django_db(transaction=True)
def test_processes_share_the_slowdown_when_another_client_uses_two_of_three_calls(
    fake_bling, bling_connected, settings
):
    settings.BLING_RATE_PER_SECOND = 3
    fake_bling.rate_per_second = 3
    other = OtherClient(fake_bling, rate=2)
    other.start()
    try:
        results = workers_run(fake_bling, "calls", processes=2, count=12)
    finally:
        other.stop.set()
        other.join(5)
    assert [r["errors"] for r in results] == [[], []]
    ours = [
        c
        for c in fake_bling.calls(path=PATH)
        if other.token not in c.headers.get("authorization", "")
    ]
    assert len([c for c in ours if c.status == 200]) == 24
    refused = len([c for c in ours if c.status == 429])
    logger.warning(
        "2 processes, another client at 2/s: %d calls served, %d x 429 to us, %d/%d to it",
        len(ours) - refused,
        refused,
        other.statuses.count(429),
        len(other.statuses),
    )
    assert refused <= 6, f"{refused} x 429"
    assert RateLimitBucket.objects.get().rate_limited_total == refused
    assert ratelimit.ratelimit_state()["throttled"] is True
