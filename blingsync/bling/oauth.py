"""Connecting the Bling account: the authorize URL and the one-time exchange of a code.

A code is exchanged at most once: Bling revokes the user's access when a code is reused, so
`bling_connect_with_code` claims the code in the database (conditional UPDATE on a hash of
it) before calling the token endpoint; a reloaded callback, a double click or a second process
gets `CodeAlreadyUsed` and never sends it again.
"""

from __future__ import annotations

import logging
import secrets
import urllib.parse

from django.conf import settings

from blingsync.audit import audit_begin, audit_complete
from blingsync.backlog import inbox_backlog_queue
from blingsync.bling.errors import BlingError
from blingsync.bling.tokens import token_request
from blingsync.connection import (
    connection_code_claim,
    connection_company_store,
    connection_get_or_create,
    connection_tokens_store,
)
from blingsync.models import AuditLog, BlingConnection

logger = logging.getLogger(__name__)


class CodeAlreadyUsed(Exception):
    """This authorization code was already sent to Bling (it must never be sent again)."""


def oauth_state_new() -> str:
    return secrets.token_urlsafe(32)


def oauth_authorize_url(*, state: str) -> str:
    """Bling's authorization page for this app, with `state` (+ redirect_uri if configured)."""
    params = {"response_type": "code", "client_id": settings.BLING_CLIENT_ID, "state": state}
    if settings.BLING_REDIRECT_URI:
        params["redirect_uri"] = settings.BLING_REDIRECT_URI
    sep = "&" if "?" in settings.BLING_AUTHORIZE_URL else "?"
    return f"{settings.BLING_AUTHORIZE_URL}{sep}{urllib.parse.urlencode(params)}"


def bling_connect_with_code(*, code: str, actor: str = "") -> BlingConnection:
    """Exchange `code` once, store the tokens, fetch the company, audit `connected`.

    Raises CodeAlreadyUsed (nothing sent) or the BlingError of the exchange. Fetching the
    company may fail without undoing the connection (it is retried by `bling_status` users
    through the dashboard); the failure is logged.
    """
    from blingsync.bling.catalog import company_get

    code = code.strip()
    conn = connection_get_or_create()
    if not code or not connection_code_claim(connection=conn, code=code):
        raise CodeAlreadyUsed()
    entry = audit_begin(
        action=AuditLog.Action.CONNECTED,
        dry_run=False,
        before={"status": conn.status, "company": conn.company_name},
        actor=actor or None,
        reason_rule="connection.connected",
        reason_data={"actor": actor or ""},
    )
    try:
        bundle = token_request(grant_type="authorization_code", code=code)
    except BlingError as exc:
        audit_complete(entry, ok=False, error=str(exc))
        logger.warning("bling code exchange refused: %s", exc.error_type or exc.status)
        raise
    connection_tokens_store(connection=conn, bundle=bundle)
    try:
        connection_company_store(connection=conn, company=company_get())
    except BlingError as exc:
        logger.warning("bling connected, but the company could not be read: %s", exc)
    audit_complete(
        entry,
        ok=True,
        after={
            "status": conn.status,
            "company_id": conn.company_id,
            "company": conn.company_name,
            "expires_at": conn.expires_at.isoformat() if conn.expires_at else None,
        },
    )
    logger.info("bling connected to company %s", conn.company_id or "?")
    # Events that arrived while we could not reach Bling went back to pending: process them
    # now rather than at the next hourly recovery run.
    inbox_backlog_queue(requested_by=actor or "connect")
    return conn
