"""Connecting the Bling account from the admin (staff only): redirect to Bling's authorize
page with a random `state` kept in the session, then the OAuth callback.

GET /bling/connect/ is the page that guides (blingsync.connect.guide); its button POSTs to the
same address, which starts the flow. The callback checks `state` and hands the code to `bling_connect_with_code`, which claims it
in the database before the exchange: a reloaded callback page never sends a code twice
(Bling revokes access when a code is reused).

Every view here needs the "connect or reconnect Bling" permission. An authorization for
another company than the stored one waits in the session (tokens encrypted) for an explicit
confirmation on `bling-connect-confirm`.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from functools import wraps

from django.contrib import admin
from django.contrib.admin.views.decorators import staff_member_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.utils.crypto import constant_time_compare
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from blingsync.audit import AuditSource, audit_source
from blingsync.bling.errors import BlingError, BlingUnavailable
from blingsync.bling.oauth import oauth_authorize_url, oauth_state_new
from blingsync.bling.token_crypto import TokenDecryptError
from blingsync.connect.guide import connect_guide_get
from blingsync.connect.services import (
    CodeAlreadyUsed,
    CompanyChange,
    CompanyChangeNeedsConfirmation,
    bling_connect_company_change_confirm,
    bling_connect_with_code,
)
from blingsync.connection import connection_get
from blingsync.models import AuditLog
from blingsync.permissions import CONNECT_BLING, permission_require

logger = logging.getLogger(__name__)

SESSION_STATE = "bling_oauth_state"
SESSION_DONE_STATE = "bling_oauth_done_state"
SESSION_COMPANY_CHANGE = "bling_company_change"
# A held authorization for another company is dropped after this long unconfirmed.
COMPANY_CHANGE_TTL_SECONDS = 15 * 60

# Bling's `error` values on the redirect (bling-v3.md 1.2), in the staff's words.
_AUTHORIZE_ERRORS = {
    "access_denied": gettext_lazy("A autorização foi negada no Bling."),
    "app_inativo": gettext_lazy("O aplicativo está inativo no Bling."),
    "UNAUTHORIZED_ERROR": gettext_lazy(
        "O usuário do Bling perdeu a permissão ou a empresa está inativa/inadimplente."
    ),
}


def _result(
    request: HttpRequest, *, ok: bool, heading: str, message: str, status: int = 200
) -> HttpResponse:
    context = {
        **admin.site.each_context(request),
        "title": _("Conectar ao Bling"),
        "ok": ok,
        "heading": heading,
        "message": message,
        "connection": connection_get(),
    }
    return TemplateResponse(request, "blingsync/connect_result.html", context, status=status)


def connect_permission_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Staff login, then the "connect or reconnect Bling" permission (403 without it)."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        permission_require(request, CONNECT_BLING)
        return view(request, *args, **kwargs)

    return staff_member_required(wrapper)


@connect_permission_required
def bling_connect(request: HttpRequest) -> HttpResponse:
    """GET: the connect page (how to set up the Bling app, or the button and what happens,
    and once connected what to do next). POST (the button): send the browser to Bling's
    authorization page."""
    guide = connect_guide_get()
    if request.method == "POST" and guide.configured:
        state = oauth_state_new()
        request.session[SESSION_STATE] = state
        return redirect(oauth_authorize_url(state=state))
    context = {
        **admin.site.each_context(request),
        "title": _("Conectar ao Bling"),
        "guide": guide,
    }
    status = 503 if request.method == "POST" else 200
    return TemplateResponse(request, "blingsync/connect_guide.html", context, status=status)


@connect_permission_required
def bling_callback(request: HttpRequest) -> HttpResponse:
    """Bling's redirect back with `code` and `state` (or `error`)."""
    state = request.GET.get("state", "")
    expected = request.session.get(SESSION_STATE) or ""
    done = request.session.get(SESSION_DONE_STATE) or ""
    if state and done and constant_time_compare(state, done):
        # A reload (or a second tab) of a callback already handled: never exchange again.
        conn = connection_get()
        connected = bool(conn and conn.status == conn.Status.CONNECTED)
        return _result(
            request,
            ok=connected,
            heading=_("Esta autorização já foi processada"),
            message=_("O código de autorização já foi usado e não será enviado de novo.")
            + " "
            + (
                _("A conta continua conectada.")
                if connected
                else _("Clique em “Conectar ao Bling” para autorizar de novo.")
            ),
        )
    error = request.GET.get("error", "")
    if error:
        # Nothing to exchange; Bling's own words are shown (escaped) with ours.
        if expected and constant_time_compare(state, expected):
            del request.session[SESSION_STATE]
        description = request.GET.get("error_description", "")
        message = str(_AUTHORIZE_ERRORS.get(error) or _("O Bling não autorizou a conexão."))
        detail = f" ({error}{': ' + description if description else ''})"
        return _result(
            request,
            ok=False,
            heading=_("O Bling não autorizou a conexão"),
            message=message + detail,
            status=400,
        )
    if not state or not expected or not constant_time_compare(state, expected):
        logger.warning("bling callback with a missing or wrong state")
        return _result(
            request,
            ok=False,
            heading=_("Link de autorização inválido"),
            message=_(
                "O parâmetro de segurança (state) não confere com o desta sessão. "
                "Comece de novo pelo botão “Conectar ao Bling” no admin."
            ),
            status=400,
        )
    # The state is spent whatever happens next.
    del request.session[SESSION_STATE]
    request.session[SESSION_DONE_STATE] = state
    request.session.save()

    code = request.GET.get("code", "")
    if not code:
        return _result(
            request,
            ok=False,
            heading=_("Resposta do Bling sem código"),
            message=_("O Bling não enviou o código de autorização. Tente de novo."),
            status=400,
        )
    actor = request.user.get_username()
    try:
        with audit_source(AuditSource(source=AuditLog.Source.ADMIN, actor=actor)):
            conn = bling_connect_with_code(code=code, actor=actor)
    except CompanyChangeNeedsConfirmation as held:
        request.session[SESSION_COMPANY_CHANGE] = {**held.change.dump(), "at": time.time()}
        return _company_change_page(request, held.change)
    except CodeAlreadyUsed:
        return _result(
            request,
            ok=False,
            heading=_("Esta autorização já foi processada"),
            message=_("O código de autorização já foi usado e não será enviado de novo."),
            status=400,
        )
    except BlingError as exc:
        unavailable = isinstance(exc, BlingUnavailable)
        return _result(
            request,
            ok=False,
            heading=_("Não foi possível conectar ao Bling"),
            message=(
                _("O Bling não respondeu. Tente de novo em alguns minutos.")
                if unavailable
                else _("O Bling recusou o código de autorização.")
            )
            + f" ({exc.error_type or exc.status}: {exc.description or exc.message})",
            status=502 if unavailable else 400,
        )
    return _connected(request, conn)


