"""``GET /empresas/me/dados-basicos``: the company whose id signs webhooks (``companyId``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .routing import Request, Response, Route

if TYPE_CHECKING:
    from .fake import FakeBling


def basic_data(fake: FakeBling, req: Request) -> Response:
    return Response(
        200,
        {
            "data": {
                "id": fake.company_id,
                "nome": fake.company_name,
                "cnpj": "00.000.000/0001-91",
                "email": "loja.teste@example.com",
                "dataContrato": "2020-01-01",
            }
        },
    )


ROUTES = [Route("GET", "/empresas/me/dados-basicos", basic_data)]
