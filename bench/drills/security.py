"""Security checks (SPEC 7) on the running stack, with DEBUG=false.

- anonymous: the admin, the dashboard and the connect page redirect to the login page;
  an admin login POST without a CSRF token is refused (403);
- webhooks without a signature or with a wrong one are refused (401) and never processed;
- tokens never leak: after connecting, a forced refresh (expired access token) and a sweep,
  every token the fake ever issued and the client secret are searched in the captured logs of
  gunicorn, the qcluster and every command, in ``/health/``, in ``bling_status`` output, in
  the admin pages a staff user sees (connection list and change page, audit, job runs,
  dashboard), and in the database rows of the connection (they must be encrypted at rest).
"""

from __future__ import annotations

import argparse
import http.cookiejar
import re
import secrets
import subprocess
import urllib.error
import urllib.parse
import urllib.request

from bench.drills import probes, sender
from bench.drills.report import DrillResult
from bench.drills.scenario import app_bring_up, catalog_seed, opt
from bench.drills.stack import PG_HOST, PG_USER, Stack, StackOptions

ANON_PATHS = ["/admin/", "/admin/blingsync/blingconnection/", "/dashboard/", "/bling/connect/"]
STAFF_PATHS = [
    "/admin/",
    "/admin/blingsync/blingconnection/",
    "/admin/blingsync/auditlog/",
    "/admin/blingsync/jobrun/",
    "/admin/webhooks/webhookevent/",
    "/dashboard/",
    "/health/",
]


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--products", type=int, help="catalog size for the sweep (40; quick 20)")


def configure(opts: StackOptions, args: argparse.Namespace) -> None:
    # The most talkative logging an operator could switch on must not leak either.
    opts.extra_env["LOG_LEVEL"] = "DEBUG"


class Browser:
    """A cookie-keeping client that logs in to the admin like a staff member would."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar))

    def get(self, path: str) -> tuple[int, str]:
        try:
            with self.opener.open(self.base + path, timeout=20) as resp:
                return resp.status, resp.read().decode(errors="replace")
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read().decode(errors="replace")

    def login(self, username: str, password: str) -> int:
        status, page = self.get("/admin/login/")
        match = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
        token = match.group(1) if match else ""
        data = urllib.parse.urlencode(
            {
                "username": username,
                "password": password,
                "csrfmiddlewaretoken": token,
                "next": "/admin/",
            }
        ).encode()
        req = urllib.request.Request(
            self.base + "/admin/login/?next=/admin/",
            data=data,
            headers={"Referer": self.base + "/admin/login/", "Origin": self.base},
        )
        try:
            with self.opener.open(req, timeout=20) as resp:
                return resp.status if "/admin/login/" not in resp.url else 401
        except urllib.error.HTTPError as exc:
            return exc.code


def run(stack: Stack, args: argparse.Namespace, result: DrillResult) -> None:
    n_products = opt(args, "products", 40, 20)
    catalog_seed(stack, products=n_products, share_without_code=0.5)
    app_bring_up(stack)

    # -- anonymous access
    anon = [(p, stack.http(p)) for p in ANON_PATHS]
    leaks = [
        (p, s, h.get("Location", ""))
        for p, (s, _, h) in anon
        if not (s in (301, 302) and "login" in h.get("Location", ""))
    ]
    result.check(
        "anonymous redirected to login",
        f"{len(anon) - len(leaks)}/{len(anon)}",
        "all",
        not leaks,
        f"security: pages open to anonymous users: {leaks}",
    )
    status, _, _ = stack.http(
        "/admin/login/",
        method="POST",
        body=b"username=x&password=y",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    result.check("login POST without CSRF", status, "403", status == 403)

    # -- webhooks without / with a wrong signature
    fake = stack.fake
    body = fake.webhook_body("product.updated", {"id": 1}, "sec-" + secrets.token_hex(6))
    s_missing, _, _ = sender.post(stack.webhook_url, body, None)
    s_bad, _, _ = sender.post(stack.webhook_url, body, fake.sign(body, secret="not-the-secret"))
    result.check("webhook without signature", s_missing, "401", s_missing == 401)
    result.check("webhook with wrong signature", s_bad, "401", s_bad == 401)
    rows = probes.events_state(stack)["rows"]
    processed = [r for r in rows if not r["signature_valid"] and r["status"] != "rejected"]
    result.check("unsigned rows not rejected", len(processed), "0", not processed)

    # -- make tokens travel: a forced refresh and a sweep, then look everywhere
    fake.expire_access_tokens()
    if stack.has_command("sweep_codes"):
        stack.manage("sweep_codes", "--limit", "10", timeout=300)
    stack.manage("bling_status", timeout=60)
    refreshes = [c for c in fake.token_calls if c.grant_type == "refresh_token"]
    result.add("token refreshes during the drill", len(refreshes))

    user, password = "drill-staff", secrets.token_urlsafe(16)
    stack.create_staff(user, password)
    browser = Browser(stack.base_url)
    login = browser.login(user, password)
    result.check("staff login", login, "200", login == 200)
    pages: dict[str, str] = {}
    for path in STAFF_PATHS:
        status, text = browser.get(path)
        pages[path] = text
        result.add(f"staff GET {path}", status, "200", status == 200)
    try:
        conn_id = stack.django(
            "from blingsync.models import BlingConnection\n"
            "result = BlingConnection.objects.order_by('pk').values_list('pk', flat=True).first()"
        )
        if conn_id:
            path = f"/admin/blingsync/blingconnection/{conn_id}/change/"
            status, pages[path] = browser.get(path)
            result.add(f"staff GET {path}", status, "200", status == 200)
    except RuntimeError as exc:
        result.notes.append(f"connection id not readable: {exc}")

    secrets_ = stack.issued_secrets()
    result.add("secrets searched (tokens issued + client secret)", len(secrets_))
    logs = {p.name: p.read_text(errors="replace") for p in stack.log_files()}
    in_logs = sorted({name for name, text in logs.items() for s in secrets_ if s in text})
    result.check(
        "secrets in captured logs",
        in_logs or 0,
        "0",
        not in_logs,
        f"security: a token or the client secret appears in {in_logs} under {stack.workdir}",
    )
    in_pages = sorted({path for path, text in pages.items() for s in secrets_ if s in text})
    result.check(
        "secrets in /health/ and admin pages",
        in_pages or 0,
        "0",
        not in_pages,
        f"security: a token appears in pages {in_pages}",
    )
    result.add("log bytes searched", sum(len(t) for t in logs.values()))

    if stack.db_name:
        dump = subprocess.run(
            [
                "psql",
                "-h",
                PG_HOST,
                "-U",
                PG_USER,
                "-d",
                stack.db_name,
                "-tAc",
                "select row_to_json(c)::text from blingsync_blingconnection c",
            ],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        ).stdout
        plain = [s[:8] + "..." for s in secrets_ if s in dump]
        result.check(
            "tokens in clear in the database",
            len(plain),
            "0",
            not plain,
            f"security: plaintext tokens in blingsync_blingconnection: {plain[:3]}",
        )
        audit_dump = subprocess.run(
            [
                "psql",
                "-h",
                PG_HOST,
                "-U",
                PG_USER,
                "-d",
                stack.db_name,
                "-tAc",
                "select string_agg(row_to_json(a)::text, chr(10)) from blingsync_auditlog a",
            ],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        ).stdout
        in_audit = [s[:8] + "..." for s in secrets_ if s in audit_dump]
        result.check("tokens in the audit log", len(in_audit), "0", not in_audit)
