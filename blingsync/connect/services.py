"""Connecting the Bling account: the one-time exchange of an authorization code, the company
it belongs to, the audit and the stored connection; then what a (re)connection unblocks.

A code is exchanged at most once: Bling revokes the user's access when a code is reused, so
`bling_connect_with_code` claims the code in the database (conditional UPDATE on a hash of
it) before calling the token endpoint; a reloaded callback, a double click or a second process
gets `CodeAlreadyUsed` and never sends it again.

Reconnecting to another company than the stored one is never silent: the new authorization is
held (`CompanyChangeNeedsConfirmation`) until staff confirm it.

The client (`blingsync.bling`) only talks to Bling and stores tokens; once it has returned,
this service asks for the full sweeps (another company) and queues the webhook inbox's
backlog.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from blingsync.audit import audit_begin, audit_complete
from blingsync.backlog import inbox_backlog_queue
from blingsync.bling.catalog import company_get
from blingsync.bling.errors import BlingError
from blingsync.bling.oauth import oauth_code_exchange
from blingsync.bling.token_crypto import token_decrypt, token_encrypt
from blingsync.bling.token_store import (
    connection_code_claim,
    connection_company_store,
    connection_get_or_create,
    connection_tokens_store,
)
from blingsync.bling.types import Company, TokenBundle
from blingsync.models import AuditLog, BlingConnection
from blingsync.sweep_cursor import sweep_full_request

logger = logging.getLogger(__name__)


class CodeAlreadyUsed(Exception):
    """This authorization code was already sent to Bling (it must never be sent again)."""


def bling_connect_with_code(
    *, code: str, actor: str = "", confirm_company_change: bool = False
) -> BlingConnection:
    """Exchange `code` once, read the company with the new token, store both, audit
    `connected`.

    An authorization for another company than the stored one is not stored unless
    `confirm_company_change`: CompanyChangeNeedsConfirmation carries it (tokens included) for
    `bling_connect_company_change_confirm`. Raises CodeAlreadyUsed (nothing sent) or the
    BlingError of the exchange. A company that cannot be read does not undo a first connection
    (the failure is logged); on a reconnect it counts as a different company.
    """
    code = code.strip()
    conn = connection_get_or_create()
    if not code or not connection_code_claim(connection=conn, code=code):
        raise CodeAlreadyUsed()
    entry = audit_begin(
        action=AuditLog.Action.CONNECTED,
        dry_run=False,
        before=_connection_snapshot(conn),
        actor=actor or None,
        reason_rule="connection.connected",
        reason_data={"actor": actor or ""},
    )
    try:
        bundle = oauth_code_exchange(code=code)
    except BlingError as exc:
        audit_complete(entry, ok=False, error=str(exc))
        logger.warning("bling code exchange refused: %s", exc.error_type or exc.status)
        raise
    company = _company_of(bundle)
    change = CompanyChange(
        bundle=bundle,
        company=company,
        stored_company_id=conn.company_id,
        stored_company_name=conn.company_name,
    )
    if change.is_change and not confirm_company_change:
        audit_complete(
            entry,
            ok=False,
            error=f"autorização de outra empresa ({change.describe()}): aguardando confirmação",
        )
        raise CompanyChangeNeedsConfirmation(change)
    return _connection_store(connection=conn, entry=entry, change=change, actor=actor)


def bling_connect_company_change_confirm(*, change: CompanyChange, actor: str) -> BlingConnection:
    """Store an authorization for another company after staff confirmed it: audited with both
    company ids; the next sweeps are full (the new company's products are all new to us);
    code counters stay as they are (codes already handed out are never reused)."""
    conn = connection_get_or_create()
    change = CompanyChange(
        bundle=change.bundle,
        company=change.company,
        stored_company_id=conn.company_id,
        stored_company_name=conn.company_name,
    )
    entry = audit_begin(
        action=AuditLog.Action.CONNECTED,
        dry_run=False,
        before=_connection_snapshot(conn),
        reason=f"reconexão a outra empresa confirmada ({change.describe()})",
        actor=actor or None,
    )
    return _connection_store(connection=conn, entry=entry, change=change, actor=actor)


def _connection_snapshot(conn: BlingConnection) -> dict[str, Any]:
    return {"status": conn.status, "company_id": conn.company_id, "company": conn.company_name}


def _company_of(bundle: TokenBundle) -> Company | None:
    try:
        return company_get(access_token=bundle.access_token)
    except BlingError as exc:
        logger.warning("bling authorized, but the company could not be read: %s", exc)
        return None


def _connection_store(
    *, connection: BlingConnection, entry: AuditLog, change: CompanyChange, actor: str
) -> BlingConnection:
    conn = connection
    connection_tokens_store(connection=conn, bundle=change.bundle)
    if change.company is not None:
        connection_company_store(connection=conn, company=change.company)
    if change.is_change:
        sweep_full_request(
            kinds=None, reason=f"Bling reconectado a outra empresa ({change.describe()})"
        )
    audit_complete(
        entry,
        ok=True,
        after={
            **_connection_snapshot(conn),
            "expires_at": conn.expires_at.isoformat() if conn.expires_at else None,
        },
    )
    logger.info(
        "bling connected to company %s%s",
        conn.company_id or "?",
        f" (was {change.stored_company_id})" if change.is_change else "",
    )
    # Events that arrived while we could not reach Bling went back to pending: process them
    # now rather than at the next hourly recovery run.
    inbox_backlog_queue(requested_by=actor or "connect")
    return conn


@dataclass(frozen=True)
class CompanyChange:
    """A new authorization and the company it belongs to (None: Bling did not say), beside
    the company stored before it."""

    bundle: TokenBundle
    company: Company | None
    stored_company_id: str
    stored_company_name: str

    @property
    def is_change(self) -> bool:
        if not self.stored_company_id:
            return False  # a first connection
        return self.company is None or self.company.id != self.stored_company_id

    def describe(self) -> str:
        new = self.company.id if self.company else "?"
        return f"empresa {self.stored_company_id} -> {new}"

    def dump(self) -> dict[str, Any]:
        """JSON-safe form with the tokens encrypted (kept in the session until confirmed)."""
        return {
            "access": token_encrypt(self.bundle.access_token),
            "refresh": token_encrypt(self.bundle.refresh_token),
            "expires_at": self.bundle.expires_at.isoformat(),
            "scope": self.bundle.scope,
            "company_id": self.company.id if self.company else None,
            "company_name": self.company.name if self.company else "",
            "stored_company_id": self.stored_company_id,
            "stored_company_name": self.stored_company_name,
        }

    @classmethod
    def load(cls, data: dict[str, Any]) -> CompanyChange:
        company = None
        if data.get("company_id") is not None:
            company = Company(id=data["company_id"], name=data.get("company_name", ""))
        return cls(
            bundle=TokenBundle(
                access_token=token_decrypt(data["access"]),
                refresh_token=token_decrypt(data["refresh"]),
                expires_at=datetime.fromisoformat(data["expires_at"]),
                scope=data.get("scope", ""),
            ),
            company=company,
            stored_company_id=data.get("stored_company_id", ""),
            stored_company_name=data.get("stored_company_name", ""),
        )


class CompanyChangeNeedsConfirmation(Exception):
    """The authorization is for another company than the stored one: nothing was stored."""

    def __init__(self, change: CompanyChange) -> None:
        super().__init__(change.describe())
        self.change = change
