"""Token trouble: the refresh token is revoked in the middle of a sweep.

A code sweep runs (a command, as an operator would start it) while webhooks keep arriving;
after a few code writes the fake revokes every refresh token and expires every access token
(staff removed the app's access in Bling). The next call gets 401, the one refresh attempt
gets ``invalid_grant``. Checks: the connection is "needs reconnect", ``/health/`` answers 503,
the sweep stops with a clear message, at most 2 calls reach the token endpoint from the
revocation to the end (also while more webhooks and another queued sweep try to work), the
IP is never blocked, events that arrived meanwhile are not lost: after a reconnect they are
processed.
"""

from __future__ import annotations

import argparse
import time
from collections import Counter

from bench.drills import probes, sender
from bench.drills.procs import Proc
from bench.drills.report import DrillResult
from bench.drills.scenario import app_bring_up, catalog_seed, opt, product_event_data
from bench.drills.stack import Stack, StackOptions


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--products", type=int, help="catalog size (300; quick 60)")
    p.add_argument(
        "--after-writes", type=int, help="revoke after this many code writes (10; quick 3)"
    )
    p.add_argument("--observe-seconds", type=float, help="watch after revocation (60; quick 20)")
    p.add_argument(
        "--retry-wait-seconds", type=float, help="bound after reconnect (420; quick 180)"
    )


def configure(opts: StackOptions, args: argparse.Namespace) -> None:
    pass


def run(stack: Stack, args: argparse.Namespace, result: DrillResult) -> None:
    n_products = opt(args, "products", 300, 60)
    after_writes = opt(args, "after_writes", 10, 3)
    observe = opt(args, "observe_seconds", 60.0, 20.0)
    fake = stack.fake
    catalog = catalog_seed(stack, products=n_products, share_without_code=0.5)
    app_bring_up(stack)
    if not stack.has_command("sweep_codes"):
        raise RuntimeError("sweep_codes has not landed")

    sweep = Proc(
        "sweep",
        [stack.python, "manage.py", "sweep_codes"],
        env=stack.env,
        cwd=stack.app_dir,
        log_path=stack.workdir / "sweep.log",
    ).start()
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline and sweep.alive:
        writes = probes.fake_codes(stack)["code_writes"]
        if writes >= after_writes:
            break
        time.sleep(0.5)
    fake.revoke_refresh_tokens()
    fake.expire_access_tokens()
    t_rev = time.time()
    result.add("code writes before revocation", probes.fake_codes(stack)["code_writes"])

    # More work keeps arriving while the connection is broken.
    uncoded_now = [p for p in catalog.uncoded_ids if not fake.products[p].get("codigo")]
    events = [
        sender.valid(fake, "product.updated", product_event_data(stack, pid))
        for pid in uncoded_now[:10]
    ]
    sender.send_plan(stack.webhook_url, events, rate=2, max_seconds=15)
    try:
        rc = sweep.popen.wait(timeout=300) if sweep.popen else None
    except Exception:
        sweep.stop()
        rc = "hung"
    queued = probes.queue_job(stack, "codes")
    time.sleep(observe)
    run_row = probes.wait_run_finished(stack, queued, timeout=60)

    token_calls = [c for c in fake.token_calls if c.at >= t_rev]
    tail = sweep.log_text().strip().splitlines()[-3:]
    result.check(
        "token calls after revocation",
        len(token_calls),
        "<= 2",
        len(token_calls) <= 2,
        f"tokens: {len(token_calls)} token endpoint calls after revocation: "
        + str(Counter((c.grant_type, c.status) for c in token_calls)),
    )
    result.check("Bling IP block", fake.ip_blocked, "False", not fake.ip_blocked)
    conn = probes.connection_state(stack) or {}
    result.check(
        "connection state",
        conn.get("status"),
        "needs_reconnect",
        conn.get("status") == "needs_reconnect",
        f"tokens: connection is {conn} after invalid_grant",
    )
    status, body = stack.health()
    result.check(
        "/health/ status",
        status,
        "503",
        status == 503,
        f"tokens: /health/ answered {status}: {str(body)[:200]}",
    )
    result.check(
        "sweep stopped",
        f"rc={rc}",
        "non-zero",
        rc not in (0, None, "hung"),
        f"tokens: sweep rc={rc}: {tail}",
    )
    text = " ".join(tail).lower()
    clear = any(w in text for w in ("reconect", "reconnect", "conect", "connect", "token"))
    result.check(
        "sweep message names the cause", " | ".join(tail)[-160:], "mentions reconnect/token", clear
    )
    result.add(
        "queued sweep after revocation",
        f"{run_row.get('status')}: {str(run_row.get('error'))[:100]}",
    )
    api_401 = [r for r in fake.calls() if r.at >= t_rev and r.status == 401]
    result.check(
        "401s served after revocation",
        len(api_401),
        "<= 5",
        len(api_401) <= 5,
        f"tokens: {len(api_401)} API calls with a dead token after revocation",
    )
    status_out = stack.manage("bling_status", timeout=60)
    result.add("bling_status rc", status_out.returncode)

    # ---- reconnect: the events that arrived meanwhile are processed, nothing lost
    stack.connect()
    status, _ = stack.health()
    result.check("/health/ after reconnect", status, "200", status == 200)
    ids = {d.event_id for d in events if d.status == 200}
    # First on their own (retries, a reconnect hook if there is one), then with the `events`
    # job that the schedule runs (hourly by default) -- no operator command.
    state, waited = probes.wait_events_settled(
        stack, expected_ids=ids, timeout=opt(args, "auto_wait_seconds", 90.0, 45.0)
    )
    auto = sum(1 for r in state["rows"] if r["event_id"] in ids and r["status"] == "processed")
    result.add(
        "events processed on their own after reconnect", f"{auto}/{len(ids)} in {waited:.0f} s"
    )
    if auto < len(ids):
        job = probes.queue_job(stack, "events")
        result.add(
            "events job run", probes.wait_run_finished(stack, job, timeout=120).get("status")
        )
        state, waited = probes.wait_events_settled(
            stack, expected_ids=ids, timeout=opt(args, "retry_wait_seconds", 420.0, 180.0)
        )
        result.add("seconds until settled after the events job", round(waited, 1))
    by_id = {r["event_id"]: r for r in state["rows"] if r["event_id"] in ids}
    st = Counter(r["status"] for r in by_id.values())
    result.add("events after reconnect", dict(st))
    lost = [e for e in ids if by_id.get(e, {}).get("status") != "processed"]
    result.check(
        "events lost",
        len(lost),
        "0",
        not lost,
        f"tokens: {len(lost)} of {len(ids)} events sent while disconnected not processed after reconnect: {dict(st)}",
    )
    alive = bool(stack.worker and stack.worker.alive and stack.web and stack.web.alive)
    result.check("web and worker alive", alive, "True", alive)
