"""Product categories: ``GET /categorias/produtos`` (pagina, limite) and ``/{id}``.

Items are ``{"id", "descricao", "categoriaPai": {"id": <parent or 0>}}``; a top-level category
gets ``{"id": 0}`` (Bling's real value for the root is UNCONFIRMED).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .errors import not_found
from .routing import Request, Response, Route, page
from .validation import PAGINATION

if TYPE_CHECKING:
    from .fake import FakeBling


def item(cat: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": cat["id"],
        "descricao": cat["descricao"],
        "categoriaPai": {"id": cat["parent_id"]},
    }


def list_categories(fake: FakeBling, req: Request) -> Response:
    cats = [fake.catalog.categories[cid] for cid in sorted(fake.catalog.categories)]
    return Response(200, {"data": [item(c) for c in page(cats, req.params)]})


def get_category(fake: FakeBling, req: Request) -> Response:
    cat = fake.catalog.categories.get(req.int_param("idCategoriaProduto"))
    if cat is None:
        raise not_found("Categoria não encontrada.")
    return Response(200, {"data": item(cat)})


ROUTES = [
    Route("GET", "/categorias/produtos", list_categories, PAGINATION),
    Route("GET", "/categorias/produtos/{idCategoriaProduto:int}", get_category),
]
