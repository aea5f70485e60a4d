"""Rate pressure: another client on the same Bling account uses 2 of its 3 requests per second.

The fake enforces Bling's 3 requests/s per account. A thread in the drill plays the other
integration (its own tokens, ``GET /produtos`` at ``--other-rate``/s) while blingsync runs a
code sweep configured for the full 3/s. Checks: the sweep slows down but finishes and codes
every eligible product, the 429s it receives stay a handful (Bling blocks an IP after 300
errors in 10 s), Bling never blocks the IP; reported: the sweep's wall time and call rate, the
429s the other client suffered (our pressure on a neighbour).
"""

from __future__ import annotations

import argparse
import threading
import time
import urllib.error
import urllib.request

from bench.drills import probes
from bench.drills.procs import Proc
from bench.drills.report import DrillResult
from bench.drills.scenario import app_bring_up, catalog_seed, opt
from bench.drills.stack import Stack, StackOptions


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--products", type=int, help="catalog size (400; quick 80)")
    p.add_argument("--other-rate", type=float, default=2.0, help="the other client's calls/s")
    p.add_argument("--max-seconds", type=float, help="bound for the sweep (900; quick 300)")
    p.add_argument("--max-429", type=int, default=5, help="a handful: 429s tolerated")


def configure(opts: StackOptions, args: argparse.Namespace) -> None:
    pass


class OtherClient(threading.Thread):
    """Another integration on the same account, calling at a fixed rate with its own token."""

    def __init__(self, stack: Stack, rate: float, stop: threading.Event) -> None:
        super().__init__(name="other-client", daemon=True)
        self.stack, self.rate, self.stop_event = stack, rate, stop
        self.token = stack.fake.issue_tokens()["access_token"]
        self.statuses: list[int] = []

    def run(self) -> None:
        started = time.monotonic()
        i = 0
        while not self.stop_event.is_set() and time.monotonic() - started < 3600:
            slot = started + i / self.rate
            delay = slot - time.monotonic()
            if delay > 0 and self.stop_event.wait(delay):
                return
            req = urllib.request.Request(
                self.stack.fake.base_url + "/produtos?pagina=1&limite=1",
                headers={"Authorization": f"Bearer {self.token}", "enable-jwt": "1"},
            )
            try:
                with urllib.request.urlopen(req, timeout=10) as resp:  # noqa: S310 - loopback
                    self.statuses.append(resp.status)
            except urllib.error.HTTPError as exc:
                self.statuses.append(exc.code)
            except OSError:
                self.statuses.append(0)
            i += 1


def run(stack: Stack, args: argparse.Namespace, result: DrillResult) -> None:
    n_products = opt(args, "products", 400, 80)
    bound = opt(args, "max_seconds", 900.0, 300.0)
    fake = stack.fake
    catalog = catalog_seed(stack, products=n_products, share_without_code=0.3)
    app_bring_up(stack, worker=False)
    if not stack.has_command("sweep_codes"):
        raise RuntimeError("sweep_codes has not landed")

    stop = threading.Event()
    other = OtherClient(stack, args.other_rate, stop)
    other.start()
    time.sleep(2)
    t0 = time.time()
    sweep = Proc(
        "sweep",
        [stack.python, "manage.py", "sweep_codes"],
        env=stack.env,
        cwd=stack.app_dir,
        log_path=stack.workdir / "sweep.log",
    ).start()
    try:
        rc = sweep.popen.wait(timeout=bound) if sweep.popen else None
    except Exception:
        sweep.stop()
        rc = "timeout"
    t1 = time.time()
    stop.set()
    other.join(15)

    token = other.token
    ours = [
        r
        for r in fake.calls()
        if t0 <= r.at <= t1 and token not in r.headers.get("authorization", "")
    ]
    ours_429 = sum(1 for r in ours if r.status == 429)
    others_429 = sum(1 for s in other.statuses if s == 429)
    wall = t1 - t0
    result.check(
        "sweep finished",
        f"rc={rc}",
        "0",
        rc == 0,
        f"rate: sweep rc={rc}: {sweep.log_text().strip().splitlines()[-3:]}",
    )
    result.add("sweep wall seconds", round(wall, 1))
    result.add("our calls", len(ours))
    result.add(
        "our call rate /s", round(len(ours) / wall, 2) if wall else 0, "~1 (3 minus the other's 2)"
    )
    result.check(
        "429s served to blingsync",
        ours_429,
        f"<= {args.max_429}",
        ours_429 <= args.max_429,
        f"rate: blingsync received {ours_429} 429s while another client used {args.other_rate}/s",
    )
    times = sorted(r.at for r in ours if r.status == 429)
    worst, j = 0, 0
    for i, t in enumerate(times):
        while t - times[j] > 10:
            j += 1
        worst = max(worst, i - j + 1)
    result.add("our 429s in the worst 10 s", worst, "IP block at 300 errors/10 s")
    result.add("share of our calls answered 429", f"{ours_429 / max(1, len(ours)):.0%}")
    result.add("other client's calls / 429s", f"{len(other.statuses)}/{others_429}")
    result.check("Bling IP block", fake.ip_blocked, "False", not fake.ip_blocked)
    fc = probes.fake_codes(stack)
    left = [p for p in catalog.uncoded_ids if p in set(fc["without_code"])]
    result.check("uncoded products left", len(left), "0", not left)
    result.check(
        "duplicate codes in Bling", len(fc["duplicate_codes"]), "0", not fc["duplicate_codes"]
    )
    runs = probes.job_runs(stack, "codes")
    if runs:
        result.add("run api_calls / changed", f"{runs[-1]['api_calls']}/{runs[-1]['changed']}")
