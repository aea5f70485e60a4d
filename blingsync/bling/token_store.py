"""The token store: the Bling connection row, its (encrypted) tokens, the refresh lease, the
one-time claim of an authorization code and the status transitions.

Token values only ever leave this module decrypted in memory, for the HTTP client; they are
never logged, audited or shown. Every write here is a single UPDATE, so a new token pair
(access + rotated refresh token + expiry) is stored atomically. Marking the connection
"needs reconnect" notifies `observers.NeedsReconnect` (the app alerts staff).
"""

from __future__ import annotations

import hashlib
import logging
from datetime import datetime, timedelta

from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from blingsync.bling.errors import BlingNotConnected
from blingsync.bling.models import BlingConnection
from blingsync.bling.observers import NeedsReconnect, observers_notify
from blingsync.bling.token_crypto import (
    TokenDecryptError,
    token_decrypt,
    token_encrypt,
    token_reencrypt,
)
from blingsync.bling.types import Company, TokenBundle

logger = logging.getLogger(__name__)

Status = BlingConnection.Status


def connection_get() -> BlingConnection | None:
    """The installation's connection (the first row), or None before the first connect."""
    return BlingConnection.objects.order_by("pk").first()


def connection_get_or_create() -> BlingConnection:
    conn = connection_get()
    if conn is None:
        conn, _ = BlingConnection.objects.get_or_create(pk=1)
    return conn


def connection_require() -> BlingConnection:
    """The connection, if it can be used for API calls; BlingNotConnected otherwise."""
    conn = connection_get()
    if conn is None or conn.status == Status.NOT_CONNECTED:
        raise BlingNotConnected(
            status=None,
            error_type="not_connected",
            message=_("Bling não está conectado: conecte a conta no admin (Conectar ao Bling)."),
        )
    if conn.status == Status.NEEDS_RECONNECT:
        raise BlingNotConnected(
            status=None,
            error_type="needs_reconnect",
            message=_("A conexão com o Bling precisa ser refeita no admin (Conectar ao Bling): ")
            + (conn.last_refresh_error or _("o Bling recusou o token de renovação.")),
        )
    return conn


def connection_access_token(connection: BlingConnection) -> str:
    """The decrypted access token ("" when none); an unreadable token needs a reconnect."""
    return _decrypt(connection, connection.access_token_encrypted)


def connection_refresh_token(connection: BlingConnection) -> str:
    return _decrypt(connection, connection.refresh_token_encrypted)


def _decrypt(connection: BlingConnection, ciphertext: str) -> str:
    try:
        return token_decrypt(ciphertext)
    except TokenDecryptError as exc:
        connection_mark_needs_reconnect(connection=connection, error=str(exc))
        raise BlingNotConnected(
            status=None, error_type="needs_reconnect", message=str(exc)
        ) from exc


def connection_tokens_store(
    *,
    connection: BlingConnection,
    bundle: TokenBundle,
    refreshed: bool = False,
    lease_owner: str = "",
) -> BlingConnection:
    """Store a new token pair in one UPDATE (status connected, lease released).

    `refreshed` records a successful refresh (last refresh fields); a first connect sets
    `connected_at`. The rotated refresh token is persisted here before anyone uses the new
    access token.
    """
    now = timezone.now()
    values = {
        "access_token_encrypted": token_encrypt(bundle.access_token),
        "refresh_token_encrypted": token_encrypt(bundle.refresh_token),
        "expires_at": bundle.expires_at,
        "token_lifetime_seconds": max(0, int((bundle.expires_at - now).total_seconds())),
        "scope": bundle.scope,
        "status": Status.CONNECTED,
        "refresh_lease_until": None,
        "refresh_lease_owner": "",
        "updated_at": now,
    }
    if refreshed:
        values.update(last_refresh_at=now, last_refresh_ok=True, last_refresh_error="")
    else:
        values.update(connected_at=now, last_refresh_error="")
    BlingConnection.objects.filter(pk=connection.pk).update(**values)
    connection.refresh_from_db()
    return connection


def connection_company_store(*, connection: BlingConnection, company: Company) -> None:
    BlingConnection.objects.filter(pk=connection.pk).update(
        company_id=company.id, company_name=company.name[:200], updated_at=timezone.now()
    )
    connection.refresh_from_db()


