"""Audit log: every change blingsync makes in Bling or in its own rules, written before the
change (pending) and completed after it."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class AuditLog(models.Model):
    class Action(models.TextChoices):
        CODE_ASSIGNED = "code_assigned", _("código atribuído")
        CODE_SKIPPED = "code_skipped", _("código pulado (já usado no Bling)")
        PRODUCT_DEACTIVATED = "product_deactivated", _("produto inativado")
        PRODUCT_REACTIVATED = "product_reactivated", _("produto reativado")
        SOLD_OUT_KEPT = "sold_out_kept", _("esgotado mantido ativo")
        TOKEN_REFRESHED = "token_refreshed", _("token renovado")
        CONNECTED = "connected", _("conectado ao Bling")
        COUNTER_ADJUSTED = "counter_adjusted", _("contador ajustado")
        RULE_CHANGED = "rule_changed", _("regra alterada")
        MODE_CHANGED = "mode_changed", _("modo alterado")
        JOB_STOPPED = "job_stopped", _("execução parada")

    class Source(models.TextChoices):
        WEBHOOK = "webhook", _("webhook")
        JOB = "job", _("execução de tarefa")
        ADMIN = "admin", _("admin")
        COMMAND = "command", _("comando")
        SYSTEM = "system", _("sistema")

    class Outcome(models.TextChoices):
        PENDING = "pending", _("pendente")
        OK = "ok", _("ok")
        FAILED = "failed", _("falhou")
        WOULD_DO = "would_do", _("faria (simulação)")

    created_at = models.DateTimeField(_("quando"), auto_now_add=True, db_index=True)
    completed_at = models.DateTimeField(_("concluído em"), null=True, blank=True)
    action = models.CharField(_("ação"), max_length=30, choices=Action.choices, db_index=True)
    bling_product_id = models.BigIntegerField(
        _("id do produto no Bling"), null=True, blank=True, db_index=True
    )
    code = models.CharField(_("código"), max_length=40, blank=True, db_index=True)
    # What the sweep or webhook had just read from Bling (no extra call): staff know products
    # by name and by the code they have in Bling (`code` above is the code this entry is about).
    product_name = models.CharField(_("produto"), max_length=200, blank=True)
    product_code = models.CharField(_("código atual no Bling"), max_length=60, blank=True)
    before = models.JSONField(_("antes"), null=True, blank=True)
    after = models.JSONField(_("depois"), null=True, blank=True)
    reason = models.TextField(_("motivo"), blank=True)
    # The structured reason: which rule decided (e.g. "code.prefix_derived",
    # "soldout.sold_out_by_sales") and its facts (prefix, categories, evidence). The sentence
    # staff read is built from these at display time, in their language
    # (`blingsync.audit_reasons`); `reason` keeps the text written at the time.
    reason_rule = models.CharField(_("regra"), max_length=60, blank=True, db_index=True)
    reason_data = models.JSONField(_("dados do motivo"), default=dict, blank=True)
    source = models.CharField(_("origem"), max_length=10, choices=Source.choices)
    # Webhook event id, job run id, admin username or command name.
    source_ref = models.CharField(_("referência da origem"), max_length=150, blank=True)
    actor = models.CharField(_("quem"), max_length=150, blank=True)
    job_run = models.ForeignKey(
        "blingsync.JobRun",
        verbose_name=_("execução"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="audit_entries",
    )
    dry_run = models.BooleanField(_("simulação"), default=False)
    outcome = models.CharField(
        _("resultado"), max_length=10, choices=Outcome.choices, default=Outcome.PENDING
    )
    error = models.TextField(_("erro"), blank=True)

    class Meta:
        verbose_name = _("registro de auditoria")
        verbose_name_plural = _("registros de auditoria")
        permissions = [("export_audit", _("exportar a auditoria"))]
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.get_action_display()} {self.bling_product_id or ''} {self.code}".strip()
