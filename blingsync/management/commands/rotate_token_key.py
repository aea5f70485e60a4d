"""`python manage.py rotate_token_key`: re-encrypt the stored Bling tokens with the current
key (the first of TOKEN_ENCRYPTION_KEY, or the one derived from SECRET_KEY).

Run it after a rotation, while the old key is still configured (in TOKEN_ENCRYPTION_KEY's
list or in SECRET_KEY_FALLBACKS); afterwards the old key can be removed.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from blingsync.bling.token_crypto import TokenDecryptError
from blingsync.bling.token_store import connection_tokens_reencrypt


class Command(BaseCommand):
    help = _("Recriptografa os tokens do Bling guardados com a chave atual.")

    def handle(self, *args, **options) -> None:
        try:
            rewritten = connection_tokens_reencrypt()
        except TokenDecryptError as exc:
            raise CommandError(
                _(
                    "%(error)s: mantenha a chave antiga em TOKEN_ENCRYPTION_KEY (depois da nova) "
                    "ou em SECRET_KEY_FALLBACKS durante a troca, ou conecte o Bling de novo no "
                    "admin."
                )
                % {"error": exc}
            ) from exc
        if rewritten:
            self.stdout.write(
                self.style.SUCCESS(
                    ngettext(
                        "tokens de %(n)d conexão recriptografados",
                        "tokens de %(n)d conexões recriptografados",
                        rewritten,
                    )
                    % {"n": rewritten}
                )
            )
        else:
            self.stdout.write(_("nenhum token guardado para recriptografar"))