def connection_mark_needs_reconnect(
    *, connection: BlingConnection, error: str, refresh_ciphertext: str | None = None
) -> bool:
    """Status "needs reconnect" with a clear message; the token endpoint is not called again
    until staff reconnect.

    With `refresh_ciphertext`, only if the stored refresh token is still the one that was
    refused: when another process rotated it meanwhile, the refusal is stale (a lost race
    must never disconnect the app) and nothing changes (returns False).
    """
    qs = BlingConnection.objects.filter(pk=connection.pk)
    if refresh_ciphertext is not None:
        qs = qs.filter(refresh_token_encrypted=refresh_ciphertext)
    changed = qs.update(
        status=Status.NEEDS_RECONNECT,
        last_refresh_at=timezone.now(),
        last_refresh_ok=False,
        last_refresh_error=error[:2000],
        refresh_lease_until=None,
        refresh_lease_owner="",
        updated_at=timezone.now(),
    )
    if changed:
        logger.error("bling connection %s needs a reconnect: %s", connection.pk, error)
        observers_notify(NeedsReconnect(connection_id=connection.pk, error=error))
    connection.refresh_from_db()
    return bool(changed)


def connection_lease_claim(*, connection: BlingConnection, owner: str, seconds: float) -> bool:
    """Claim the refresh lease (conditional UPDATE, no lock kept): True for the winner."""
    now = timezone.now()
    claimed = (
        BlingConnection.objects.filter(pk=connection.pk, status=Status.CONNECTED)
        .filter(Q(refresh_lease_until__isnull=True) | Q(refresh_lease_until__lt=now))
        .update(
            refresh_lease_until=now + timedelta(seconds=seconds),
            refresh_lease_owner=owner,
        )
    )
    return claimed == 1


def connection_lease_release(
    *, connection: BlingConnection, owner: str, hold_until: datetime | None = None
) -> None:
    """Release our lease; `hold_until` keeps it (as a cool-down) after a failed refresh, so
    nobody calls the token endpoint again before then."""
    BlingConnection.objects.filter(pk=connection.pk, refresh_lease_owner=owner).update(
        refresh_lease_until=hold_until,
        refresh_lease_owner="cooldown" if hold_until else "",
    )


def connection_refresh_failed(*, connection: BlingConnection, error: str) -> None:
    """Record a transient refresh failure (Bling down): the connection stays connected."""
    BlingConnection.objects.filter(pk=connection.pk).update(
        last_refresh_at=timezone.now(), last_refresh_ok=False, last_refresh_error=error[:2000]
    )


def connection_code_claim(*, connection: BlingConnection, code: str) -> bool:
    """Claim an authorization code for exchange, once: False when it was already claimed
    (a reloaded callback, a double submit), in which case it must not be sent again."""
    digest = hashlib.sha256(code.encode("utf-8")).hexdigest()
    claimed = (
        BlingConnection.objects.filter(pk=connection.pk)
        .exclude(oauth_code_sha256=digest)
        .update(oauth_code_sha256=digest)
    )
    return claimed == 1


def connection_tokens_reencrypt() -> int:
    """Re-encrypt every stored token pair with the current key (after a key rotation).

    Each row is rewritten only if its tokens are still the ones read (conditional UPDATE), so
    a refresh storing a new pair meanwhile is never overwritten. Returns the rows rewritten;
    raises TokenDecryptError (nothing changed for that row) when no configured key opens a
    stored token.
    """
    rewritten = 0
    for conn in BlingConnection.objects.order_by("pk"):
        if not conn.access_token_encrypted and not conn.refresh_token_encrypted:
            continue
        changed = BlingConnection.objects.filter(
            pk=conn.pk,
            access_token_encrypted=conn.access_token_encrypted,
            refresh_token_encrypted=conn.refresh_token_encrypted,
        ).update(
            access_token_encrypted=token_reencrypt(conn.access_token_encrypted),
            refresh_token_encrypted=token_reencrypt(conn.refresh_token_encrypted),
        )
        rewritten += changed
    return rewritten
