"""Bling outage: the fake answers 5xx to every API call for a while, then recovers.

During the outage a code sweep is started (it must fail clearly or wait, not hang or storm)
and product webhooks arrive (they must be stored and answered 200). Sampled every few
seconds: the client's circuit breaker (its database row), ``/health/``, and the calls Bling
receives. At mid-outage a staff member looks at the dashboard. After recovery: the breaker
closes, every event ends processed without anyone touching it, a new sweep codes every
eligible product, and no code is duplicated. Bling's IP block (300 errors in 10 s) is never
approached.
"""

from __future__ import annotations

import argparse
import json
import secrets
import time
from collections import Counter

from bench.drills import probes, sender
from bench.drills.procs import Proc
from bench.drills.report import DrillResult
from bench.drills.scenario import app_bring_up, catalog_seed, opt, product_event_data
from bench.drills.security import Browser
from bench.drills.stack import Stack, StackOptions

OUTAGE_WORDS = (
    "circuit",
    "breaker",
    "disjuntor",
    "indispon",
    "unavailable",
    "fora do ar",
    "aberto",
    "suspens",
)


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--outage-seconds", type=float, help="length of the outage (120; quick 20)")
    p.add_argument("--status", type=int, default=503, help="status served during the outage")
    p.add_argument("--products", type=int, help="catalog size (200; quick 40)")
    p.add_argument("--events", type=int, help="product webhooks during the outage (20; quick 8)")
    p.add_argument("--drain-seconds", type=float, help="bound for recovery (600; quick 240)")


def configure(opts: StackOptions, args: argparse.Namespace) -> None:
    pass


def _sweep(stack: Stack, label: str) -> Proc:
    return Proc(
        label,
        [stack.python, "manage.py", "sweep_codes"],
        env=stack.env,
        cwd=stack.app_dir,
        log_path=stack.workdir / f"{label}.log",
    ).start()


def _health_shows_outage(body: dict) -> bool:
    """The report says Bling is unavailable: its breaker field, or its status line."""
    calls = body.get("bling_calls") if isinstance(body, dict) else None
    if isinstance(calls, dict) and calls.get("circuit") == "open":
        return True
    status = str(body.get("status", "")).lower() if isinstance(body, dict) else ""
    return any(w in status for w in ("degraded", "unavailable", "indispon", "circuit"))


def _outage_words(page: str) -> set[str]:
    text = page.lower()
    return {w for w in OUTAGE_WORDS if w in text}


def _max_in_window(times: list[float], window: float) -> int:
    times = sorted(times)
    best, j = 0, 0
    for i, t in enumerate(times):
        while t - times[j] > window:
            j += 1
        best = max(best, i - j + 1)
    return best


