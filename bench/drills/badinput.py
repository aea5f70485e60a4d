"""Bad input: 200 malformed or hostile webhook deliveries against the running stack.

Families (signed with the real secret unless the family is about signatures): bodies over the
size limit, not JSON / not UTF-8, JSON that is not an object, missing or wrongly typed
``eventId``/``event``/``data``/``companyId``, ids too long for their column, unicode (NUL,
lone surrogates, RTL, emoji), nested junk (deep nesting that breaks naive parsers), numbers
out of range for a bigint, broken signature headers, wrong methods. Each expects a specific
answer (SPEC 5.6 since issue 13: any signed body that is valid JSON gets a 200 and is stored,
ignored with its reason when unusable; signed non-JSON 400; unsigned 401; too big 413).
Checks: every answer is the expected one, no 5xx, every refused POST is recorded in the inbox
(a row, or counted on one as a repeat), the accepted ones are settled, and gunicorn and the
qcluster are still alive and /health/ answers afterwards.
"""

from __future__ import annotations

import argparse
import json
import time
import uuid
from collections import Counter
from typing import Any

from bench.drills import probes, sender
from bench.drills.report import DrillResult
from bench.drills.scenario import app_bring_up, catalog_seed, opt, product_event_data
from bench.drills.stack import Stack, StackOptions

LIMIT_DEFAULT = 262_144


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--count", type=int, help="deliveries (200; quick 200 too: they are cheap)")


def configure(opts: StackOptions, args: argparse.Namespace) -> None:
    pass


def _env(
    event_id: Any = None, event: Any = "product.updated", data: Any = None, **extra: Any
) -> dict:
    env: dict[str, Any] = {
        "eventId": str(uuid.uuid4()) if event_id is None else event_id,
        "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "version": "v1",
        "event": event,
        "companyId": "d4475854366a36c86a37e792f9634a51",
        "data": {"id": 1} if data is None else data,
    }
    env.update(extra)
    return env


def _raw(obj: Any) -> bytes:
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":")).encode(
        "utf-8", "surrogatepass"
    )


