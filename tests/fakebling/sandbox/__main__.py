"""The sandbox's command.

    python -m tests.fakebling.sandbox venda --produto 16000000012 [--quantidade 1] [--documento nfce]
    python -m tests.fakebling.sandbox entrada --produto 16000000012 --quantidade 5 [--deposito ID]
    python -m tests.fakebling.sandbox balanco --produto 16000000012 [--quantidade 0]
    python -m tests.fakebling.sandbox novo-produto --nome "SSD 2TB" --categoria 8000009 [--estoque 3]
    python -m tests.fakebling.sandbox estado
    python -m tests.fakebling.sandbox serve [--port 8900] [--webhook-url URL]

The actions talk to a running sandbox (``make demo`` prints its address; ``--url`` or
``SANDBOX_URL``, default http://127.0.0.1:8900); ``serve`` runs one on its own with the
retailer's catalog (no app: webhooks go to ``--webhook-url`` when given).
English names work too: sale, restock, zero, new-product, status.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import signal
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

LOOPBACK = {"127.0.0.1", "localhost", "::1"}
ALIASES = {
    "sale": "venda",
    "restock": "entrada",
    "zero": "balanco",
    "new-product": "novo-produto",
    "status": "estado",
}


def _post(url: str, action: str, payload: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    body = json.dumps(payload).encode()
    req = urllib.request.Request(
        f"{url.rstrip('/')}/sandbox/acoes/{action}",
        data=body,
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    return _send(req)


def _send(req: urllib.request.Request) -> tuple[int, dict[str, Any]]:
    try:
        with urllib.request.urlopen(req, timeout=15) as resp:  # noqa: S310 - loopback only
            return resp.status, json.loads(resp.read() or b"{}")
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"{}")


def _loopback(url: str) -> str:
    host = urllib.parse.urlsplit(url).hostname or ""
    if host not in LOOPBACK:
        raise SystemExit(f"o sandbox só é usado em loopback (127.0.0.1), não em {host or url!r}")
    return url


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(prog="python -m tests.fakebling.sandbox")
    root.add_argument(
        "--url",
        default=os.environ.get("SANDBOX_URL", "http://127.0.0.1:8900"),
        help="endereço do sandbox (padrão: SANDBOX_URL ou http://127.0.0.1:8900)",
    )
    sub = root.add_subparsers(dest="command", required=True)
    sale = sub.add_parser("venda", aliases=["sale"], help="simular venda")
    sale.add_argument("--produto", "--product", dest="product_id", required=True)
    sale.add_argument("--quantidade", "--quantity", dest="quantity", default="1")
    sale.add_argument(
        "--documento",
        "--document",
        dest="document",
        default="pedido",
        choices=("pedido", "nfe", "nfce"),
    )
    sale.add_argument("--deposito", "--deposit", dest="deposit_id", default=None)
    restock = sub.add_parser("entrada", aliases=["restock"], help="simular entrada")
    restock.add_argument("--produto", "--product", dest="product_id", required=True)
    restock.add_argument("--quantidade", "--quantity", dest="quantity", default="5")
    restock.add_argument("--deposito", "--deposit", dest="deposit_id", default=None)
    zero = sub.add_parser("balanco", aliases=["zero"], help="lançar um balanço (zerar estoque)")
    zero.add_argument("--produto", "--product", dest="product_id", required=True)
    zero.add_argument("--quantidade", "--quantity", dest="quantity", default="0")
    zero.add_argument("--deposito", "--deposit", dest="deposit_id", default=None)
    new = sub.add_parser("novo-produto", aliases=["new-product"], help="criar um produto")
    new.add_argument("--nome", "--name", dest="name", required=True)
    new.add_argument("--categoria", "--category", dest="category_id", default="")
    new.add_argument("--preco", "--price", dest="price", default="99.90")
    new.add_argument("--estoque", "--stock", dest="stock", default="0")
    new.add_argument("--codigo", "--code", dest="code", default="")
    new.add_argument("--deposito", "--deposit", dest="deposit_id", default=None)
    sub.add_parser("estado", aliases=["status"], help="resumo do sandbox")
    serve = sub.add_parser("serve", help="servir um sandbox avulso (sem o app)")
    serve.add_argument("--port", type=int, default=8900)
    serve.add_argument("--webhook-url", default="")
    serve.add_argument("--client-id", default="blingsync-sandbox")
    serve.add_argument("--client-secret", default="blingsync-sandbox-secret")
    serve.add_argument("--redirect-uri", default="http://127.0.0.1:8000/bling/callback/")
    serve.add_argument("--seed", type=int, default=25)
    serve.add_argument(
        "--rate", type=int, default=3, help="requisições por segundo (0: sem limite)"
    )
    return root


def serve(args: argparse.Namespace) -> int:
    from tests.fakebling import FakeBling
    from tests.fakebling.__main__ import fake_options
    from tests.fakebling.sandbox.retail import retail_catalog_generate

    os.environ["TZ"] = "America/Sao_Paulo"  # the sandbox's dates are Bling's local time
    time.tzset()
    if args.webhook_url:
        _loopback(args.webhook_url)
    _loopback(args.redirect_uri)
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    fake = FakeBling(**fake_options(args), company_id="d3m0" + "0" * 28)
    made = retail_catalog_generate(fake, seed=args.seed)
    fake.webhook_url = args.webhook_url or None
    fake.start()
    print(f"sandbox: http://127.0.0.1:{fake.port}/sandbox/  API: {fake.base_url}")
    print(f"catálogo: {made.summary()}  (Ctrl-C para parar)")
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    stop.wait()
    fake.stop()
    return 0


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    command = ALIASES.get(args.command, args.command)
    if command == "serve":
        return serve(args)
    url = _loopback(args.url)
    try:
        if command == "estado":
            status, body = _send(urllib.request.Request(f"{url.rstrip('/')}/sandbox/estado"))
        else:
            payload = {
                k: v for k, v in vars(args).items() if k not in ("url", "command") and v is not None
            }
            status, body = _post(url, command, payload)
    except urllib.error.URLError as exc:
        print(f"sandbox fora do ar em {url}: {exc.reason} (rode `make demo`)", file=sys.stderr)
        return 2
    if status != 200:
        print(body.get("error") or f"o sandbox respondeu {status}", file=sys.stderr)
        return 1
    if command == "estado":
        print(json.dumps(body, ensure_ascii=False, indent=2))
    else:
        print(body["summary"])
        print("webhooks: " + (", ".join(body["events"]) or "nenhum"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
