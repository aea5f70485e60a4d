"""The sandbox's own page and control endpoints, served by the fake under ``/sandbox/``.

- ``GET /sandbox/``: an HTML page in Portuguese: the account, forms for "Simular venda",
  "Simular entrada", "Zerar estoque (balanço)" and "Novo produto", the products without a
  code, the sold-out ones and the last webhooks sent (with the app's answer).
- ``POST /sandbox/acoes/<venda|entrada|balanco|novo-produto>``: runs the action
  (``actions``); a form post is answered with a redirect back to the page carrying the
  result, a JSON post (the command) with the result as JSON (422 with ``error`` on bad input).
- ``GET /sandbox/estado``: JSON summary (company, counts, webhook target, last webhooks).

No bearer token: the fake listens on loopback only, and this is the sandbox's own control
panel, not part of Bling's API.
"""

from __future__ import annotations

import html
import json
import urllib.parse
from typing import TYPE_CHECKING, Any

from ..routing import Response
from .actions import ACTIONS, ActionError

if TYPE_CHECKING:
    from ..fake import FakeBling

PREFIX = "/sandbox"
HTML = "text/html; charset=utf-8"


def handle(
    fake: FakeBling,
    method: str,
    path: str,
    query: dict[str, list[str]],
    headers: dict[str, str],
    raw: bytes,
) -> Response:
    if path in (PREFIX, PREFIX + "/") and method == "GET":
        message = (query.get("msg") or [""])[-1]
        error = (query.get("erro") or [""])[-1]
        return Response(
            200, page_html(fake, message=message, error=error).encode(), {"Content-Type": HTML}
        )
    if path == PREFIX + "/estado" and method == "GET":
        return Response(200, state(fake))
    if path.startswith(PREFIX + "/acoes/") and method == "POST":
        return _action(fake, path.rsplit("/", 1)[-1], headers, raw)
    return Response(404, {"error": "página do sandbox não encontrada"})


def _params(headers: dict[str, str], raw: bytes) -> tuple[dict[str, Any], bool]:
    if headers.get("content-type", "").startswith("application/json"):
        try:
            data = json.loads(raw or b"{}")
        except ValueError:
            return {}, True
        return (data if isinstance(data, dict) else {}), True
    form = urllib.parse.parse_qs(raw.decode("utf-8", "replace"), keep_blank_values=True)
    return {k: v[-1] for k, v in form.items()}, False


def _action(fake: FakeBling, name: str, headers: dict[str, str], raw: bytes) -> Response:
    params, wants_json = _params(headers, raw)
    action = ACTIONS.get(name)
    try:
        if action is None:
            raise ActionError(f"Ação desconhecida: {name!r} ({', '.join(ACTIONS)}).")
        result = action(fake, **params)
    except ActionError as exc:
        if wants_json:
            return Response(422, {"error": str(exc)})
        return _back({"erro": str(exc)})
    except TypeError as exc:  # a field the action does not take
        message = f"Campos inválidos para {name}: {exc}"
        return Response(422, {"error": message}) if wants_json else _back({"erro": message})
    if wants_json:
        return Response(200, result.as_json())
    events = ", ".join(result.events) or "nenhum"
    return _back({"msg": f"{result.summary} Webhooks: {events}."})


def _back(params: dict[str, str]) -> Response:
    return Response(303, None, {"Location": f"{PREFIX}/?{urllib.parse.urlencode(params)}"})


def state(fake: FakeBling) -> dict[str, Any]:
    with fake.lock:
        products = list(fake.catalog.products.values())
        return {
            "company_id": fake.company_id,
            "products": len(products),
            "without_code": sum(1 for p in products if not p["codigo"] and p["formato"] != "V"),
            "orders": len(fake.catalog.orders),
            "webhook_url": fake.webhook_url,
            "webhooks_sent": [
                {"event_id": eid, "event": event, "status": status}
                for eid, event, status in fake.sent_webhooks[-20:]
            ],
        }


