"""Request/response/route types shared by the server and the resource modules."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .validation import Param

if TYPE_CHECKING:
    from .fake import FakeBling


@dataclass
class Request:
    """A parsed API request (path relative to /Api/v3)."""

    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    json: Any
    raw_body: bytes
    path_params: dict[str, str] = field(default_factory=dict)
    params: dict[str, Any] = field(default_factory=dict)  # validated query

    def int_param(self, name: str) -> int:
        return int(self.path_params[name])


@dataclass
class Response:
    status: int
    body: Any = None  # None -> empty body (204)
    headers: dict[str, str] = field(default_factory=dict)


Handler = Callable[["FakeBling", Request], Response]


@dataclass
class Route:
    """One operation: method, path template like "/produtos/{idProduto:int}", query table."""

    method: str
    template: str
    handler: Handler
    query: dict[str, Param] = field(default_factory=dict)
    pattern: re.Pattern[str] = field(init=False)

    def __post_init__(self) -> None:
        regex = re.sub(r"\{(\w+):int\}", r"(?P<\1>\\d+)", self.template)
        regex = re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", regex)
        self.pattern = re.compile(f"^{regex}$")


def page(items: list[Any], params: dict[str, Any]) -> list[Any]:
    """Slice by ``pagina``/``limite`` (defaults 1 and 100, like Bling)."""
    pagina = params.get("pagina", 1)
    limite = params.get("limite", 100)
    start = (pagina - 1) * limite
    return items[start : start + limite]
