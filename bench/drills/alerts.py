"""Alert drill: the refresh token is revoked while the cluster runs; how long until the
"reconnect" e-mail reaches the mail server.

The app sends through a real SMTP server (a sink in the drill's process, `EMAIL_URL`), to
`ALERTS_TO`. With the stack up and connected, the fake revokes every refresh token and
expires every access token; webhooks keep arriving and a code sweep is queued, so the
cluster's next Bling call gets 401 and its refresh `invalid_grant`. Judged: the reconnect
e-mail arrives within 60 s of the first refused refresh (real time: the fake's clock of the
token call, the sink's clock of the DATA), exactly one such e-mail while work keeps failing,
its link is the site's "Conectar ao Bling", and the message is recorded as sent.
"""

from __future__ import annotations

import argparse
import time

from bench.drills import probes, sender
from bench.drills.report import DrillResult
from bench.drills.scenario import app_bring_up, catalog_seed, opt, product_event_data
from bench.drills.smtpsink import SmtpSink
from bench.drills.stack import Stack, StackOptions

ALERTS_TO = "ops@drill.example"
_SINKS: dict[int, SmtpSink] = {}


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--smtp-port", type=int, default=0, help="port of the SMTP sink (0: any)")
    p.add_argument("--products", type=int, help="catalog size (100; quick 30)")
    p.add_argument("--wait-seconds", type=float, help="bound for the e-mail (120; quick 90)")
    p.add_argument(
        "--observe-seconds", type=float, help="keep work failing after it (45; quick 20)"
    )


def configure(opts: StackOptions, args: argparse.Namespace) -> None:
    sink = SmtpSink(port=args.smtp_port).start()
    _SINKS[id(args)] = sink
    opts.extra_env.update({"EMAIL_URL": sink.url, "ALERTS_TO": ALERTS_TO})


def _reconnect_mails(sink: SmtpSink) -> list:
    return [m for m in sink.received() if "conexão com o Bling" in m.subject]


def run(stack: Stack, args: argparse.Namespace, result: DrillResult) -> None:
    sink = _SINKS.pop(id(args))
    try:
        _run(stack, args, result, sink)
    finally:
        sink.stop()


def _run(stack: Stack, args: argparse.Namespace, result: DrillResult, sink: SmtpSink) -> None:
    stack.env["SITE_URL"] = stack.base_url
    fake = stack.fake
    catalog = catalog_seed(stack, products=opt(args, "products", 100, 30), share_without_code=0.5)
    app_bring_up(stack)
    before = len(sink.received())

    fake.revoke_refresh_tokens()
    fake.expire_access_tokens()
    t_revoked = time.time()
    events = [
        sender.valid(fake, "product.updated", product_event_data(stack, pid))
        for pid in catalog.uncoded_ids[:5]
    ]
    sender.send_plan(stack.webhook_url, events, rate=2, max_seconds=10)
    probes.queue_job(stack, "codes")

    deadline = time.monotonic() + opt(args, "wait_seconds", 120.0, 90.0)
    while time.monotonic() < deadline and not _reconnect_mails(sink):
        time.sleep(0.2)
    refused = [c for c in fake.token_calls if c.at >= t_revoked and c.status != 200]
    mails = _reconnect_mails(sink)
    result.add("e-mails before the revocation", before)
    if not refused:
        result.check("refused refresh seen", 0, ">= 1", False, "alerts: no refresh was refused")
        return
    t_refused = refused[0].at
    result.add("revocation -> first refused refresh (s)", round(t_refused - t_revoked, 2))
    if not mails:
        result.check(
            "reconnect e-mail after the refused refresh (s)",
            "none",
            "<= 60",
            False,
            f"alerts: no reconnect e-mail within the wait; sink got {len(sink.received())}",
        )
        return
    delay = mails[0].at - t_refused
    result.check(
        "reconnect e-mail after the refused refresh (s)",
        round(delay, 2),
        "<= 60",
        0 <= delay <= 60,
        f"alerts: the reconnect e-mail came {delay:.1f} s after the refused refresh",
    )
    result.check("sent to ALERTS_TO", mails[0].rcpt_to, ALERTS_TO, ALERTS_TO in mails[0].rcpt_to)
    link = f"{stack.base_url}/bling/connect/"
    body = mails[0].text()
    result.check("link to Conectar ao Bling", link in body, "True", link in body)

    # Work keeps failing for a while: still a single e-mail (the throttle holds).
    more = [
        sender.valid(fake, "product.updated", product_event_data(stack, pid))
        for pid in catalog.uncoded_ids[5:10]
    ]
    sender.send_plan(stack.webhook_url, more, rate=1, max_seconds=10)
    probes.queue_job(stack, "codes")
    time.sleep(opt(args, "observe_seconds", 45.0, 20.0))
    n = len(_reconnect_mails(sink))
    result.check("reconnect e-mails in total", n, "1", n == 1)
    record = stack.django(
        """
from blingsync.alerts.models import AlertMessage
result = list(AlertMessage.objects.filter(kind="needs_reconnect").values_list("status", flat=True))
"""
    )
    result.check("recorded as sent", record, "['sent']", record == ["sent"])
    alive = bool(stack.worker and stack.worker.alive and stack.web and stack.web.alive)
    result.check("web and worker alive", alive, "True", alive)
