"""`python manage.py rotate_token_key`: re-encrypt the stored Bling tokens with the current
key (the first of TOKEN_ENCRYPTION_KEY, or the one derived from SECRET_KEY).

Run it after a rotation, while the old key is still configured (in TOKEN_ENCRYPTION_KEY's
list or in SECRET_KEY_FALLBACKS); afterwards the old key can be removed.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from blingsync.bling.token_crypto import TokenDecryptError
from blingsync.bling.token_store import connection_tokens_reencrypt


class Command(BaseCommand):
    help = "Re-encrypt the stored Bling tokens with the current encryption key."

    def handle(self, *args, **options) -> None:
        try:
            rewritten = connection_tokens_reencrypt()
        except TokenDecryptError as exc:
            raise CommandError(
                f"{exc}: keep the old key in TOKEN_ENCRYPTION_KEY (after the new one) or in "
                "SECRET_KEY_FALLBACKS while rotating, or reconnect Bling in the admin."
            ) from exc
        if rewritten:
            self.stdout.write(
                self.style.SUCCESS(f"tokens of {rewritten} connection(s) re-encrypted")
            )
        else:
            self.stdout.write("no stored tokens to re-encrypt")
