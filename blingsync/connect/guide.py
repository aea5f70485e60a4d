"""What the connect page tells staff (SPEC 5.1, 5.9): whether the Bling app is configured on
this server, what to register in Bling (the redirect link, the scopes), and, once connected,
the company and what to do next.

Pure reading: settings and the stored connection; nothing here calls Bling.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.utils.translation import gettext_lazy as _

from blingsync.connection import connection_get
from blingsync.models import BlingConnection

CALLBACK_PATH = "/bling/callback/"

# The scopes of the README's table ("Bling scopes the app needs"), named as in Bling's app
# settings, each with what blingsync uses it for.
SCOPES: tuple[tuple[object, object], ...] = (
    (_("Produtos"), _("ler os produtos, gravar os códigos e a situação (ativo/inativo)")),
    (_("Categorias de produtos"), _("espelhar as categorias que levam os prefixos e as regras")),
    (_("Estoques (e Depósitos)"), _("saldos e depósitos: a prova de que um produto esgotou")),
    (_("Pedidos de venda"), _("os itens vendidos, prova de que o estoque acabou por venda")),
    (_("Notas fiscais (NF-e)"), _("itens de NF-e de saída: vendas sem pedido")),
    (_("Notas fiscais de consumidor (NFC-e)"), _("itens de NFC-e: vendas no balcão")),
    (_("Situações"), _("os nomes das situações de pedido (ex.: “Cancelado pelo cliente”)")),
    (_("Dados básicos da empresa"), _("o nome e o código da empresa conectada")),
)


@dataclass(frozen=True)
class ConnectGuide:
    configured: bool
    missing: list[str]
    redirect_uri: str
    redirect_is_set: bool
    webhook_url: str
    scopes: tuple[tuple[object, object], ...]
    connection: BlingConnection | None
    connected: bool
    needs_reconnect: bool
    company: str = ""


def connect_redirect_uri() -> str:
    """The "Link de redirecionamento" to register in Bling: BLING_REDIRECT_URI when set,
    else `<SITE_URL>/bling/callback/`."""
    return settings.BLING_REDIRECT_URI or f"{settings.SITE_URL}{CALLBACK_PATH}"


def connect_guide_get() -> ConnectGuide:
    missing = [
        name
        for name in ("BLING_CLIENT_ID", "BLING_CLIENT_SECRET")
        if not getattr(settings, name, "")
    ]
    conn = connection_get()
    connected = bool(conn and conn.status == BlingConnection.Status.CONNECTED)
    needs_reconnect = bool(conn and conn.status == BlingConnection.Status.NEEDS_RECONNECT)
    company = ""
    if conn and (conn.company_name or conn.company_id):
        company = conn.company_name or str(conn.company_id)
    return ConnectGuide(
        configured=not missing,
        missing=missing,
        redirect_uri=connect_redirect_uri(),
        redirect_is_set=bool(settings.BLING_REDIRECT_URI),
        webhook_url=f"{settings.SITE_URL}/webhooks/bling/",
        scopes=SCOPES,
        connection=conn,
        connected=connected,
        needs_reconnect=needs_reconnect,
        company=company,
    )
