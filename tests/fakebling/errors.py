"""Bling v3 error envelope helpers.

Every 4xx/5xx answer of the fake uses Bling's envelope
``{"error": {"type", "message", "description", "fields"?}}`` (bling-v3.md section 2).
Handlers raise :class:`ApiError`; the server turns it into a JSON response.
"""

from __future__ import annotations

from typing import Any

GENERIC_MESSAGE = "Não foi possível executar a operação"


class ApiError(Exception):
    """An error answer: HTTP status plus the Bling error envelope."""

    def __init__(self, status: int, body: dict[str, Any]) -> None:
        super().__init__(f"{status} {body.get('error', {}).get('type')}")
        self.status = status
        self.body = body


def envelope(
    type_: str,
    message: str,
    description: str,
    fields: list[dict[str, Any]] | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """Build ``{"error": {...}}``; ``extra`` keys (e.g. limit/period) sit inside ``error``."""
    err: dict[str, Any] = {"type": type_, "message": message, "description": description}
    if fields:
        err["fields"] = fields
    err.update(extra)
    return {"error": err}


def field(element: str, msg: str, code: int = 1, namespace: str = "GERAL") -> dict[str, Any]:
    """One ``fields[]`` entry naming the offending element."""
    return {"code": code, "msg": msg, "element": element, "namespace": namespace}


def validation_error(
    fields: list[dict[str, Any]],
    message: str = GENERIC_MESSAGE,
    description: str = "Ocorreu um erro ao validar os dados recebidos.",
) -> ApiError:
    return ApiError(400, envelope("VALIDATION_ERROR", message, description, fields))


def bad_param(name: str, msg: str) -> ApiError:
    """400 for a query parameter problem; ``fields[0].element`` is the parameter name."""
    return validation_error([field(name, msg)], description=f"Parâmetro inválido: {name}. {msg}")


def missing_required(fields: list[dict[str, Any]]) -> ApiError:
    return ApiError(
        400,
        envelope(
            "MISSING_REQUIRED_FIELD_ERROR",
            GENERIC_MESSAGE,
            "Campos obrigatórios não informados.",
            fields,
        ),
    )


def empty_body() -> ApiError:
    return ApiError(
        400,
        envelope("EMPTY_REQUEST_BODY", GENERIC_MESSAGE, "Nenhum dado foi informado na requisição."),
    )


def invalid_body(description: str = "O corpo da requisição não é um JSON válido.") -> ApiError:
    return ApiError(400, envelope("INVALID_REQUEST_BODY", GENERIC_MESSAGE, description))


def not_found(description: str | None = None) -> ApiError:
    return ApiError(
        404,
        envelope(
            "RESOURCE_NOT_FOUND",
            "Recurso não encontrado",
            description
            or "O recurso requisitado não foi encontrado. Verifique se o endpoint solicitado e os "
            "parâmetros informados estão corretos.",
        ),
    )


def invalid_token(expired: bool = False) -> ApiError:
    what = "has expired" if expired else "is invalid"
    return ApiError(
        401,
        envelope("invalid_token", "invalid_token", f"The access token provided {what}"),
    )


def too_many_requests(limit: int, period: str) -> ApiError:
    if period == "day":
        description = "O limite de requisições por dia foi atingido, tente novamente amanhã."
    else:
        description = (
            "O limite de requisições por segundo foi atingido, tente novamente mais tarde."
        )
    return ApiError(
        429,
        envelope(
            "TOO_MANY_REQUESTS",
            "Limite de requisições atingido.",
            description,
            limit=limit,
            period=period,
        ),
    )


def ip_blocked() -> ApiError:
    return ApiError(
        403,
        envelope(
            "FORBIDDEN",
            "IP bloqueado",
            "Mais de 20 requisições ao endpoint /oauth/token em 60 segundos: "
            "o IP foi bloqueado por 60 minutos.",
        ),
    )


def for_status(status: int) -> ApiError:
    """An injected fault: the envelope Bling would plausibly use for ``status``."""
    if status == 429:
        return too_many_requests(3, "second")
    if status == 401:
        return invalid_token()
    if status == 404:
        return not_found()
    if status == 403:
        return ApiError(
            403,
            envelope(
                "insufficient_scope",
                "insufficient_scope",
                "The request requires higher privileges than provided by the access token",
            ),
        )
    if 400 <= status < 500:
        return ApiError(
            status,
            envelope(
                "VALIDATION_ERROR",
                GENERIC_MESSAGE,
                "Ocorreu um erro ao validar os dados recebidos.",
            ),
        )
    # 5xx: Bling documents only SERVER_ERROR for 500; reuse it for 502/503/504 (UNCONFIRMED).
    return ApiError(status, envelope("SERVER_ERROR", GENERIC_MESSAGE, "Um erro interno ocorreu."))
