"""The Bling client's own state: the account this installation is connected to (with its
encrypted OAuth tokens) and the shared rate-limit bucket of the calls to it.

The models belong to the core app (label "blingsync", tables and migrations unchanged) and
are re-exported by `blingsync.models`; they live here so the client imports nothing of the
app around it.
"""

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


# Shared state of the calls to Bling, one row per account: the rate-limit slot schedule, the
# adaptive (AIMD) effective rate, the 429s seen, the daily count and the circuit breaker.
# Every process reads and moves it inside short transactions that lock the row (see
# ratelimit.py), so the limits hold across processes.
class RateLimitBucket(models.Model):
    """Times are epoch microseconds (wall clock, shared by the processes of one host)."""

    key = models.CharField(max_length=100, unique=True)
    # The latest call slot handed out; the next call goes at max(now, last_slot + interval).
    last_slot_us = models.BigIntegerField(default=0)
    # The latest slots handed out (epoch µs, oldest first, at most the configured rate of
    # them): at the configured rate a call may go as soon as the call `rate` slots before it
    # is one window (1 s + margin) old, so calls go back to back inside Bling's window.
    recent_slots_us = models.JSONField(default=list, blank=True)
    # Adaptive rate: the slot spacing while slowed down after 429s (0 = the configured rate;
    # the spacing used is never below the configured one). Halved rate on a 429, climbs back
    # step by step after quiet intervals (blingsync/bling/ratelimit.py).
    throttled_interval_us = models.BigIntegerField(default=0)
    # The spacing at which the latest 429 came (0 = none): climbing stops just below it until
    # a long quiet period has passed.
    ceiling_interval_us = models.BigIntegerField(default=0)
    # When the effective rate last went down / last changed (up or down).
    decreased_us = models.BigIntegerField(default=0)
    rate_changed_us = models.BigIntegerField(default=0)
    # 429 "per second" answers: the latest, the total, and their times (epoch seconds) over
    # the last hour (capped list).
    last_429_us = models.BigIntegerField(default=0)
    rate_limited_total = models.PositiveBigIntegerField(default=0)
    recent_429s = models.JSONField(default=list, blank=True)
    # Calls made on `day` (Bling's day, America/Sao_Paulo).
    day = models.DateField(null=True, blank=True)
    day_calls = models.PositiveIntegerField(default=0)
    # Circuit breaker: failed calls in a row; calls are refused until `circuit_open_until_us`.
    consecutive_failures = models.PositiveIntegerField(default=0)
    circuit_open_until_us = models.BigIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.key}: {self.day_calls} calls on {self.day}"