def _connected(request: HttpRequest, conn) -> HttpResponse:
    """The connect page in its connected state: the company and what to do next."""
    context = {
        **admin.site.each_context(request),
        "title": _("Conectar ao Bling"),
        "guide": connect_guide_get(),
    }
    return TemplateResponse(request, "blingsync/connect_guide.html", context)


def _company_change_page(request: HttpRequest, change: CompanyChange) -> HttpResponse:
    context = {
        **admin.site.each_context(request),
        "title": _("Conectar ao Bling"),
        "change": change,
        "connection": connection_get(),
    }
    return TemplateResponse(request, "blingsync/connect_confirm.html", context, status=409)


def _held_change(held: dict | None) -> CompanyChange | None:
    """The authorization kept in the session, unless missing, too old or unreadable."""
    if not held or time.time() - held.get("at", 0) > COMPANY_CHANGE_TTL_SECONDS:
        return None
    try:
        return CompanyChange.load(held)
    except (TokenDecryptError, KeyError, ValueError):
        return None


@connect_permission_required
@require_POST
def bling_connect_confirm(request: HttpRequest) -> HttpResponse:
    """The answer to "this authorization is for another company": confirm or cancel."""
    change = _held_change(request.session.pop(SESSION_COMPANY_CHANGE, None))
    if change is None:
        return _result(
            request,
            ok=False,
            heading=_("Reconexão cancelada"),
            message=_(
                "A autorização expirou ou já foi usada. Comece de novo pelo botão “Conectar”."
            ),
            status=400,
        )
    if request.POST.get("confirm") != "yes":
        logger.info("bling reconnect to another company cancelled by staff")
        return _result(
            request,
            ok=False,
            heading=_("Reconexão cancelada"),
            message=_("Nada foi alterado: a conexão continua com a empresa anterior."),
        )
    actor = request.user.get_username()
    with audit_source(AuditSource(source=AuditLog.Source.ADMIN, actor=actor)):
        conn = bling_connect_company_change_confirm(change=change, actor=actor)
    return _connected(request, conn)
