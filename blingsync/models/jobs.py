"""One row per sweep or job run: what ran, why, with which parameters, and what it counted."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class JobRun(models.Model):
    class Kind(models.TextChoices):
        CODES = "codes", _("códigos")
        STOCK = "stock", _("estoque esgotado")
        ORDERS = "orders", _("pedidos de venda")
        INVOICES = "invoices", _("notas fiscais (NF-e e NFC-e)")
        CATEGORIES = "categories", _("categorias")
        TOKENS = "tokens", _("tokens")
        EVENTS = "events", _("eventos (recuperação e retenção)")
        SEED_COUNTERS = "seed_counters", _("semear contadores")
        PLAN = "plan", _("aplicar plano")
        UNDO = "undo", _("desfazer inativações")

    class Trigger(models.TextChoices):
        SCHEDULE = "schedule", _("agendamento")
        ADMIN = "admin", _("admin")
        COMMAND = "command", _("comando")
        WEBHOOK_BACKLOG = "webhook_backlog", _("acúmulo de webhooks")
        RERUN = "rerun", _("reexecução")

    class Status(models.TextChoices):
        QUEUED = "queued", _("na fila")
        RUNNING = "running", _("executando")
        SUCCEEDED = "succeeded", _("concluído")
        FAILED = "failed", _("falhou")
        SKIPPED = "skipped", _("ignorado")
        # Stopped at a write by a switch of mode or a stop request; counts so far are kept.
        INTERRUPTED = "interrupted", _("interrompida")

    class SkipReason(models.TextChoices):
        """Why a run was skipped (the status label says it)."""

        OVERLAP = "overlap", _("ignorado: outra execução em andamento")
        NOT_CONNECTED = "not_connected", _("ignorado: Bling não conectado")
        PAUSED = "paused", _("ignorado: instalação pausada")
        BLING_UNAVAILABLE = "bling_unavailable", _("ignorado: Bling indisponível")

    kind = models.CharField(_("tipo"), max_length=20, choices=Kind.choices)
    trigger = models.CharField(_("origem"), max_length=20, choices=Trigger.choices)
    params = models.JSONField(_("parâmetros"), default=dict, blank=True)
    status = models.CharField(
        _("situação"), max_length=12, choices=Status.choices, default=Status.QUEUED
    )
    skip_reason = models.CharField(
        _("motivo de ter sido ignorado"),
        max_length=20,
        choices=SkipReason.choices,
        blank=True,
    )
    requested_by = models.CharField(_("solicitado por"), max_length=150, blank=True)
    rerun_of = models.ForeignKey(
        "self",
        verbose_name=_("reexecução de"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="reruns",
    )
    created_at = models.DateTimeField(_("criado em"), auto_now_add=True)
    started_at = models.DateTimeField(_("início"), null=True, blank=True)
    finished_at = models.DateTimeField(_("fim"), null=True, blank=True)
    # Updated while running; a running row whose heartbeat is old belongs to a dead worker.
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    seen = models.PositiveIntegerField(_("vistos"), default=0)
    changed = models.PositiveIntegerField(_("alterados"), default=0)
    skipped = models.PositiveIntegerField(_("pulados"), default=0)
    errors = models.PositiveIntegerField(_("erros"), default=0)
    api_calls = models.PositiveIntegerField(_("chamadas à API"), default=0)
    # Free-form breakdown, e.g. {"skipped_by_reason": {"no_category": 3}}.
    details = models.JSONField(_("detalhes"), default=dict, blank=True)
    error = models.TextField(_("erro"), blank=True)
    # "Parar" / `job_stop`: the run stops at its next write to Bling (blingsync.write_gate).
    stop_requested_at = models.DateTimeField(_("parada pedida em"), null=True, blank=True)
    stop_requested_by = models.CharField(_("parada pedida por"), max_length=150, blank=True)

    class Meta:
        verbose_name = _("execução de tarefa")
        verbose_name_plural = _("execuções de tarefas")
        # Who may do what (blingsync/permissions.py): a run that writes nothing to Bling is a
        # simulation; everything else (seed_counters and reruns of live runs included) is live.
        permissions = [
            ("run_simulation", _("executar tarefas em simulação")),
            ("run_live", _("executar tarefas ao vivo (inclui semear contadores)")),
        ]
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["kind", "status", "-finished_at"])]
        constraints = [
            # The database, not a check-then-act, guarantees two runs of a kind never overlap.
            models.UniqueConstraint(
                fields=["kind"], condition=Q(status="running"), name="one_running_run_per_kind"
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} #{self.pk} ({self.get_status_display()})"

    @property
    def status_label(self) -> str:
        """The status as staff read it: a skipped run says why."""
        if self.status == self.Status.SKIPPED and self.skip_reason:
            return str(self.get_skip_reason_display())
        return str(self.get_status_display())

    @property
    def dry_run(self) -> bool:
        """Whether the run is a simulation: what happened (details, once it started: asked
        for, or the installation was in dry-run mode), else what was asked (parameters)."""
        if "dry_run" in self.details:
            return bool(self.details["dry_run"])
        return bool(self.params.get("dry_run"))

    @property
    def duration_seconds(self) -> float | None:
        if self.started_at and self.finished_at:
            return (self.finished_at - self.started_at).total_seconds()
        return None
