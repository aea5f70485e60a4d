"""Alert data: the per-kind throttle, every message sent, the summary time, user preferences."""

from __future__ import annotations

import datetime

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class AlertKind(models.TextChoices):
    NEEDS_RECONNECT = "needs_reconnect", _("conexão precisa ser refeita")
    SIGNATURE_FAILURES = "signature_failures", _("falhas de assinatura de webhook")
    OTHER_COMPANY = "other_company", _("eventos de outra empresa")
    SCHEDULE_OVERDUE = "schedule_overdue", _("agendamento sem sucesso")
    EVENTS_FAILED = "events_failed", _("eventos que falharam de vez")
    WRITES_FAILED = "writes_failed", _("escritas no Bling que falharam")
    CALL_BUDGET = "call_budget", _("cota diária de chamadas ao Bling")
    DAILY_SUMMARY = "daily_summary", _("resumo diário")


class AlertThrottle(models.Model):
    """One row per kind, shared by every process: a kind is sent only by whoever moves
    `last_sent_at` with a conditional UPDATE (at most once an hour). `fingerprint` names the
    situation last reported (e.g. which disconnection, which day), so a lasting situation is
    not reported again every hour."""

    kind = models.CharField(_("tipo"), max_length=30, choices=AlertKind.choices, unique=True)
    last_sent_at = models.DateTimeField(_("último envio"), null=True, blank=True)
    fingerprint = models.CharField(_("situação informada"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("controle de frequência de alerta")
        verbose_name_plural = _("controles de frequência de alertas")

    def __str__(self) -> str:
        return self.get_kind_display()


class AlertMessage(models.Model):
    """Every alert and summary e-mail: written before sending (pending), completed after."""

    class Status(models.TextChoices):
        PENDING = "pending", _("pendente")
        SENDING = "sending", _("enviando")
        SENT = "sent", _("enviado")
        FAILED = "failed", _("falhou")

    kind = models.CharField(_("tipo"), max_length=30, choices=AlertKind.choices, db_index=True)
    created_at = models.DateTimeField(_("criado em"), auto_now_add=True, db_index=True)
    language = models.CharField(_("idioma"), max_length=10)
    recipients = models.JSONField(_("destinatários"), default=list)
    # The facts the message reports (JSON), rendered in `language` when sent.
    facts = models.JSONField(_("fatos"), default=dict, blank=True)
    link = models.URLField(_("link"), max_length=500, blank=True)
    subject = models.CharField(_("assunto"), max_length=300, blank=True)
    status = models.CharField(
        _("resultado"), max_length=10, choices=Status.choices, default=Status.PENDING
    )
    attempts = models.PositiveSmallIntegerField(_("tentativas"), default=0)
    next_attempt_at = models.DateTimeField(_("próxima tentativa"), null=True, blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True, editable=False)
    sent_at = models.DateTimeField(_("enviado em"), null=True, blank=True)
    error = models.TextField(_("erro"), blank=True)

    class Meta:
        verbose_name = _("alerta enviado")
        verbose_name_plural = _("alertas enviados")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["status", "next_attempt_at"])]
        permissions = [("receive_alerts", _("Pode receber alertas por e-mail"))]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} ({self.get_status_display()})"


class AlertSettings(models.Model):
    """Single row: when the daily summary goes out (local time, TIME_ZONE)."""

    summary_time = models.TimeField(
        _("horário do resumo diário"),
        default=datetime.time(7, 0),
        help_text=_("Hora local em que o resumo do dia anterior é enviado."),
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("configurações de alertas")
        verbose_name_plural = _("configurações de alertas")

    def __str__(self) -> str:
        return str(_("Configurações de alertas"))

    def save(self, *args, **kwargs) -> None:
        self.pk = 1
        super().save(*args, **kwargs)

    @classmethod
    def load(cls) -> AlertSettings:
        obj, _created = cls.objects.get_or_create(pk=1)
        return obj


class AlertPreference(models.Model):
    """A user's choices: the daily summary (opt-in) and the language of the e-mails."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("usuário"),
        on_delete=models.CASCADE,
        related_name="alert_preference",
    )
    daily_summary = models.BooleanField(_("receber o resumo diário"), default=False)
    language = models.CharField(
        _("idioma dos e-mails"),
        max_length=10,
        blank=True,
        choices=settings.LANGUAGES,
        help_text=_("Vazio: o idioma do site."),
    )

    class Meta:
        verbose_name = _("preferência de alertas")
        verbose_name_plural = _("preferências de alertas")

    def __str__(self) -> str:
        return str(self.user)
