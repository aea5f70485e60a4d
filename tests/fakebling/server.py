"""HTTP layer of the fake: ThreadingHTTPServer, routing, bearer check, limits, faults, log.

Pipeline of an API call (paths under ``/Api/v3``):
1. ``/oauth/token`` and ``/oauth/authorize`` go to :mod:`.oauth` (no bearer needed); paths
   under ``/sandbox`` are the sandbox's own page (:mod:`.sandbox.page`), outside the API;
2. IP block (after >20 token calls/60 s) -> 403 for everything;
3. bearer check -> 401 ``invalid_token``; ``enable-jwt: 1`` absence is counted;
4. daily limit, then per-second sliding window -> 429 (rejected calls do NOT enter the
   window or the daily count: a client that keeps hammering is refused only while it
   exceeds the rate, which is the lenient reading of "the request is not processed");
5. faults (outage, fail_next) -> injected status with Bling's envelope;
6. ``delay`` sleep (outside the lock), routing (unknown path/method -> 404
   RESOURCE_NOT_FOUND), query/body validation, handler under the single state lock;
7. every request, whatever the outcome, is appended to ``fake.requests``.
"""

from __future__ import annotations

import json
import logging
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any

from . import categories, company, invoices, oauth, orders, products, stock
from .errors import ApiError, for_status, invalid_body, ip_blocked, not_found, too_many_requests
from .routing import Request, Response, Route
from .state import Recorded
from .validation import validate_query

if TYPE_CHECKING:
    from .fake import FakeBling

log = logging.getLogger(__name__)

API_PREFIX = "/Api/v3"
# The sandbox's own page and controls (make demo): not part of Bling's API, not recorded.
SANDBOX_PREFIX = "/sandbox"
ROUTES: list[Route] = [
    *products.ROUTES,
    *categories.ROUTES,
    *stock.ROUTES,
    *orders.ROUTES,
    *invoices.ROUTES,
    *company.ROUTES,
]


def _resolve(method: str, path: str) -> tuple[Route, dict[str, str]]:
    for route in ROUTES:
        if route.method != method:
            continue
        match = route.pattern.match(path)
        if match:
            return route, match.groupdict()
    # Unknown path or a method the path does not have: Bling answers 404 RESOURCE_NOT_FOUND.
    raise not_found()


def _gate(fake: FakeBling, headers: dict[str, str], path: str) -> None:
    """Steps 2-5 of the pipeline; raises ApiError to refuse the call."""
    with fake.lock:
        if fake.ip_blocked:
            raise ip_blocked()
        oauth.check_bearer(fake, headers)
        if headers.get("enable-jwt", "").strip() != "1":
            fake.missing_jwt_header += 1
        fake.limiter_admit()
        fault = fake.take_fault(path)
    if fault is not None:
        raise for_status(fault)


def dispatch(
    fake: FakeBling,
    method: str,
    full_path: str,
    query: dict[str, list[str]],
    headers: dict[str, str],
    raw: bytes,
) -> Response:
    """Serve one request and record it."""
    path = full_path[len(API_PREFIX) :] if full_path.startswith(API_PREFIX + "/") else full_path
    body_json: Any = None
    bad_json = False
    if raw and not headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
        try:
            body_json = json.loads(raw)
        except ValueError:
            bad_json = True
    if path == "/oauth/token" and method == "POST":
        status, body = oauth.token_endpoint(fake, headers, raw)
        response = Response(status, body)
    elif path == "/oauth/authorize" and method == "GET":
        status, body, extra = oauth.authorize(fake, query)
        response = Response(status, body, extra)
    elif full_path == SANDBOX_PREFIX or full_path.startswith(SANDBOX_PREFIX + "/"):
        from .sandbox import page

        return page.handle(fake, method, full_path, query, headers, raw)
    else:
        response = _api_call(
            fake, method, path, full_path, query, headers, raw, body_json, bad_json
        )
    with fake.lock:
        fake.requests.append(
            Recorded(method, path, query, headers, body_json, response.status, time.time())
        )
    return response


def _api_call(
    fake: FakeBling,
    method: str,
    path: str,
    full_path: str,
    query: dict[str, list[str]],
    headers: dict[str, str],
    raw: bytes,
    body_json: Any,
    bad_json: bool,
) -> Response:
    try:
        if not full_path.startswith(API_PREFIX + "/"):
            raise not_found()
        _gate(fake, headers, path)
        if fake.delay:
            time.sleep(fake.delay)
        route, path_params = _resolve(method, path)
        params = validate_query(query, route.query)
        if bad_json:
            raise invalid_body()
        req = Request(method, path, query, headers, body_json, raw, path_params, params)
        with fake.lock:
            return route.handler(fake, req)
    except ApiError as exc:
        return Response(exc.status, exc.body)
    except Exception:  # a fake bug must surface as 500 in the client, and in the logs
        log.exception("fake bling: handler crashed on %s %s", method, full_path)
        return Response(500, for_status(500).body)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    request_queue_size = 128  # several client processes may connect at once
    fake: FakeBling


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive for requests.Session clients
    # Headers and body go out in separate writes; without TCP_NODELAY, Nagle + delayed ACK
    # would add ~40 ms to every keep-alive request.
    disable_nagle_algorithm = True
    server: _Server

    def _handle(self, method: str) -> None:
        url = urllib.parse.urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        headers = {k.lower(): v for k, v in self.headers.items()}
        query = urllib.parse.parse_qs(url.query, keep_blank_values=True)
        response = dispatch(self.server.fake, method, url.path, query, headers, raw)
        if isinstance(response.body, bytes):  # a page of the sandbox, its headers say what
            payload = response.body
        elif response.body is None:
            payload = b""
        else:
            payload = json.dumps(response.body, ensure_ascii=False).encode("utf-8")
        self.send_response(response.status)
        if response.body is not None and "Content-Type" not in response.headers:
            self.send_header("Content-Type", "application/json; charset=utf-8")
        for key, value in response.headers.items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        if payload:
            self.wfile.write(payload)

    def do_GET(self) -> None:  # noqa: N802 - http.server naming
        self._handle("GET")

    def do_POST(self) -> None:  # noqa: N802
        self._handle("POST")

    def do_PUT(self) -> None:  # noqa: N802
        self._handle("PUT")

    def do_PATCH(self) -> None:  # noqa: N802
        self._handle("PATCH")

    def do_DELETE(self) -> None:  # noqa: N802
        self._handle("DELETE")

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - base signature
        log.debug("fake bling %s - %s", self.address_string(), format % args)


def make_server(fake: FakeBling, host: str, port: int) -> _Server:
    server = _Server((host, port), _Handler)
    server.fake = fake
    return server


__all__ = ["API_PREFIX", "ROUTES", "dispatch", "make_server", "too_many_requests"]
