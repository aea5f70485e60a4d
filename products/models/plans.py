"""Plans (SPEC 5.14): what a simulation of `codes` or `stock` would change, kept with its run,
so staff can review it and apply exactly that.

`PlanItem`: one would-be change (a code, a deactivation, a reactivation) with the facts it was
decided on, and what became of it when the plan was applied (applied at most once: the apply
run claims the item with a conditional UPDATE). `PlanLeftAlone`: a product the simulation
decided to leave alone, with why (counted by reason in the run's details, listed on demand).
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class PlanItem(models.Model):
    class Action(models.TextChoices):
        CODE_ASSIGN = "code_assign", _("atribuir código")
        DEACTIVATE = "deactivate", _("inativar")
        REACTIVATE = "reactivate", _("reativar")

    class Status(models.TextChoices):
        PENDING = "pending", _("aguardando")
        APPLYING = "applying", _("aplicando")
        APPLIED = "applied", _("aplicado")
        SKIPPED = "skipped", _("não aplicado")
        FAILED = "failed", _("falhou")

    run = models.ForeignKey(
        "blingsync.JobRun",
        verbose_name=_("simulação"),
        on_delete=models.CASCADE,
        related_name="plan_items",
    )
    # The order the simulation decided in: codes are allocated in this order at apply time.
    position = models.PositiveIntegerField(_("ordem"), default=0)
    bling_product_id = models.BigIntegerField(_("id do produto no Bling"))
    parent_product_id = models.BigIntegerField(_("produto pai"), null=True, blank=True)
    name = models.CharField(_("produto"), max_length=200, blank=True)
    code = models.CharField(_("código atual no Bling"), max_length=60, blank=True)
    category_id = models.BigIntegerField(_("categoria"), null=True, blank=True)
    category_name = models.CharField(_("categoria"), max_length=300, blank=True)
    action = models.CharField(_("ação"), max_length=12, choices=Action.choices)
    # The code (a preview: no counter consumed) or the situação ("I" / "A").
    proposed = models.CharField(_("valor proposto"), max_length=60, blank=True)
    prefix = models.CharField(_("prefixo"), max_length=10, blank=True)
    reason = models.TextField(_("motivo"), blank=True)
    reason_rule = models.CharField(_("regra"), max_length=60, blank=True)
    # What it was decided on: code and situação seen, available stock, the sales that count.
    facts = models.JSONField(_("fatos"), default=dict, blank=True)
    status = models.CharField(
        _("situação"), max_length=10, choices=Status.choices, default=Status.PENDING
    )
    status_reason = models.TextField(_("por quê"), blank=True)
    applied_by = models.ForeignKey(
        "blingsync.JobRun",
        verbose_name=_("aplicado pela execução"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="applied_plan_items",
    )
    applied_value = models.CharField(_("valor gravado"), max_length=60, blank=True)
    applied_at = models.DateTimeField(_("aplicado em"), null=True, blank=True)

    class Meta:
        verbose_name = _("item de plano")
        verbose_name_plural = _("itens de plano")
        ordering = ["run", "position", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["run", "bling_product_id", "action"], name="one_plan_item_per_change"
            )
        ]
        indexes = [models.Index(fields=["run", "status"]), models.Index(fields=["run", "action"])]

    def __str__(self) -> str:
        return f"{self.get_action_display()} {self.name or self.bling_product_id}"


class PlanLeftAlone(models.Model):
    """A product the simulation looked at and decided to leave alone, and why."""

    run = models.ForeignKey(
        "blingsync.JobRun",
        verbose_name=_("simulação"),
        on_delete=models.CASCADE,
        related_name="plan_left_alone",
    )
    bling_product_id = models.BigIntegerField(_("id do produto no Bling"))
    name = models.CharField(_("produto"), max_length=200, blank=True)
    code = models.CharField(_("código atual no Bling"), max_length=60, blank=True)
    reason_key = models.CharField(_("regra"), max_length=60)
    reason = models.TextField(_("motivo"), blank=True)

    class Meta:
        verbose_name = _("produto deixado como está")
        verbose_name_plural = _("produtos deixados como estão")
        ordering = ["run", "reason_key", "id"]
        indexes = [models.Index(fields=["run", "reason_key"])]

    def __str__(self) -> str:
        return f"{self.name or self.bling_product_id}: {self.reason_key}"
