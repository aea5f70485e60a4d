"""The Bling account this installation is connected to, with its (encrypted) OAuth tokens."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class BlingConnection(models.Model):
    """One row per installation today; nothing here assumes there can only ever be one."""

    class Status(models.TextChoices):
        NOT_CONNECTED = "not_connected", _("não conectado")
        CONNECTED = "connected", _("conectado")
        NEEDS_RECONNECT = "needs_reconnect", _("precisa reconectar")

    name = models.CharField(_("nome"), max_length=100, default="Bling")
    company_id = models.CharField(_("id da empresa"), max_length=64, blank=True)
    company_name = models.CharField(_("empresa"), max_length=200, blank=True)
    status = models.CharField(
        _("situação"), max_length=20, choices=Status.choices, default=Status.NOT_CONNECTED
    )
    # Fernet ciphertexts; JWT tokens are up to ~3,000 characters, so these are text.
    access_token_encrypted = models.TextField(blank=True, editable=False)
    refresh_token_encrypted = models.TextField(blank=True, editable=False)
    expires_at = models.DateTimeField(_("token expira em"), null=True, blank=True)
    # The lifetime Bling gave the current access token: refreshes come at most a quarter of
    # it ahead of expiry (a 5-second token is not refreshed on every call).
    token_lifetime_seconds = models.PositiveIntegerField(null=True, blank=True, editable=False)
    scope = models.TextField(_("escopos"), blank=True)
    # Refresh lease: a process sets it by conditional UPDATE before calling the token endpoint.
    refresh_lease_until = models.DateTimeField(null=True, blank=True, editable=False)
    refresh_lease_owner = models.CharField(max_length=100, blank=True, editable=False)
    last_refresh_at = models.DateTimeField(_("última renovação"), null=True, blank=True)
    last_refresh_ok = models.BooleanField(_("última renovação ok"), null=True, blank=True)
    last_refresh_error = models.TextField(_("erro da última renovação"), blank=True)
    connected_at = models.DateTimeField(_("conectado em"), null=True, blank=True)
    # sha256 of the last authorization code exchanged: claimed by conditional UPDATE before
    # the exchange, so a reloaded callback (or a second process) never sends it twice.
    oauth_code_sha256 = models.CharField(max_length=64, blank=True, editable=False)
    # Set when /situacoes/modulos answered 403 (authorised without the Situações scope):
    # orders are then judged by `situacao.valor`, and the dashboard says so.
    situations_refused_at = models.DateTimeField(
        _("escopo Situações recusado em"), null=True, blank=True
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("conexão com o Bling")
        verbose_name_plural = _("conexões com o Bling")
        permissions = [("connect_bling", _("conectar ou reconectar o Bling"))]

    def __str__(self) -> str:
        return f"{self.company_name or self.name} ({self.get_status_display()})"