def run(stack: Stack, args: argparse.Namespace, result: DrillResult) -> None:
    outage_s = opt(args, "outage_seconds", 120.0, 20.0)
    n_products = opt(args, "products", 200, 40)
    n_events = opt(args, "events", 20, 8)
    drain = opt(args, "drain_seconds", 600.0, 240.0)
    fake = stack.fake
    catalog = catalog_seed(stack, products=n_products, share_without_code=0.5)
    app_bring_up(stack)
    user, password = "drill-staff", secrets.token_urlsafe(16)
    stack.create_staff(user, password)
    browser = Browser(stack.base_url)
    browser.login(user, password)
    _, dashboard_before = browser.get("/dashboard/")

    # ---- outage
    fake.outage(args.status)
    t_out = time.time()
    sweep = _sweep(stack, "sweep-during-outage") if stack.has_command("sweep_codes") else None
    events = [
        sender.valid(fake, "product.updated", product_event_data(stack, pid))
        for pid in catalog.uncoded_ids[:n_events]
    ]
    sender.send_plan(stack.webhook_url, events, rate=max(1.0, n_events / 5), max_seconds=30)
    samples = []
    dashboard_text = ""
    sweep_rc = None
    while time.time() - t_out < outage_s:
        status, body = stack.health()
        samples.append((time.time() - t_out, status, body, probes.breaker_state(stack)))
        if not dashboard_text and time.time() - t_out > outage_s / 2:
            _, dashboard_text = browser.get("/dashboard/")
        if sweep is not None and sweep_rc is None and not sweep.alive:
            sweep_rc = sweep.popen.returncode if sweep.popen else None
        time.sleep(max(1.0, min(5.0, outage_s / 10)))
    fake.recover()
    t_rec = time.time()
    if sweep is not None and sweep_rc is None:
        try:
            sweep_rc = sweep.popen.wait(timeout=drain) if sweep.popen else None
        except Exception:
            sweep.stop()
            sweep_rc = "hung"
    sweep_tail = sweep.log_text().strip().splitlines()[-3:] if sweep else []

    # ---- what happened during the outage
    api = [r for r in fake.calls() if t_out <= r.at < t_rec]
    errors = [r.at for r in api if r.status >= 500]
    tail_window = min(30.0, outage_s / 2)
    tail_calls = [r for r in api if r.at >= t_rec - tail_window]
    result.add("outage seconds", round(t_rec - t_out, 1), f"{outage_s:.0f}")
    result.add("Bling calls during outage", len(api))
    result.check(
        f"calls/s in the last {tail_window:.0f} s of outage",
        round(len(tail_calls) / tail_window, 2),
        "< 1 (breaker holds calls back)",
        len(tail_calls) / tail_window < 1,
        f"outage: {len(tail_calls)} calls reached Bling in the last {tail_window:.0f} s of the outage",
    )
    worst = _max_in_window(errors, 10.0)
    result.check("max 5xx answers in 10 s", worst, "< 300 (IP block)", worst < 300)
    opened = [t for t, _, _, b in samples if any(x["open"] for x in b)]
    result.check(
        "breaker seen open",
        f"at {opened[0]:.0f} s" if opened else "never",
        "yes",
        bool(opened),
        "outage: the circuit breaker row never showed open during the outage",
    )
    health_codes = Counter(s for _, s, _, _ in samples)
    result.add("/health/ codes during outage", dict(health_codes))
    shows = [t for t, _, body, _ in samples if _health_shows_outage(body)]
    result.check(
        "/health/ shows the outage",
        f"{len(shows)}/{len(samples)} samples",
        "yes",
        bool(shows),
        "outage: /health/ JSON never mentioned the breaker or Bling being unavailable: "
        + json.dumps(samples[-1][2])[:300]
        if samples
        else "outage: no /health/ sample",
    )
    dash_during = _outage_words(dashboard_text)
    dash_hit = sorted(dash_during - _outage_words(dashboard_before))
    result.check(
        "dashboard shows the outage",
        dash_hit or f"no (words on the page before and during: {sorted(dash_during)})",
        "yes",
        bool(dash_hit),
        "outage: the dashboard at mid-outage says nothing it did not say before the outage "
        "about the breaker or Bling being unavailable",
    )
    result.check(
        "sweep during outage ended",
        f"rc={sweep_rc}",
        "non-zero, clear message",
        sweep_rc not in (0, "hung", None),
        f"outage: sweep during outage rc={sweep_rc}: {sweep_tail}",
    )
    result.add("sweep message", " | ".join(sweep_tail)[-200:])
    sent_ok = sum(1 for d in events if d.status == 200)
    result.check(
        "webhooks answered 200 during outage",
        f"{sent_ok}/{len(events)}",
        "all",
        sent_ok == len(events),
    )

    # ---- recovery
    closed_at = None
    deadline = time.time() + min(drain, 300)
    while time.time() < deadline:
        if not any(x["open"] for x in probes.breaker_state(stack)):
            closed_at = time.time() - t_rec
            break
        time.sleep(2)
    result.check(
        "breaker closed after recovery",
        f"{closed_at:.0f} s" if closed_at is not None else "no",
        "yes",
        closed_at is not None,
    )
    ids = {d.event_id for d in events}
    state, waited = probes.wait_events_settled(stack, expected_ids=ids, timeout=drain)
    by_id = {r["event_id"]: r for r in state["rows"] if r["event_id"] in ids}
    statuses = Counter(r["status"] for r in by_id.values())
    result.add("events by status after recovery", dict(statuses))
    result.add("seconds from recovery until events settled", round(time.time() - t_rec, 1))
    not_done = [e for e in ids if by_id.get(e, {}).get("status") != "processed"]
    result.check(
        "events lost (not processed after recovery)",
        len(not_done),
        "0",
        not not_done,
        f"outage: {len(not_done)} events not processed {waited:.0f} s after recovery: "
        + str(Counter(by_id.get(e, {}).get("status", "missing") for e in not_done)),
    )
    status, body = stack.health()
    result.check("/health/ after recovery", status, "200", status == 200)
    if stack.has_command("sweep_codes"):
        after = _sweep(stack, "sweep-after-recovery")
        try:
            rc = after.popen.wait(timeout=drain) if after.popen else None
        except Exception:
            after.stop()
            rc = "hung"
        result.check(
            "sweep after recovery",
            f"rc={rc}",
            "0",
            rc == 0,
            f"outage: sweep after recovery rc={rc}: {after.log_text().strip().splitlines()[-3:]}",
        )
    fc = probes.fake_codes(stack)
    left = [p for p in catalog.uncoded_ids if p in set(fc["without_code"])]
    result.check("uncoded products left", len(left), "0", not left)
    result.check(
        "duplicate codes in Bling", len(fc["duplicate_codes"]), "0", not fc["duplicate_codes"]
    )
    result.check("Bling IP block", fake.ip_blocked, "False", not fake.ip_blocked)
    alive = bool(stack.worker and stack.worker.alive and stack.web and stack.web.alive)
    result.check("web and worker alive", alive, "True", alive)
