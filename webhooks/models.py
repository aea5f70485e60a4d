"""The webhook inbox: every request Bling (or anyone) sent to the receiver, kept as received."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class InboxClaim(models.Model):
    """A moment the inbox claims by conditional UPDATE, one row per `name`, so that processes
    agree on "at most once a minute" (e.g. queueing the signature-failure alert check)."""

    name = models.CharField(max_length=40, unique=True)
    claimed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        default_permissions = ()  # internal bookkeeping: not in the admin, no role needs it

    def __str__(self) -> str:
        return self.name


class WebhookEvent(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", _("pendente")
        PROCESSING = "processing", _("processando")
        PROCESSED = "processed", _("processado")
        IGNORED = "ignored", _("ignorado")
        FAILED = "failed", _("falhou")
        REJECTED = "rejected", _("recusado")

    class IgnoreReason(models.TextChoices):
        """Why a signed delivery was answered 200 but never acted upon (SPEC 5.6)."""

        OTHER_COMPANY = "other_company", _("outra empresa")
        STALE = "stale", _("evento antigo (reenvio)")
        UNKNOWN_EVENT = "unknown_event", _("evento desconhecido")
        UNKNOWN_VERSION = "unknown_version", _("versão desconhecida")
        NO_EVENT_ID = "no_event_id", _("sem eventId")
        BAD_ENVELOPE = "bad_envelope", _("envelope inválido")
        FUTURE_DATE = "future_date", _("data no futuro")
        NO_DATE = "no_date", _("sem data")
        NO_COMPANY = "no_company", _("sem companyId")

    # Null for requests refused before their id could be trusted (bad signature, bad JSON):
    # a forged copy must never block the real event with the same id.
    event_id = models.CharField(_("id do evento"), max_length=100, unique=True, null=True)
    event_type = models.CharField(_("tipo"), max_length=60, blank=True, db_index=True)
    company_id = models.CharField(_("empresa"), max_length=64, blank=True)
    resource_id = models.BigIntegerField(_("id do recurso"), null=True, blank=True, db_index=True)
    event_date = models.DateTimeField(_("data do evento"), null=True, blank=True)
    received_at = models.DateTimeField(_("recebido em"), auto_now_add=True, db_index=True)
    body = models.TextField(_("corpo"), blank=True)
    headers = models.JSONField(_("cabeçalhos"), default=dict, blank=True)
    remote_addr = models.GenericIPAddressField(_("endereço remoto"), null=True, blank=True)
    # The sending network of a refused request (its IPv4 address, its IPv6 /64): refusals
    # are folded per network (`refusal_fold`), so one host with many IPv6 addresses is one
    # sender.
    remote_network = models.CharField(_("rede remota"), max_length=50, blank=True)
    signature_valid = models.BooleanField(_("assinatura válida"), default=False)
    http_status = models.PositiveSmallIntegerField(_("resposta HTTP"), default=200)
    status = models.CharField(
        _("situação"), max_length=10, choices=Status.choices, default=Status.PENDING
    )
    attempts = models.PositiveIntegerField(_("tentativas"), default=0)
    last_error = models.TextField(_("último erro"), blank=True)
    next_attempt_at = models.DateTimeField(_("próxima tentativa"), null=True, blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    processed_at = models.DateTimeField(_("processado em"), null=True, blank=True)
    echo = models.BooleanField(_("eco de escrita nossa"), default=False)
    # What processing concluded, in staff's words ("eco do código X", "produto excluído").
    note = models.CharField(_("resultado"), max_length=300, blank=True)
    # Set when the delivery was stored `ignored` for its envelope (never acted upon).
    ignore_reason = models.CharField(
        _("motivo de ignorar"), max_length=20, choices=IgnoreReason.choices, blank=True
    )
    # When recovery must take this row if nothing else has by then: a pending event whose
    # task may be lost, the end of a processing claim's lease (renewed while the worker is
    # alive), a retry that its one-off schedule should have run. NULL once settled.
    recover_at = models.DateTimeField(_("recuperar em"), null=True, blank=True)
    # Refused unsigned deliveries keep only metadata: size and digest of the whole body,
    # `body` holds its first bytes.
    body_size = models.PositiveIntegerField(_("tamanho do corpo (bytes)"), null=True, blank=True)
    body_sha256 = models.CharField(_("sha256 do corpo"), max_length=64, blank=True)
    # A refused row also stands for this many later refusals from the same address, folded
    # into it instead of stored (a flood keeps a few samples a minute, and its count).
    repeats = models.PositiveIntegerField(_("recusas repetidas agrupadas"), default=0)

    class Meta:
        verbose_name = _("evento de webhook")
        verbose_name_plural = _("eventos de webhook")
        permissions = [("reprocess_events", _("reprocessar eventos de webhook"))]
        ordering = ["-received_at", "-id"]
        indexes = [
            models.Index(fields=["status", "received_at"]),
            models.Index(fields=["status", "next_attempt_at"], name="webhooks_event_retry_idx"),
            models.Index(
                fields=["recover_at"],
                name="webhooks_event_recover_idx",
                condition=models.Q(recover_at__isnull=False),
            ),
            models.Index(
                fields=["ignore_reason", "received_at"], name="webhooks_event_ignored_idx"
            ),
            models.Index(
                fields=["signature_valid", "received_at"], name="webhooks_event_sigfail_idx"
            ),
            models.Index(
                fields=["remote_addr", "received_at"],
                name="webhooks_event_refused_idx",
                condition=models.Q(signature_valid=False),
            ),
            models.Index(
                fields=["remote_network", "received_at"],
                name="webhooks_event_refnet_idx",
                condition=models.Q(signature_valid=False),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.event_type or '?'} {self.event_id or '(sem id)'}"

    @property
    def retry_scheduled(self) -> bool:
        """A failed event that will be tried again (at `next_attempt_at`)."""
        return self.status == self.Status.FAILED and self.next_attempt_at is not None