def cases(stack: Stack, product_id: int, limit: int) -> list[sender.Delivery]:
    """The hostile families; each entry (label, body, how to sign, expected statuses)."""
    fake = stack.fake
    good_data = product_event_data(stack, product_id)
    out: list[tuple[str, bytes, str, tuple[int, ...]]] = []

    def add(label: str, body: bytes, sign: str = "valid", expect: tuple[int, ...] = (200,)) -> None:
        out.append((label, body, sign, expect))

    # -- size
    big = _raw(_env(data={"nome": "x" * (limit + 10)}))
    add("over limit, signed", big, expect=(413,))
    add("over limit, unsigned", big, "missing", expect=(413, 401))
    add("3 MiB, signed", b'{"eventId":"a","data":"' + b"y" * 3_000_000 + b'"}', expect=(413,))
    add("exactly at the limit", b" " * (limit - 2) + b"{}")  # JSON: 200, ignored (no eventId)
    # -- not JSON / not UTF-8: the only signed bodies refused
    add("empty body", b"", expect=(400,))
    add("not json", b"hello bling", expect=(400,))
    add("truncated json", _raw(_env())[:-5], expect=(400,))
    add("latin-1 bytes", '{"eventId":"é"}'.encode("latin-1"), expect=(400,))
    add("invalid utf-8", b'{"eventId":"\xff\xfe","event":"product.updated"}', expect=(400,))
    # json.loads detects UTF-16 itself; signed by the secret, it is authentic.
    add("utf-16 body", json.dumps(_env()).encode("utf-16"), expect=(400, 200))
    add("BOM + json", b"\xef\xbb\xbf" + _raw(_env()), expect=(400, 200))
    add(
        "NaN literal",
        b'{"eventId":"nan-1","event":"product.updated","data":{"id":NaN}}',
        expect=(400, 200),
    )
    # -- JSON but not an object
    for label, value in [
        ("array", [1, 2]),
        ("string", "x"),
        ("number", 42),
        ("null", None),
        ("true", True),
    ]:
        add(f"top-level {label}", _raw(value))
    # -- missing or wrongly typed fields
    base = _env()
    for field in ("eventId", "event"):
        env = dict(base)
        env.pop(field)
        add(f"missing {field}", _raw(env))
        for tname, bad in [
            ("int", 12345),
            ("list", ["a"]),
            ("dict", {"a": 1}),
            ("null", None),
            ("empty", ""),
            ("spaces", "   "),
        ]:
            add(f"{field} as {tname}", _raw(dict(base, **{field: bad})))
    for tname, bad in [("string", "abc"), ("list", [1]), ("number", 7)]:
        add(f"data as {tname}", _raw(_env(data=bad)))
    add("companyId as int", _raw(_env(companyId=123)))
    add("eventId 101 chars", _raw(_env(event_id="e" * 101)))
    add("eventId 10k chars", _raw(_env(event_id="e" * 10_000)))
    add("event 61 chars", _raw(_env(event="p" * 61)))
    # -- unicode
    add("eventId with NUL", _raw(_env(event_id="abc\u0000def")), expect=(400, 200))
    add("event with NUL", _raw(_env(event="product.\u0000updated")), expect=(400, 200))
    add("companyId with NUL", _raw(_env(companyId="c\u0000")), expect=(400, 200))
    add(
        "eventId lone surrogate",
        b'{"eventId":"\\ud800x","event":"product.updated","data":{}}',
        expect=(400, 200),
    )
    add(
        "event lone surrogate",
        b'{"eventId":"' + str(uuid.uuid4()).encode() + b'","event":"\\udfff","data":{}}',
        expect=(400, 200),
    )
    add(
        "data.nome NUL and surrogate",
        _raw(_env(data=dict(good_data, nome="a\u0000b\\ud800"))),
        expect=(200,),
    )
    add(
        "eventId RTL + emoji",
        _raw(_env(event_id="\u202e🙂" + uuid.uuid4().hex[:8])),
        expect=(200, 400),
    )
    add("event emoji", _raw(_env(event="produto.🙂")), expect=(200, 400))
    # -- nested junk and numbers
    add(
        "deep nesting 50k",
        b'{"eventId":"deep","event":"x","data":' + b"[" * 50_000 + b"]" * 50_000 + b"}",
    )
    add(
        "deep nesting in data dicts",
        b'{"eventId":"'
        + uuid.uuid4().hex.encode()
        + b'","event":"product.updated","data":'
        + b'{"a":' * 20_000
        + b"1"
        + b"}" * 20_000
        + b"}",
        expect=(400, 200),
    )
    add("data.id beyond bigint", _raw(_env(data={"id": 10**30})), expect=(200, 400))
    add("data.id negative", _raw(_env(data={"id": -5})), expect=(200, 400))
    add("data.id float", _raw(_env(data={"id": 1.5e308})), expect=(200, 400))
    add(
        "stock produto.id string",
        _raw(_env(event="stock.updated", data={"produto": {"id": "abc"}})),
        expect=(200, 400),
    )
    add(
        "stock produto as list",
        _raw(_env(event="stock.updated", data={"produto": [1, 2]})),
        expect=(200, 400),
    )
    add("date garbage", _raw(_env(date="not-a-date")), expect=(200, 400))
    add("date as dict", _raw(_env(date={"y": 2026})), expect=(200, 400))
    add("date year 99999", _raw(_env(date="99999-01-01T00:00:00Z")), expect=(200, 400))
    add("unknown event type", _raw(_env(event="foo.bar")), expect=(200,))
    add("huge key count", _raw(_env(data={f"k{i}": i for i in range(8000)})), expect=(200, 400))
    # -- signatures
    body = _raw(_env())
    add("no signature", body, "missing", (401,))
    add("wrong secret", body, "bad", (401,))
    for label, header in [
        ("empty header", ""),
        ("no prefix", fake.sign(body).removeprefix("sha256=")),
        ("md5 prefix", "md5=" + fake.sign(body).removeprefix("sha256=")),
        ("non-hex", "sha256=" + "z" * 64),
        ("short hex", "sha256=abcd"),
        ("upper-case hex", "sha256=" + fake.sign(body).removeprefix("sha256=").upper()),
        ("10k header", "sha256=" + "a" * 10_000),
        ("signature of other body", fake.sign(b"{}")),
        ("unicode header", "sha256=é"),
    ]:
        add(
            f"signature: {label}",
            body,
            "header:" + header,
            (401, 200)
            if label == "upper-case hex"
            else (401, 431)
            if label == "10k header"
            else (401,),
        )

    deliveries = []
    for label, raw, how, expect in out:
        if how == "valid":
            sig: str | None = fake.sign(raw)
        elif how == "missing":
            sig = None
        elif how == "bad":
            sig = fake.sign(raw, secret=fake.client_secret + "x")
        else:
            sig = how.removeprefix("header:")
        deliveries.append(sender.Delivery("hostile", "", raw, sig, expect=expect, label=label))
    return deliveries