# ------------------------------------------------------------------------------ HTML

_STYLE = """
body { font-family: system-ui, sans-serif; margin: 0; color: #222; background: #f6f7f9; }
header { background: #3a5a40; color: #fff; padding: 12px 20px; }
header a { color: #fff; }
main { padding: 16px 20px; max-width: 1300px; }
.note { background: #fff8db; border: 1px solid #e6d38a; padding: 8px 12px; margin: 12px 0; }
.ok { background: #e7f5e8; border: 1px solid #9fd3a3; padding: 8px 12px; margin: 12px 0; }
.err { background: #fde8e8; border: 1px solid #e7a1a1; padding: 8px 12px; margin: 12px 0; }
.grid { display: grid; grid-template-columns: repeat(auto-fit, minmax(300px, 1fr)); gap: 12px; }
form, section { background: #fff; border: 1px solid #ddd; padding: 10px 12px; }
form h2, section h2 { font-size: 1.05em; margin: 0 0 8px; }
label { display: block; margin: 6px 0 2px; font-size: .9em; }
select, input { width: 100%; box-sizing: border-box; padding: 4px; }
button { margin-top: 10px; padding: 6px 12px; background: #3a5a40; color: #fff; border: 0; }
table { border-collapse: collapse; width: 100%; font-size: .9em; }
td, th { border-bottom: 1px solid #eee; padding: 3px 6px; text-align: left; }
"""


def _e(value: Any) -> str:
    return html.escape(str(value), quote=True)


def _options(items: list[tuple[Any, str]]) -> str:
    return "".join(f'<option value="{_e(v)}">{_e(label)}</option>' for v, label in items)


