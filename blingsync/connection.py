"""The Bling connection as the rest of the app reads it: the row, whether API calls can use
it, and why not in staff's words; plus the Situações-scope flag the dashboard shows.

The token store itself (tokens, refresh lease, code claim, status transitions) belongs to the
client: `blingsync.bling.token_store`. `connection_get` and `connection_require` are its
readers, re-exported here so the app has one place to import the connection from.
"""

from __future__ import annotations

from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from blingsync.bling.token_store import Status, connection_get, connection_require
from blingsync.models import BlingConnection

__all__ = [
    "Status",
    "connection_disconnected_reason",
    "connection_get",
    "connection_require",
    "connection_situations_refused_set",
]


def connection_disconnected_reason(connection: BlingConnection | None) -> str:
    """Portuguese text for staff about why the connection cannot be used ("" when it can)."""
    if connection is None or connection.status == Status.NOT_CONNECTED:
        return _("Bling não está conectado.")
    if connection.status == Status.NEEDS_RECONNECT:
        return _("A conexão com o Bling precisa ser refeita: ") + (
            connection.last_refresh_error or _("o Bling recusou o token de renovação.")
        )
    return ""


def connection_situations_refused_set(*, refused: bool) -> None:
    """Remember whether /situacoes/modulos answers 403 (no Situações scope); the dashboard
    shows it. Only a change is written (this runs on every situation lookup)."""
    rows = BlingConnection.objects.all()
    if refused:
        rows.filter(situations_refused_at__isnull=True).update(situations_refused_at=timezone.now())
    else:
        rows.filter(situations_refused_at__isnull=False).update(situations_refused_at=None)


def bling_connect_url() -> str:
    """The "Conectar ao Bling" view (built with the Bling client), by name when it exists."""
    try:
        return reverse("bling-connect")
    except NoReverseMatch:
        return "/bling/connect/"
