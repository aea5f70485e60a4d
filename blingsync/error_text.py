"""Why something could not be done, in the staff's language with the cause in words (job runs'
error text, commands' error messages). Bling's own words, when it sent any, follow ours.

The Bling client (blingsync/bling/) raises typed errors and knows nothing of the staff's
language; this module turns them into one sentence, in the language active when it is called
(pt-BR by default, English when the admin or the shell asks for it).
"""

from __future__ import annotations

from django.utils.translation import gettext as _

from blingsync.bling.errors import (
    BlingAuthError,
    BlingCircuitOpen,
    BlingError,
    BlingForbidden,
    BlingNotConnected,
    BlingNotFound,
    BlingRateLimited,
    BlingUnavailable,
    BlingValidationError,
)


def _bling_words(exc: BlingError) -> str:
    """What Bling itself said (type, message, field errors), or "" when it said nothing."""
    parts = [p for p in (exc.description or exc.message,) if p]
    if exc.fields:
        parts.append("; ".join(f"{f.element}: {f.message}" for f in exc.fields))
    return " — ".join(parts)


def bling_error_text(*, exc: BaseException) -> str:
    """One sentence for staff about why a call to Bling did not work."""
    if not isinstance(exc, BlingError):
        return str(exc)
    if isinstance(exc, BlingNotConnected):
        if exc.error_type == "not_configured":
            return _(
                "O aplicativo do Bling não está configurado neste servidor "
                "(BLING_CLIENT_ID e BLING_CLIENT_SECRET): veja a página Conectar ao Bling."
            )
        if exc.error_type in ("not_connected", ""):
            return _("Bling não conectado: conecte a conta em “Conectar ao Bling”.")
        text = _("O Bling recusou a renovação do acesso: conecte de novo em “Conectar ao Bling”.")
        # Bling's own words are on the refusal that caused it (none for a connection already
        # marked: its last refresh error is on the connection page).
        cause = exc.__cause__
        words = _bling_words(cause) if isinstance(cause, BlingError) else ""
        if isinstance(cause, BlingError) and cause.error_type:
            words = f"{cause.error_type}: {words}" if words else cause.error_type
        return f"{text} (Bling: {words})" if words else text
    if isinstance(exc, BlingCircuitOpen):
        return _(
            "Chamadas ao Bling suspensas por alguns instantes depois de várias falhas seguidas; "
            "a próxima execução tenta de novo."
        )
    if isinstance(exc, BlingUnavailable):
        if exc.status is None:
            text = _("O Bling não respondeu (rede fora ou tempo esgotado); tentaremos de novo.")
        else:
            text = _(
                "O Bling está com problema (erro %(status)s do lado dele); tentaremos de novo."
            ) % {"status": exc.status}
        return text
    if isinstance(exc, BlingRateLimited):
        if exc.period == "day":
            return _("Limite diário de chamadas ao Bling atingido: o trabalho continua amanhã.")
        return _("O Bling pediu para diminuir o ritmo das chamadas (limite por segundo).")
    if isinstance(exc, BlingForbidden):
        text = _(
            "O Bling recusou o acesso: falta um escopo no aplicativo do Bling ou permissão ao "
            "usuário que autorizou."
        )
    elif isinstance(exc, BlingAuthError):
        text = _("O Bling recusou o acesso mesmo depois de renovar o token.")
    elif isinstance(exc, BlingValidationError):
        text = _("O Bling recusou os dados enviados.")
    elif isinstance(exc, BlingNotFound):
        text = _("O Bling não encontrou o registro pedido.")
    else:
        text = _("O Bling respondeu com erro %(status)s.") % {"status": exc.status or "—"}
    words = _bling_words(exc)
    return f"{text} ({_('Bling')}: {words})" if words else text
