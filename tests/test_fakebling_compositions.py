"""Fake Bling: compositions (kits) in the detail and the list, virtual kit balances computed
from their components, and kit orders posting exits by `lancamentoEstoque`."""

from __future__ import annotations

from tests.fakebling import FakeBling
from tests.fakebling.testing import Api, api_fixture, fake_fixture

fake = fake_fixture()
api = api_fixture()


def _kit_parts(fake: FakeBling) -> tuple[int, int]:
    board = fake.add_product("Placa mãe B450", stock=3)["id"]
    memory = fake.add_product("Memória 8GB", stock=5)["id"]
    return board, memory


def test_the_detail_carries_estrutura_and_the_list_only_formato(fake: FakeBling, api: Api) -> None:
    board, memory = _kit_parts(fake)
    kit = fake.add_kit("Kit upgrade", [(board, 1), (memory, 2)], tipo_estoque="V", lancamento="M")
    detail = api.get(f"/produtos/{kit['id']}").json()["data"]
    assert detail["formato"] == "E"
    assert detail["estrutura"] == {
        "tipoEstoque": "V",
        "lancamentoEstoque": "M",
        "componentes": [
            {"produto": {"id": board}, "quantidade": 1},
            {"produto": {"id": memory}, "quantidade": 2},
        ],
    }
    listed = api.get("/produtos", params={"tipo": "E", "criterio": 5}).json()["data"]
    assert [item["id"] for item in listed] == [kit["id"]]
    assert "estrutura" not in listed[0] and listed[0]["formato"] == "E"
    by_part = api.get("/produtos", params={"tipo": "E", "idComponente": memory}).json()["data"]
    assert [item["id"] for item in by_part] == [kit["id"]]


def test_a_virtual_kit_balance_is_what_its_components_make(fake: FakeBling, api: Api) -> None:
    board, memory = _kit_parts(fake)
    kit = fake.add_kit("Kit upgrade", [(board, 1), (memory, 2)])["id"]
    assert fake.catalog.totals(kit) == (2.0, 2.0)  # 5 memories make 2 kits
    fake.set_stock(memory, 1)
    # Zero is not a positive balance: asked for explicitly (Bling's default lists positive only).
    assert api.get("/estoques/saldos", params={"idsProdutos[]": [kit]}).json()["data"] == []
    params = {"idsProdutos[]": [kit], "filtroSaldoEstoque": 0}
    saldo = api.get("/estoques/saldos", params=params).json()["data"][0]
    assert saldo["saldoVirtualTotal"] == 0.0
    zero = api.get("/produtos", params={"filtroSaldoEstoque": 0, "criterio": 2}).json()["data"]
    assert kit in [item["id"] for item in zero]


def test_a_kit_order_posts_exits_by_lancamento_estoque(fake: FakeBling) -> None:
    board, memory = _kit_parts(fake)
    parts_only = fake.add_kit("Kit M", [(memory, 2)], tipo_estoque="F", lancamento="M", stock=4)
    both = fake.add_kit("Kit A", [(board, 1)], tipo_estoque="F", lancamento="A", stock=4)
    product_only = fake.add_kit("Kit P", [(memory, 1)], tipo_estoque="F", lancamento="P", stock=4)

    order, events = fake.sell([(parts_only["id"], 1), (both["id"], 1), (product_only["id"], 2)])

    assert fake.orders[order["id"]]["itens"][0]["produto"]["id"] == parts_only["id"]
    assert fake.catalog.totals(memory) == (3.0, 3.0)  # 2 for kit M; kit P posts only itself
    assert fake.catalog.totals(board) == (2.0, 2.0)
    assert fake.catalog.totals(parts_only["id"]) == (4.0, 4.0)
    assert fake.catalog.totals(both["id"]) == (3.0, 3.0)
    assert fake.catalog.totals(product_only["id"]) == (2.0, 2.0)
    exits = [(d["produto"]["id"], d["quantidade"]) for e, d in events if e == "stock.updated"]
    assert sorted(exits) == sorted(
        [(memory, 2), (both["id"], 1), (board, 1), (product_only["id"], 2)]
    )


def test_a_virtual_kit_order_moves_its_components_and_reports_the_kit(fake: FakeBling) -> None:
    board, memory = _kit_parts(fake)
    kit = fake.add_kit("Kit upgrade", [(board, 1), (memory, 2)])["id"]

    _order, events = fake.sell([(kit, 2)])

    assert fake.catalog.totals(memory) == (1.0, 1.0)
    assert fake.catalog.totals(board) == (1.0, 1.0)
    assert kit not in fake.balances
    virtual = [d for e, d in events if e == "virtual_stock.updated"]
    assert virtual == [
        {
            "produto": {"id": kit},
            "saldoFisicoTotal": 0.0,
            "saldoVirtualTotal": 0.0,
            "vinculoComplexo": False,
            "depositos": [
                {"id": fake.catalog.default_deposit_id(), "saldoFisico": 0.0, "saldoVirtual": 0.0}
            ],
        }
    ]


def test_a_component_linked_to_many_kits_gets_one_complex_link_event(fake: FakeBling) -> None:
    _board, memory = _kit_parts(fake)
    fake.complex_link_limit = 2
    kits = [fake.add_kit(f"Kit {n}", [(memory, 1)])["id"] for n in range(3)]

    _order, events = fake.sell([(kits[0], 1)])

    virtual = [d for e, d in events if e == "virtual_stock.updated"]
    assert len(virtual) == 1
    assert virtual[0]["produto"]["id"] == memory and virtual[0]["vinculoComplexo"] is True