def page_html(fake: FakeBling, *, message: str = "", error: str = "") -> str:
    with fake.lock:
        cat = fake.catalog
        products = [p for pid, p in sorted(cat.products.items()) if p["situacao"] != "E"]
        stocked = [p for p in products if p["formato"] != "V"]
        balance = {p["id"]: cat.totals(p["id"])[1] for p in stocked}
        choices = [
            (p["id"], f"{p['nome']} — {p['codigo'] or 'sem código'} (saldo {balance[p['id']]:g})")
            for p in stocked
        ]
        categories = [
            (c["id"], _category_path(fake, c["id"])) for _cid, c in sorted(cat.categories.items())
        ]
        deposits = [(d["id"], d["descricao"]) for _did, d in sorted(cat.deposits.items())]
        uncoded = [p for p in stocked if not p["codigo"]]
        sold_out = [p for p in stocked if balance[p["id"]] <= 0]
        sent = list(reversed(fake.sent_webhooks[-15:]))
        showcase = [
            (what, pid, cat.products[pid]["nome"], balance.get(pid, 0.0))
            for what, pid in fake.showcase
            if pid in cat.products
        ]
        app_url = getattr(fake, "app_url", "") or ""
    product_opts = _options(choices)
    deposit_opts = _options(deposits)
    flash = ""
    if message:
        flash = f'<div class="ok">{_e(message)}</div>'
    if error:
        flash = f'<div class="err">{_e(error)}</div>'
    back = f' · <a href="{_e(app_url)}/dashboard/">voltar ao blingsync</a>' if app_url else ""
    rows_uncoded = "".join(
        f"<tr><td>{p['id']}</td><td>{_e(p['nome'])}</td></tr>" for p in uncoded[:40]
    )
    rows_sold = "".join(
        f"<tr><td>{p['id']}</td><td>{_e(p['nome'])}</td><td>{_e(p['codigo'] or '—')}</td>"
        f"<td>{'ativo' if p['situacao'] == 'A' else 'inativo'}</td></tr>"
        for p in sold_out[:40]
    )
    rows_showcase = "".join(
        f"<tr><td>{_e(what)}</td><td>{_e(name)}</td><td>{pid}</td><td>{left:g}</td></tr>"
        for what, pid, name, left in showcase
    )
    rows_sent = "".join(
        f"<tr><td>{_e(event)}</td><td>{status or 'sem resposta'}</td><td>{_e(eid)}</td></tr>"
        for eid, event, status in sent
    )
    return f"""<!doctype html>
<html lang="pt-BR"><head><meta charset="utf-8"><title>Sandbox do Bling (demonstração)</title>
<style>{_STYLE}</style></head>
<body>
<header><strong>Sandbox do Bling</strong> — um Bling de demonstração nesta máquina, não uma
conta real{back}</header>
<main>
<div class="note">Empresa de demonstração <code>{_e(fake.company_id)}</code>:
{len(products)} produtos, {len(uncoded)} sem código, {len(sold_out)} com saldo zero.
Cada ação muda o catálogo deste sandbox e envia os webhooks assinados que o Bling enviaria para
<code>{_e(fake.webhook_url or "(nenhum endereço)")}</code>.</div>
{flash}
<section style="margin-bottom:12px"><h2>Para experimentar</h2><table>
<tr><th>o que acontece</th><th>produto</th><th>id</th><th>saldo</th></tr>{rows_showcase}</table>
</section>
<div class="grid">
<form method="post" action="{PREFIX}/acoes/venda"><h2>Simular venda</h2>
<label>Produto</label><select name="product_id">{product_opts}</select>
<label>Quantidade</label><input name="quantity" value="1">
<label>Documento</label><select name="document">
<option value="pedido">Pedido de venda</option><option value="nfe">NF-e</option>
<option value="nfce">NFC-e (venda no balcão)</option></select>
<label>Depósito</label><select name="deposit_id">{deposit_opts}</select>
<button>Simular venda</button></form>
<form method="post" action="{PREFIX}/acoes/entrada"><h2>Simular entrada</h2>
<label>Produto</label><select name="product_id">{product_opts}</select>
<label>Quantidade</label><input name="quantity" value="5">
<label>Depósito</label><select name="deposit_id">{deposit_opts}</select>
<button>Simular entrada</button></form>
<form method="post" action="{PREFIX}/acoes/balanco"><h2>Zerar estoque (balanço)</h2>
<label>Produto</label><select name="product_id">{product_opts}</select>
<label>Saldo contado</label><input name="quantity" value="0">
<label>Depósito</label><select name="deposit_id">{deposit_opts}</select>
<button>Lançar balanço</button></form>
<form method="post" action="{PREFIX}/acoes/novo-produto"><h2>Novo produto</h2>
<label>Nome</label><input name="name" value="Memória Kingston 32GB DDR5 6000">
<label>Categoria</label><select name="category_id">{_options(categories)}</select>
<label>Preço</label><input name="price" value="899,90">
<label>Estoque inicial</label><input name="stock" value="3">
<label>Depósito</label><select name="deposit_id">{deposit_opts}</select>
<button>Criar produto</button></form>
</div>
<div class="grid" style="margin-top:12px">
<section><h2>Sem código ({len(uncoded)})</h2><table><tr><th>id</th><th>produto</th></tr>{rows_uncoded}</table></section>
<section><h2>Saldo zero ({len(sold_out)})</h2><table><tr><th>id</th><th>produto</th><th>código</th><th>situação</th></tr>{rows_sold}</table></section>
<section><h2>Últimos webhooks enviados</h2><table><tr><th>evento</th><th>resposta</th><th>eventId</th></tr>{rows_sent}</table></section>
</div>
</main></body></html>
"""


def _category_path(fake: FakeBling, cid: int) -> str:
    cats = fake.catalog.categories
    names: list[str] = []
    while cid and cid in cats and len(names) < 6:
        names.append(cats[cid]["descricao"])
        cid = cats[cid]["parent_id"]
    return " > ".join(reversed(names))
