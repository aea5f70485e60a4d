"""Fake Bling: rate limits, faults, request log, webhooks, concurrency."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import requests

from tests.fakebling import FakeBling
from tests.fakebling.testing import Api, api_fixture, fake_fixture

fake = fake_fixture()
api = api_fixture()


def _wait_next_second_window() -> None:
    time.sleep(1.05)


def test_rate_limit_429_after_third_call(fake: FakeBling, api: Api) -> None:
    fake.rate_per_second = 3
    statuses = [api.get("/produtos").status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    body = api.get("/produtos").json()
    assert body == {
        "error": {
            "type": "TOO_MANY_REQUESTS",
            "message": "Limite de requisições atingido.",
            "description": "O limite de requisições por segundo foi atingido, tente novamente mais tarde.",
            "limit": 3,
            "period": "second",
        }
    }
    assert fake.rate_limited == 2
    _wait_next_second_window()
    assert api.get("/produtos").status_code == 200


def test_daily_limit(fake: FakeBling, api: Api) -> None:
    fake.daily_limit = 2
    assert [api.get("/produtos").status_code for _ in range(3)] == [200, 200, 429]
    assert api.get("/produtos").json()["error"]["period"] == "day"


def test_faults_outage_and_delay(fake: FakeBling, api: Api) -> None:
    fake.fail_next(2, status=500, path_prefix="/produtos")
    assert api.get("/categorias/produtos").status_code == 200
    first = api.get("/produtos")
    assert first.status_code == 500 and first.json()["error"]["type"] == "SERVER_ERROR"
    assert api.get("/produtos").status_code == 500
    assert api.get("/produtos").status_code == 200
    fake.outage(503)
    assert api.get("/depositos").status_code == 503
    fake.recover()
    assert api.get("/depositos").status_code == 200
    fake.delay = 0.2
    started = time.monotonic()
    api.get("/depositos")
    assert time.monotonic() - started >= 0.2
    # Auth still comes first: a bad token is 401 even during an outage.
    fake.outage()
    assert requests.get(fake.base_url + "/produtos", timeout=5).status_code == 401


def test_request_log(fake: FakeBling, api: Api) -> None:
    p = fake.add_product("A")
    api.get("/produtos", params={"idsProdutos[]": [p["id"]]})
    api.patch(f"/produtos/{p['id']}", json={"codigo": "X"})
    recs = fake.calls()
    assert [(r.method, r.path, r.status) for r in recs] == [
        ("GET", "/produtos", 200),
        ("PATCH", f"/produtos/{p['id']}", 200),
    ]
    assert recs[0].query == {"idsProdutos[]": [str(p["id"])]}
    assert recs[1].json == {"codigo": "X"}
    assert recs[1].headers["enable-jwt"] == "1"
    assert fake.calls(method="PATCH", prefix="/produtos/") == [recs[1]]


class _Receiver:
    """A tiny webhook receiver that verifies the signature like the app must."""

    def __init__(self, secret: str) -> None:
        self.received: list[tuple[dict, bool]] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                raw = self.rfile.read(int(self.headers["Content-Length"]))
                expected = "sha256=" + hmac.new(secret.encode(), raw, hashlib.sha256).hexdigest()
                ok = hmac.compare_digest(self.headers.get("X-Bling-Signature-256", ""), expected)
                outer.received.append((json.loads(raw), ok))
                self.send_response(200 if ok else 401)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/webhooks/bling/"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def test_webhook_signature_and_envelope(fake: FakeBling) -> None:
    receiver = _Receiver(fake.client_secret)
    try:
        raw = fake.webhook_body("product.updated", {"id": 1, "nome": "Açaí"}, event_id="ev-1")
        envelope = json.loads(raw)
        assert envelope == {
            **envelope,
            "eventId": "ev-1",
            "version": "v1",
            "event": "product.updated",
            "companyId": fake.company_id,
        }
        assert b": " not in raw  # compact
        assert (
            fake.sign(raw)
            == "sha256=" + hmac.new(b"test-client-secret", raw, hashlib.sha256).hexdigest()
        )
        assert fake.send_webhook(receiver.url, "product.updated", {"id": 1})[0] == 200
        assert (
            fake.send_webhook(receiver.url, "product.updated", {"id": 1}, signature="bad")[0] == 401
        )
        status, _, event_id = fake.send_webhook(
            receiver.url, "stock.updated", {"produto": {"id": 1}}, signature="missing"
        )
        assert status == 401
        assert [ok for _, ok in receiver.received] == [True, False, False]
        assert fake.sent_webhooks[-1] == (event_id, "stock.updated", 401)
    finally:
        receiver.close()


def test_fake_echoes_webhooks_after_writes(fake: FakeBling, api: Api) -> None:
    receiver = _Receiver(fake.client_secret)
    try:
        fake.webhook_url = receiver.url
        p = fake.add_product("A", stock=1)
        api.patch(f"/produtos/{p['id']}", json={"codigo": "NEW"})
        dep = fake.catalog.default_deposit_id()
        api.post(
            "/estoques",
            json={
                "produto": {"id": p["id"]},
                "deposito": {"id": dep},
                "operacao": "S",
                "quantidade": 1,
            },
        )
        fake.wait_webhooks()
        events = sorted((body["event"], ok) for body, ok in receiver.received)
        assert events == [("product.updated", True), ("stock.updated", True)]
        stock = next(b for b, _ in receiver.received if b["event"] == "stock.updated")["data"]
        assert stock["saldoFisicoTotal"] == 0.0 and stock["operacao"] == "S"
        product = next(b for b, _ in receiver.received if b["event"] == "product.updated")["data"]
        assert product["codigo"] == "NEW"
    finally:
        receiver.close()


def test_concurrent_patches_are_serialised(fake: FakeBling) -> None:
    products = [fake.add_product(f"P{i}") for i in range(20)]
    token = fake.issue_tokens()["access_token"]
    errors: list[int] = []

    def worker(pid: int, n: int) -> None:
        client = Api(fake, token)
        resp = client.patch(
            f"/produtos/{pid}", json={"codigo": "SAME"} if n % 2 else {"codigo": f"U{n}"}
        )
        if resp.status_code not in (200, 400):
            errors.append(resp.status_code)

    threads = [threading.Thread(target=worker, args=(p["id"], n)) for n, p in enumerate(products)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    # unique_codes under concurrency: exactly one product won "SAME".
    assert sum(1 for p in fake.products.values() if p["codigo"] == "SAME") == 1
