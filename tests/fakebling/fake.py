"""``FakeBling``: the public facade tests code against (see the package docstring)."""

from __future__ import annotations

import collections
import datetime as dt
import logging
import secrets
import threading
import time
import uuid
from typing import Any

from . import catalog as catalog_gen
from . import compositions, invoices, oauth, webhooks
from .errors import too_many_requests
from .products import new_record
from .server import API_PREFIX, make_server
from .state import (
    ACCOUNT_SITUATION_ID,
    ORDER_NUMBER_START,
    ORDER_SITUATION_VALUES,
    Catalog,
    Recorded,
    TokenCall,
    bling_number,
    now_str,
)
from .stock import STOCK_FILTER_DEFAULT, apply_balance

log = logging.getLogger(__name__)


class FakeBling:
    """An in-process fake of Bling ERP API v3 over real HTTP on 127.0.0.1."""

    def __init__(
        self,
        client_id: str = "test-client-id",
        client_secret: str = "test-client-secret",
        rate_per_second: int | None = 3,
        expires_in: int = 21600,
        redirect_uri: str = "http://testserver/bling/callback/",
        port: int = 0,
        host: str = "127.0.0.1",
        daily_limit: int | None = None,
        company_id: str | None = None,
    ) -> None:
        self.client_id = client_id
        self.client_secret = client_secret
        self.redirect_uri = redirect_uri
        self.company_id = company_id or secrets.token_hex(16)
        self.host = host
        self.port = port
        self.company_name = "Loja Teste"
        # The app this fake serves, for the sandbox page's link back (make demo); "" = none.
        self.app_url = ""
        # What the sandbox page suggests trying: (what happens, product id); see sandbox.retail.
        self.showcase: list[tuple[str, int]] = []
        self._defaults = {
            "rate_per_second": rate_per_second,
            "expires_in": expires_in,
            "daily_limit": daily_limit,
        }
        # One re-entrant lock for all state: handlers hold it for their whole read-modify-write.
        self.lock = threading.RLock()
        self._server: Any = None
        self._thread: threading.Thread | None = None
        self._webhook_threads: list[threading.Thread] = []
        self.reset()

    # ------------------------------------------------------------ lifecycle

    def reset(self) -> None:
        """Clear catalog, tokens, codes, request log, faults; restore the constructor defaults."""
        with self.lock:
            self.catalog = Catalog()
            self.tokens = oauth.TokenStore()
            self.requests: list[Recorded] = []
            self.token_calls: list[TokenCall] = []
            self.rate_per_second: int | None = self._defaults["rate_per_second"]
            self.daily_limit: int | None = self._defaults["daily_limit"]
            self.expires_in: int = self._defaults["expires_in"]
            self.token_delay = 0.0
            self.delay = 0.0
            self.unique_codes = True
            # What an omitted ``filtroSaldoEstoque`` means on GET /produtos and
            # /estoques/saldos[/{idDeposito}]: Bling's OpenAPI default, 1 (positive stock
            # only). None is the lenient reading (no filter), for a test about something else.
            self.stock_filter_default: int | None = STOCK_FILTER_DEFAULT
            self.stock_bumps_data_alteracao = False  # whether Bling does this is UNCONFIRMED
            # Whether ``idCategoria`` lists variations through their parent (UNCONFIRMED).
            self.variations_in_category_lists = True
            # More kits than this linked to a component: one virtual_stock.updated with
            # vinculoComplexo instead of one per kit (compositions.sell).
            self.complex_link_limit = compositions.COMPLEX_LINK_LIMIT
            self.ip_blocked = False
            # /situacoes/modulos answers 403 (authorised without the Situações scope).
            self.situations_forbidden = False
            self.rate_limited = 0
            self.missing_jwt_header = 0
            self.webhook_url: str | None = None
            self.sent_webhooks: list[tuple[str, str, int]] = []
            self._faults: list[list[Any]] = []
            self._outage: int | None = None
            self._window: collections.deque[float] = collections.deque()
            self._day: dt.date = dt.date.today()
            self._day_count = 0
            self.add_deposit("Geral", padrao=True)

    def start(self) -> FakeBling:
        self._server = make_server(self, self.host, self.port)
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="fakebling", daemon=True
        )
        self._thread.start()
        log.info("fake bling listening on %s", self.base_url)
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        self.wait_webhooks(timeout=2)

    def __enter__(self) -> FakeBling:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}{API_PREFIX}"

    @property
    def token_url(self) -> str:
        return self.base_url + "/oauth/token"

    @property
    def authorize_url(self) -> str:
        return self.base_url + "/oauth/authorize"

    # ------------------------------------------------------------ OAuth

    def issue_code(self) -> str:
        code = secrets.token_hex(20)
        with self.lock:
            self.tokens.codes[code] = {"used": False, "at": time.time()}
        return code

    def issue_tokens(self, jwt: bool = False) -> dict[str, Any]:
        """A fresh token pair without an HTTP call (not recorded in token_calls)."""
        with self.lock:
            return oauth.new_token_pair(self, "direct-" + secrets.token_hex(8), jwt)

    def expire_access_tokens(self) -> None:
        with self.lock:
            for tok in self.tokens.access.values():
                tok.expired = True

    def revoke_refresh_tokens(self) -> None:
        with self.lock:
            for rtok in self.tokens.refresh.values():
                rtok.revoked = True

    # ------------------------------------------------------------ catalog

    @property
    def products(self) -> dict[int, dict[str, Any]]:
        return self.catalog.products

    @property
    def balances(self) -> dict[int, dict[int, dict[str, float]]]:
        return self.catalog.balances

    @property
    def stock_postings(self) -> list[dict[str, Any]]:
        return self.catalog.stock_postings

    @property
    def order_situations(self) -> dict[int, str]:
        return self.catalog.order_situations

    @order_situations.setter
    def order_situations(self, value: dict[int, str]) -> None:
        self.catalog.order_situations = dict(value)

    @property
    def orders(self) -> dict[int, dict[str, Any]]:
        return self.catalog.orders

    @property
    def invoices(self) -> dict[str, dict[int, dict[str, Any]]]:
        return self.catalog.invoices

    @property
    def categories(self) -> dict[int, dict[str, Any]]:
        return self.catalog.categories

    @property
    def deposits(self) -> dict[int, dict[str, Any]]:
        return self.catalog.deposits

    def product(self, product_id: int) -> dict[str, Any]:
        return self.catalog.products[product_id]

    def add_category(
        self, descricao: str, parent_id: int = 0, id: int | None = None
    ) -> dict[str, Any]:  # noqa: A002
        with self.lock:
            cid = self.catalog.allocate("category", id)
            cat = {"id": cid, "descricao": descricao, "parent_id": parent_id or 0}
            self.catalog.categories[cid] = cat
            return cat

    def add_deposit(
        self, descricao: str = "Geral", padrao: bool = True, id: int | None = None
    ) -> dict[str, Any]:  # noqa: A002
        with self.lock:
            did = self.catalog.allocate("deposit", id)
            if padrao:
                for dep in self.catalog.deposits.values():
                    dep["padrao"] = False
            dep = {
                "id": did,
                "descricao": descricao,
                "situacao": 1,
                "padrao": padrao,
                "desconsiderarSaldo": False,
            }
            self.catalog.deposits[did] = dep
            return dep

    def add_product(
        self,
        nome: str,
        codigo: str = "",
        situacao: str = "A",
        categoria_id: int | None = None,
        tipo: str = "P",
        formato: str = "S",
        stock: float = 0.0,
        deposit_id: int | None = None,
        id: int | None = None,  # noqa: A002
        data_alteracao: str | None = None,
        **fields: Any,
    ) -> dict[str, Any]:
        """Add a product; extra Bling fields (preco, gtin, ...) may be passed as keywords."""
        with self.lock:
            pid = self.catalog.allocate("product", id)
            extra = {"dataAlteracao": data_alteracao} if data_alteracao else {}
            rec = new_record(
                pid,
                nome=nome,
                codigo=codigo,
                situacao=situacao,
                tipo=tipo,
                formato=formato,
                categoria={"id": categoria_id or 0},
                **extra,
                **fields,
            )
            self.catalog.products[pid] = rec
            apply_balance(self, pid, deposit_id or self.catalog.default_deposit_id(), stock, None)
            return rec

    def add_variation(
        self,
        parent_id: int,
        nome: str,
        codigo: str = "",
        situacao: str = "A",
        stock: float = 0.0,
        id: int | None = None,  # noqa: A002
    ) -> dict[str, Any]:
        with self.lock:
            parent = self.catalog.products[parent_id]
            parent["formato"] = "V"
            ordem = 1 + sum(
                1 for p in self.catalog.products.values() if p.get("idProdutoPai") == parent_id
            )
            pid = self.catalog.allocate("product", id)
            rec = new_record(
                pid,
                nome=nome,
                codigo=codigo,
                situacao=situacao,
                tipo=parent["tipo"],
                preco=parent["preco"],
                categoria=dict(parent["categoria"]),
                idProdutoPai=parent_id,
                variacao={
                    "nome": nome.removeprefix(parent["nome"]).strip() or nome,
                    "ordem": ordem,
                },
            )
            self.catalog.products[pid] = rec
            apply_balance(self, pid, self.catalog.default_deposit_id(), stock, None)
            return rec

    def add_kit(
        self,
        nome: str,
        parts: list[tuple[int, float]],
        tipo_estoque: str = "V",
        lancamento: str = "M",
        **fields: Any,
    ) -> dict[str, Any]:
        """A composition (``formato`` "E") of ``parts`` [(product id, quantity per kit)]."""
        return compositions.add_kit(
            self, nome, parts, tipo_estoque=tipo_estoque, lancamento=lancamento, **fields
        )

    def sell(
        self, items: list[tuple[int, float]], **order_fields: Any
    ) -> tuple[dict[str, Any], list[tuple[str, dict[str, Any]]]]:
        """An order that posts its stock exits (kits by their ``lancamentoEstoque``); returns
        the order and the stock webhooks' (event, data), also sent to ``webhook_url``."""
        return compositions.sell(self, items, **order_fields)

    def set_stock(
        self,
        product_id: int,
        quantity: float,
        deposit_id: int | None = None,
        virtual: float | None = None,
    ) -> None:
        with self.lock:
            apply_balance(
                self, product_id, deposit_id or self.catalog.default_deposit_id(), quantity, virtual
            )

    def add_order(
        self,
        items: list[tuple[int, float]],
        situacao_id: int = ACCOUNT_SITUATION_ID,
        data: str | None = None,
        numero: int | None = None,
        data_alteracao: str | None = None,
        id: int | None = None,  # noqa: A002
        situacao_valor: int | None = None,
        numero_loja: str = "",
        nota_fiscal_id: int = 0,
    ) -> dict[str, Any]:
        """Add a sales order; ``data`` is "YYYY-MM-DD" (today by default). Stock is not moved.
        ``situacao.valor`` follows the situation (ORDER_SITUATION_VALUES) unless given.

        Shaped as real accounts send orders (bling-v3.md 9b): the situation is by default
        the account's own (ACCOUNT_SITUATION_ID, ``valor`` 0 "em aberto") even with
        ``dataSaida`` set; ``numero`` has 16 digits; ``dataPrevista`` is "0000-00-00";
        whole totals are integers; ``nota_fiscal_id`` sets ``notaFiscal.id`` (0: none)."""
        with self.lock:
            oid = self.catalog.allocate("order", id)
            day = data or dt.date.today().isoformat()
            itens = []
            for n, (pid, qty) in enumerate(items, start=1):
                prod = self.catalog.products.get(pid, {})
                price = float(prod.get("preco", 0.0))
                itens.append(
                    {
                        "id": oid * 10 + n,
                        "codigo": prod.get("codigo", ""),
                        "unidade": "UN",
                        "quantidade": qty,
                        "desconto": 0,
                        "valor": price,
                        "valorLista": price,
                        "aliquotaIPI": 0,
                        "descricao": prod.get("nome", f"Produto {pid}"),
                        "descricaoDetalhada": "",
                        "produto": {"id": pid},
                        "comissao": {"base": 0, "aliquota": 0, "valor": 0},
                        "naturezaOperacao": {"id": 0},
                    }
                )
            total = bling_number(round(sum(i["valor"] * i["quantidade"] for i in itens), 2))
            order = {
                "id": oid,
                "numero": numero
                if numero is not None
                else ORDER_NUMBER_START + len(self.catalog.orders),
                "numeroLoja": numero_loja,
                "data": day,
                "dataSaida": day,
                "dataPrevista": "0000-00-00",
                "totalProdutos": total,
                "total": total,
                "contato": {
                    "id": 1,
                    "nome": "Cliente Teste",
                    "tipoPessoa": "F",
                    "numeroDocumento": "00000000000",
                },
                "situacao": {
                    "id": situacao_id,
                    "valor": situacao_valor
                    if situacao_valor is not None
                    else ORDER_SITUATION_VALUES.get(situacao_id, 0),
                },
                "loja": {"id": 0, "unidadeNegocio": {"id": 0}},
                "categoria": {"id": 0},  # zero ids mean "none" (bling-v3.md 9b)
                "vendedor": {"id": 0},
                "numeroPedidoCompra": "",
                "outrasDespesas": 0,
                "observacoes": "",
                "observacoesInternas": "",
                "itens": itens,
                "notaFiscal": {"id": nota_fiscal_id},
                "dataAlteracao": data_alteracao or now_str(),
            }
            self.catalog.orders[oid] = order
            return order

    def add_invoice(
        self,
        items: list[tuple[int | str, float]],
        kind: str = "nfe",
        situacao: int = 5,
        tipo: int = 1,
        numero: str | None = None,
        data_emissao: str | None = None,
        finalidade: int = 1,
        order_id: int | None = None,
        numero_pedido_loja: str = "",
        id: int | None = None,  # noqa: A002
    ) -> dict[str, Any]:
        """Add an NF-e (``kind="nfe"``) or NFC-e (``"nfce"``). ``items`` are (product id or
        code, quantity); the invoice carries codes only, as Bling's does. ``order_id`` marks
        the order it was issued from (the order's ``notaFiscal.id``). Stock is not moved."""
        with self.lock:
            iid = self.catalog.allocate("invoice", id)
            coded = [
                (self.catalog.products[ref]["codigo"] if isinstance(ref, int) else ref, qty)
                for ref, qty in items
            ]
            store = self.catalog.invoices[kind]
            inv = invoices.new_invoice(
                self,
                kind=kind,
                invoice_id=iid,
                items=coded,
                situacao=situacao,
                tipo=tipo,
                numero=numero or str(len(store) + 1),
                data_emissao=data_emissao or now_str(),
                finalidade=finalidade,
                numero_pedido_loja=numero_pedido_loja,
            )
            store[iid] = inv
            if order_id is not None:
                self.catalog.orders[order_id]["notaFiscal"] = {"id": iid}
                self.catalog.orders[order_id]["dataAlteracao"] = now_str()
            return inv

    def invoice_webhook_data(self, kind: str, invoice_id: int) -> dict[str, Any]:
        """The ``data`` of an ``invoice.*`` (NF-e) / ``consumer_invoice.*`` (NFC-e) event."""
        with self.lock:
            return invoices.webhook_data(self.catalog.invoices[kind][invoice_id])

    def virtual_stock_webhook_data(
        self, product_id: int, vinculo_complexo: bool = False
    ) -> dict[str, Any]:
        """The ``data`` of a ``virtual_stock.updated`` event for ``product_id`` (bling-v3.md
        8.4). With ``vinculo_complexo`` (more than 200 linked products updated) Bling sends
        the flag and the product's own balances only: the linked ones must be fetched."""
        with self.lock:
            fisico, virtual = self.catalog.totals(product_id)
            deposits = [
                {
                    "id": dep,
                    "saldoFisico": bling_number(bal["fisico"]),
                    "saldoVirtual": bling_number(bal["virtual"]),
                }
                for dep, bal in sorted(self.catalog.balances.get(product_id, {}).items())
            ]
            return {
                "produto": {"id": product_id},
                "saldoFisicoTotal": bling_number(fisico),
                "saldoVirtualTotal": bling_number(virtual),
                "vinculoComplexo": vinculo_complexo,
                "depositos": deposits,
            }

    def generate_catalog(
        self,
        products: int = 10000,
        categories: int = 20,
        share_without_code: float = 0.2,
        share_sold_out: float = 0.1,
        seed: int = 1,
    ) -> dict[str, int]:
        return catalog_gen.generate(
            self, products, categories, share_without_code, share_sold_out, seed
        )

    # ------------------------------------------------------------ request log

    def calls(
        self, method: str | None = None, path: str | None = None, prefix: str | None = None
    ) -> list[Recorded]:
        """Recorded requests, filtered; OAuth calls only when ``path``/``prefix`` names them."""
        want_oauth = bool((path or "").startswith("/oauth") or (prefix or "").startswith("/oauth"))
        with self.lock:
            recs = list(self.requests)
        return [
            r
            for r in recs
            if (want_oauth or not r.path.startswith("/oauth"))
            and (method is None or r.method == method.upper())
            and (path is None or r.path == path)
            and (prefix is None or r.path.startswith(prefix))
        ]

    # ------------------------------------------------------------ limits and faults

    def limiter_admit(self) -> None:
        """Count one API call or raise 429 (caller holds the lock). Refused calls are not counted."""
        today = dt.date.today()
        if today != self._day:
            self._day, self._day_count = today, 0
        if self.daily_limit is not None and self._day_count >= self.daily_limit:
            self.rate_limited += 1
            raise too_many_requests(self.daily_limit, "day")
        now = time.monotonic()
        while self._window and now - self._window[0] >= 1.0:
            self._window.popleft()
        if self.rate_per_second is not None and len(self._window) >= self.rate_per_second:
            self.rate_limited += 1
            raise too_many_requests(self.rate_per_second, "second")
        self._window.append(now)
        self._day_count += 1

    def fail_next(self, count: int, status: int = 500, path_prefix: str | None = None) -> None:
        with self.lock:
            self._faults.append([count, status, path_prefix])

    def outage(self, status: int = 503) -> None:
        with self.lock:
            self._outage = status

    def recover(self) -> None:
        with self.lock:
            self._outage = None
            self._faults.clear()

    def take_fault(self, path: str) -> int | None:
        """Status to inject for this call, consuming one fail_next slot (caller holds the lock)."""
        if self._outage is not None:
            return self._outage
        for fault in self._faults:
            if fault[0] > 0 and (fault[2] is None or path.startswith(fault[2])):
                fault[0] -= 1
                return fault[1]
        return None

    # ------------------------------------------------------------ webhooks

    def webhook_body(
        self, event: str, data: Any, event_id: str | None = None, date: str | None = None
    ) -> bytes:
        return webhooks.body(self.company_id, event, data, event_id, date)

    def sign(self, body: bytes, secret: str | None = None) -> str:
        return webhooks.sign(body, secret if secret is not None else self.client_secret)

    def send_webhook(
        self,
        url: str,
        event: str,
        data: Any,
        event_id: str | None = None,
        signature: str = "valid",
        timeout: float = 5,
    ) -> tuple[int, bytes, str]:
        """POST one signed delivery; ``signature`` is "valid", "bad" or "missing"."""
        event_id = event_id or str(uuid.uuid4())
        raw = self.webhook_body(event, data, event_id)
        if signature == "valid":
            sig: str | None = self.sign(raw)
        elif signature == "bad":
            sig = self.sign(raw, secret=self.client_secret + "-wrong")
        elif signature == "missing":
            sig = None
        else:
            raise ValueError(f"signature must be valid, bad or missing, not {signature!r}")
        status, body = webhooks.post(url, raw, sig, timeout)
        with self.lock:
            self.sent_webhooks.append((event_id, event, status))
        return status, body, event_id

    def emit_webhook(self, event: str, data: Any) -> None:
        """Echo a change to ``webhook_url`` in the background, as Bling does after API writes."""
        url = self.webhook_url
        if not url:
            return
        thread = threading.Thread(target=self.send_webhook, args=(url, event, data), daemon=True)
        self._webhook_threads.append(thread)
        thread.start()

    def wait_webhooks(self, timeout: float = 5) -> None:
        """Block until the background webhook deliveries started so far have finished."""
        deadline = time.monotonic() + timeout
        for thread in list(self._webhook_threads):
            thread.join(max(0.0, deadline - time.monotonic()))
        self._webhook_threads = [t for t in self._webhook_threads if t.is_alive()]
