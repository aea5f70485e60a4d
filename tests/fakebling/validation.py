"""Query-string and JSON-body validation against hand-written tables of Bling's OpenAPI doc.

Tables are written per operation in the resource modules (checked against
``specs/bling-openapi-reference.json`` of tempont/bling-erp-api-python). The fake is stricter
than Bling may be: an unknown query parameter or body field is a 400 naming it, so client bugs
(``idsProdutos`` without ``[]``, a misspelt field) surface in tests.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from .errors import bad_param, missing_required, validation_error
from .errors import field as err_field

DATETIME_FMT = "%Y-%m-%d %H:%M:%S"
DATE_FMT = "%Y-%m-%d"

# Real maximum page size is UNCONFIRMED (docs only say the default is 100); 100 is the safe bet.
MAX_LIMITE = 100


@dataclass(frozen=True)
class Param:
    """One query parameter: kind is int, str, int[], str[], datetime or date."""

    kind: str
    enum: tuple[Any, ...] | None = None
    required: bool = False
    minimum: int | None = None
    maximum: int | None = None


PAGINATION: dict[str, Param] = {
    "pagina": Param("int", minimum=1),
    "limite": Param("int", minimum=1, maximum=MAX_LIMITE),
}


def _parse_int(name: str, raw: str) -> int:
    try:
        return int(raw)
    except ValueError:
        raise bad_param(name, f"Valor inteiro esperado, recebido {raw!r}.") from None


def _parse_datetime(name: str, raw: str, *, end: bool) -> dt.datetime:
    """Accept "YYYY-MM-DD HH:MM:SS" or a bare date (a bare ...Final date means end of day)."""
    for fmt in (DATETIME_FMT, DATE_FMT):
        try:
            value = dt.datetime.strptime(raw, fmt)
        except ValueError:
            continue
        if fmt == DATE_FMT and end:
            value = value.replace(hour=23, minute=59, second=59)
        return value
    raise bad_param(name, f"Data inválida {raw!r}; formato esperado 'YYYY-MM-DD HH:MM:SS'.")


def validate_query(query: dict[str, list[str]], specs: dict[str, Param]) -> dict[str, Any]:
    """Parse ``query`` (parse_qs output) by ``specs``; unknown or malformed params raise 400."""
    out: dict[str, Any] = {}
    for name, values in query.items():
        spec = specs.get(name)
        if spec is None:
            raise bad_param(name, f"Parâmetro desconhecido: {name}.")
        if spec.kind.endswith("[]"):
            items = [_parse_int(name, v) for v in values] if spec.kind == "int[]" else list(values)
            out[name] = items
            continue
        raw = values[-1]
        value: Any
        if spec.kind == "int":
            value = _parse_int(name, raw)
            if spec.minimum is not None and value < spec.minimum:
                raise bad_param(name, f"Valor mínimo: {spec.minimum}.")
            if spec.maximum is not None and value > spec.maximum:
                raise bad_param(name, f"Valor máximo: {spec.maximum}.")
        elif spec.kind in ("datetime", "date"):
            value = _parse_datetime(name, raw, end=name.endswith("Final"))
        else:
            value = raw
        if spec.enum is not None and value not in spec.enum:
            raise bad_param(name, f"Valor {raw!r} não permitido; use um de {list(spec.enum)}.")
        out[name] = value
    for name, spec in specs.items():
        if spec.required and name not in out:
            raise bad_param(name, f"Parâmetro obrigatório não informado: {name}.")
    _check_periods(out)
    return out


def _check_periods(parsed: dict[str, Any]) -> None:
    """Bling refuses ``...Inicial``/``...Final`` pairs spanning more than one year (DOCS-lim)."""
    for name, start in parsed.items():
        if not name.endswith("Inicial"):
            continue
        end_name = name[: -len("Inicial")] + "Final"
        end = parsed.get(end_name)
        if end is None:
            continue
        if end < start:
            raise bad_param(end_name, f"{end_name} anterior a {name}.")
        # "More than one year": span above 366 days (leap years included) is refused.
        if end - start > dt.timedelta(days=366):
            raise bad_param(name, "O período do filtro não pode ser superior a um ano.")


# ---------------------------------------------------------------- bodies


@dataclass(frozen=True)
class Field:
    """One body field: kind is string, number, integer, boolean, object or array."""

    kind: str
    enum: tuple[Any, ...] | None = None
    required: bool = False
    max_length: int | None = None
    children: dict[str, Field] | None = field(default=None)  # for objects checked deeper


_TYPE_CHECKS = {
    "string": lambda v: isinstance(v, str),
    "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "number": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
    "boolean": lambda v: isinstance(v, bool),
    "object": lambda v: isinstance(v, dict),
    "array": lambda v: isinstance(v, list),
}


def validate_body(
    body: Any, specs: dict[str, Field], namespace: str = "GERAL", prefix: str = ""
) -> dict[str, Any]:
    """Check a JSON object against ``specs``; collects every problem into one 400."""
    if not isinstance(body, dict):
        raise validation_error(
            [err_field(prefix or "body", "Um objeto JSON é esperado.", namespace=namespace)]
        )
    problems: list[dict[str, Any]] = []
    missing: list[dict[str, Any]] = []
    for name, value in body.items():
        element = f"{prefix}{name}"
        spec = specs.get(name)
        if spec is None:
            problems.append(
                err_field(element, f"Campo desconhecido: {element}.", namespace=namespace)
            )
            continue
        if value is None:
            continue
        if not _TYPE_CHECKS[spec.kind](value):
            problems.append(
                err_field(element, f"Tipo inválido; esperado {spec.kind}.", namespace=namespace)
            )
            continue
        if spec.enum is not None and value not in spec.enum:
            problems.append(
                err_field(
                    element,
                    f"Valor {value!r} não permitido; use um de {list(spec.enum)}.",
                    namespace=namespace,
                )
            )
        if spec.max_length is not None and len(value) > spec.max_length:
            problems.append(
                err_field(element, f"Tamanho máximo: {spec.max_length}.", namespace=namespace)
            )
        if spec.children is not None and isinstance(value, dict):
            try:
                validate_body(value, spec.children, namespace, prefix=f"{element}.")
            except Exception as exc:  # noqa: BLE001 - re-collect nested ApiError fields
                problems.extend(getattr(exc, "body", {}).get("error", {}).get("fields", []))
    for name, spec in specs.items():
        if spec.required and body.get(name) is None:
            missing.append(
                err_field(
                    f"{prefix}{name}", f"Campo obrigatório: {prefix}{name}.", namespace=namespace
                )
            )
    if problems:
        raise validation_error(problems + missing)
    if missing:
        raise missing_required(missing)
    return body
