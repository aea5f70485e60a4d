"""The client understands what real accounts send (bling-v3.md 9b), read from the fake over
HTTP: unset enums as "", zero ids, "0000-00-00" dates, 16-digit order numbers, integer
balances, a lower-case token type, and no rate-limit headers."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
import requests
from django.utils import timezone

from blingsync.bling import catalog
from blingsync.bling.client import api_request
from blingsync.bling.errors import BlingRateLimited
from products.kits import composition_mirror
from products.models import Composition
from tests.fakebling.state import ACCOUNT_SITUATION_ID

pytestmark = pytest.mark.django_db


def test_a_product_detail_with_empty_enums_and_zero_ids_is_read(fake_bling, bling_connected):
    pid = fake_bling.add_product("Memória", codigo="MEMO00001", stock=6)["id"]
    raw = requests.get(
        f"{fake_bling.base_url}/produtos/{pid}",
        headers={"Authorization": f"Bearer {fake_bling.issue_tokens()['access_token']}"},
        timeout=5,
    ).json()["data"]
    # The shape real accounts send for a product that is not a kit.
    assert raw["estrutura"] == {"tipoEstoque": "", "lancamentoEstoque": "", "componentes": []}
    assert raw["actionEstoque"] == "" and raw["dataValidade"] == "0000-00-00"
    assert raw["dimensoes"]["unidadeMedida"] == 1 and raw["unidade"] == "Un"
    assert raw["fornecedor"]["id"] == 0 and raw["linhaProduto"]["id"] == 0
    assert raw["estoque"]["saldoVirtualTotal"] == 6 and isinstance(
        raw["estoque"]["saldoVirtualTotal"], int
    )

    product = catalog.product_get(product_id=pid)

    assert product.situation == "A" and product.format == "S" and product.code == "MEMO00001"
    assert product.available_stock == Decimal(6)
    assert product.structure is not None
    assert (product.structure.stock_type, product.structure.posting) == ("", "")
    assert product.structure.parts == ()
    # Not a kit: nothing is mirrored as one.
    assert composition_mirror(product=product) == ""
    assert not Composition.objects.exists()


def test_a_kit_whose_enums_are_not_set_is_mirrored_with_the_defaults(fake_bling, bling_connected):
    part = fake_bling.add_product("Peça", stock=4)["id"]
    kit = fake_bling.add_kit("Kit", parts=[(part, 2)])["id"]
    fake_bling.products[kit]["estrutura"]["tipoEstoque"] = ""
    fake_bling.products[kit]["estrutura"]["lancamentoEstoque"] = ""

    composition_mirror(product=catalog.product_get(product_id=kit))

    row = Composition.objects.get(bling_product_id=kit)
    assert (row.stock_type, row.posting) == ("F", "P")
    assert [p.bling_product_id for p in row.parts.all()] == [part]


def test_an_excluded_product_is_listed_and_read_as_excluded(fake_bling, bling_connected):
    pid = fake_bling.add_product("Excluída", situacao="E")["id"]
    listed = {p.id: p for p in catalog.products_all_stock_iter()}
    assert listed[pid].situation == "E"
    assert catalog.product_get(product_id=pid).situation == "E"


def test_a_marketplace_order_is_read_whole(fake_bling, bling_connected):
    pid = fake_bling.add_product("Memória", codigo="MEMO00001")["id"]
    order = fake_bling.add_order(items=[(pid, 2)], numero=2000009257357562, nota_fiscal_id=77)
    assert isinstance(order["total"], int) and order["dataPrevista"] == "0000-00-00"

    read = catalog.order_get(order_id=order["id"])
    listed = next(
        o
        for o in catalog.orders_iter(changed_since=timezone.now() - timedelta(days=1))
        if o.id == order["id"]
    )

    assert read.number == "2000009257357562" == listed.number
    assert read.situation_id == ACCOUNT_SITUATION_ID == listed.situation_id
    assert read.situation_value == 0
    assert read.invoice_id == 77
    assert [(i.product_id, i.quantity) for i in read.items] == [(pid, Decimal(2))]


def test_a_lower_case_bearer_token_type_refreshes(fake_bling, bling_connected):
    fake_bling.expire_access_tokens()
    body = api_request("GET", "/empresas/me/dados-basicos")
    assert body["data"]["id"] == fake_bling.company_id
    assert [c.grant_type for c in fake_bling.token_calls] == ["refresh_token"]
    answer = requests.post(
        fake_bling.token_url,
        data={"grant_type": "authorization_code", "code": fake_bling.issue_code()},
        auth=(fake_bling.client_id, fake_bling.client_secret),
        headers={"enable-jwt": "1"},
        timeout=5,
    ).json()
    assert answer["token_type"] == "bearer"


def test_no_rate_limit_headers_and_the_429_body_tells_the_limits_apart(fake_bling, bling_connected):
    token = fake_bling.issue_tokens()["access_token"]
    answer = requests.get(
        f"{fake_bling.base_url}/empresas/me/dados-basicos",
        headers={"Authorization": f"Bearer {token}", "enable-jwt": "1"},
        timeout=5,
    )
    assert not [h for h in answer.headers if "ratelimit" in h.lower().replace("-", "")]
    fake_bling.daily_limit = 0
    with pytest.raises(BlingRateLimited) as caught:
        api_request("GET", "/empresas/me/dados-basicos")
    assert caught.value.period == "day"