def run(stack: Stack, args: argparse.Namespace, result: DrillResult) -> None:
    count = opt(args, "count", 200, 200)
    catalog = catalog_seed(stack, products=12, share_without_code=0.5)
    app_bring_up(stack)
    limit = int(stack.env.get("WEBHOOK_MAX_BODY_BYTES", LIMIT_DEFAULT))
    families = cases(stack, catalog.uncoded_ids[0], limit)
    plan = [families[i % len(families)] for i in range(count)]
    # Repeats of a family get fresh event ids where the body has a uuid: resend the same bytes
    # otherwise (a duplicate of a hostile body must be answered the same way).
    for d in plan:
        try:
            d.status, d.response, d.latency_ms = sender.post(
                stack.webhook_url, d.body, d.signature, timeout=20
            )
        except Exception as exc:  # a header http.client refuses to send is a harness limit
            d.status, d.response = -2, str(exc).encode()
    methods = []
    for method in ("GET", "PUT", "DELETE"):
        status, _, _ = stack.http(
            "/webhooks/bling/", method=method, body=b"{}" if method != "GET" else None
        )
        methods.append((method, status))

    sent = [d for d in plan if d.status != -2]
    unexpected = [d for d in sent if d.status not in d.expect]
    five = [d for d in sent if d.status >= 500 or d.status == 0]
    result.add("deliveries", f"{len(sent)} ({len(families)} families)", str(count))
    result.add("answers by status", dict(sorted(Counter(d.status for d in sent).items())))
    result.check(
        "answers as expected",
        f"{len(sent) - len(unexpected)}/{len(sent)}",
        "all",
        not unexpected,
        "badinput: unexpected answers: "
        + "; ".join(
            sorted({f"{d.label} -> {d.status} (want {d.expect})" for d in unexpected})[:12]
        ),
    )
    result.check(
        "5xx or no answer",
        len(five),
        "0",
        not five,
        "badinput: 5xx/no answer for: "
        + "; ".join(sorted({f"{d.label} -> {d.status}" for d in five})),
    )
    result.check("other methods 405", methods, "405 each", all(s == 405 for _, s in methods))
    skipped = [d.label for d in plan if d.status == -2]
    if skipped:
        result.notes.append(
            "not sendable by http.client (not counted): " + ", ".join(sorted(set(skipped)))
        )

    # 431 comes from gunicorn (header over its limit) before Django sees the request.
    refused = [d for d in sent if 400 <= d.status < 500 and d.status != 431]
    time.sleep(3)
    state = probes.events_state(stack)
    rows = state["rows"]
    # A refusal past 10 a minute from one address is counted on a row (`repeats`).
    recorded = sum(1 + (r.get("repeats") or 0) for r in rows if 400 <= r["http_status"] < 500)
    refused_rows = [r for r in rows if 400 <= r["http_status"] < 500]
    result.check(
        "refused deliveries recorded",
        f"{recorded}/{len(refused)}",
        "all",
        recorded >= len(refused),
        f"badinput: {len(refused)} deliveries refused but {len(refused_rows)} rows with a 4xx http_status",
    )
    accepted_ids = {r["event_id"] for r in rows if r["http_status"] == 200 and r["event_id"]}
    settled, waited = probes.wait_events_settled(stack, expected_ids=accepted_ids, timeout=120)
    by_status = Counter(r["status"] for r in settled["rows"] if r["event_id"] in accepted_ids)
    result.add("accepted events by status", dict(by_status))
    stuck = sum(n for s, n in by_status.items() if s in ("pending", "processing"))
    result.check("accepted events left pending", stuck, "0", stuck == 0)
    worker_log = stack.worker.log_text() if stack.worker else ""
    tracebacks = worker_log.count("Traceback")
    result.add("tracebacks in worker log", tracebacks)
    web_tracebacks = stack.web.log_text().count("Traceback") if stack.web else 0
    result.check(
        "tracebacks in web log",
        web_tracebacks,
        "0",
        web_tracebacks == 0,
        f"badinput: {web_tracebacks} tracebacks in gunicorn's log ({stack.workdir}/web.log)",
    )
    alive = bool(stack.worker and stack.worker.alive and stack.web and stack.web.alive)
    result.check("web and worker alive", alive, "True", alive)
    status, _ = stack.health()
    result.check("/health/ after", status, "200", status == 200)
