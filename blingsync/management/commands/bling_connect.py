"""`python manage.py bling_connect --code CODE`: connect the Bling account without a browser.

Open the authorize URL it prints (or the app's link in Bling), approve, copy the `code` from
the redirect address, and run the command with it. A code is exchanged at most once.
"""

from __future__ import annotations

import getpass

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from blingsync.audit import AuditSource, audit_source
from blingsync.bling.errors import BlingError
from blingsync.bling.oauth import oauth_authorize_url, oauth_state_new
from blingsync.connect.services import (
    CodeAlreadyUsed,
    CompanyChangeNeedsConfirmation,
    bling_connect_with_code,
)
from blingsync.models import AuditLog


class Command(BaseCommand):
    help = _("Conecta a conta do Bling trocando um código de autorização (uma única vez).")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--code", help=_("código de autorização recebido do Bling"))
        parser.add_argument(
            "--print-url",
            action="store_true",
            help=_("só mostra o endereço de autorização do Bling"),
        )
        parser.add_argument(
            "--confirm-company-change",
            action="store_true",
            help=_("aceita conectar a uma empresa diferente da conectada hoje"),
        )

    def handle(self, *args, **options) -> None:
        if options["print_url"] or not options["code"]:
            self.stdout.write(oauth_authorize_url(state=oauth_state_new()))
            if not options["code"]:
                raise CommandError(
                    _("Informe --code com o código recebido após autorizar no endereço acima.")
                )
            return
        actor = f"command:{getpass.getuser()}"
        source = AuditSource(source=AuditLog.Source.COMMAND, ref="bling_connect", actor=actor)
        try:
            with audit_source(source):
                conn = bling_connect_with_code(
                    code=options["code"],
                    actor=actor,
                    confirm_company_change=options["confirm_company_change"],
                )
        except CompanyChangeNeedsConfirmation as exc:
            raise CommandError(
                _(
                    "Esta autorização é de outra empresa (%(change)s); nada foi alterado. "
                    "Para trocar de empresa, autorize de novo e use --confirm-company-change."
                )
                % {"change": exc.change.describe()}
            ) from exc
        except CodeAlreadyUsed as exc:
            raise CommandError(
                _("Este código já foi usado e não será enviado de novo; autorize outra vez.")
            ) from exc
        except BlingError as exc:
            raise CommandError(_("O Bling recusou a conexão: %(error)s") % {"error": exc}) from exc
        self.stdout.write(
            self.style.SUCCESS(
                _("Conectado ao Bling: %(company)s (token expira em %(expires)s).")
                % {
                    "company": conn.company_name or conn.company_id or "?",
                    "expires": conn.expires_at.isoformat() if conn.expires_at else "?",
                }
            )
        )
