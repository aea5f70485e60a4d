"""`python manage.py bling_status`: the Bling connection's state, company, token expiry and
last refresh (never a token). Exits non-zero when the account is not usable."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError
from django.utils import formats, timezone
from django.utils.translation import gettext as _

from blingsync.connection import connection_disconnected_reason, connection_get
from blingsync.formatting import expires_in_format
from blingsync.models import BlingConnection


def _when(value) -> str:
    """Local date and time in the active language's format (pt-BR: 07/12/2026 14:05)."""
    if not value:
        return "—"
    return formats.date_format(timezone.localtime(value), "SHORT_DATETIME_FORMAT")


class Command(BaseCommand):
    help = _("Mostra a situação da conexão com o Bling (nunca o token).")

    def handle(self, *args, **options) -> None:
        conn = connection_get()
        status = BlingConnection.Status(
            conn.status if conn else BlingConnection.Status.NOT_CONNECTED
        )
        self.stdout.write(f"{_('situação')}: {status.label}")
        if conn is not None:
            expires = "—"
            if conn.expires_at:
                seconds = int((conn.expires_at - timezone.now()).total_seconds())
                expires = f"{_when(conn.expires_at)} ({expires_in_format(seconds)})"
            if conn.last_refresh_ok is None:
                refresh = "—"
            else:
                refresh = f"{_when(conn.last_refresh_at)} " + (
                    _("ok") if conn.last_refresh_ok else _("falhou")
                )
            rows = [
                (_("empresa"), f"{conn.company_name or '—'} ({conn.company_id or '—'})"),
                (_("conectado em"), _when(conn.connected_at)),
                (_("token expira em"), expires),
                (_("última renovação"), refresh),
            ]
            if conn.last_refresh_error:
                rows.append((_("erro da última renovação"), conn.last_refresh_error))
            for label, value in rows:
                self.stdout.write(f"{label}: {value}")
        reason = connection_disconnected_reason(conn)
        if reason:
            raise CommandError(reason)
