"""Code counters (one per prefix) and the assignment of codes to Bling products.

The unique constraints are the guarantees of SPEC 5.4: `bling_product_id` unique (a product
never gets two codes, whoever races for it) and `code` unique (a code never goes to two
products). Allocation (`products.codes`) increments the counter and inserts the assignment in
one transaction, so a lost race rolls the increment back and leaves no gap.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class CodeCounter(models.Model):
    """The last number handed out (or known to be used in Bling) for a prefix."""

    prefix = models.CharField(_("prefixo"), max_length=10, unique=True)
    last_value = models.PositiveIntegerField(_("último número"), default=0)
    updated_at = models.DateTimeField(_("atualizado em"), auto_now=True)

    class Meta:
        verbose_name = _("contador de códigos")
        verbose_name_plural = _("contadores de códigos")
        permissions = [("raise_counters", _("aumentar contadores de códigos"))]
        ordering = ["prefix"]

    def __str__(self) -> str:
        return f"{self.prefix} {self.last_value}"


class CodeAssignment(models.Model):
    """A code given to a Bling product (or variation).

    reserved: allocated, not yet written to Bling (or the write's outcome is unknown);
    applied: Bling holds it; failed: the write failed, the sweep retries it with this same
    code; discarded: the product got another code in Bling (set by hand) or was deleted, so
    this code was never used (its number is not handed out again).
    """

    class Status(models.TextChoices):
        RESERVED = "reserved", _("reservado")
        APPLIED = "applied", _("aplicado no Bling")
        FAILED = "failed", _("falhou")
        DISCARDED = "discarded", _("descartado")

    PENDING_STATUSES = (Status.RESERVED, Status.FAILED)

    bling_product_id = models.BigIntegerField(_("id do produto no Bling"), unique=True)
    code = models.CharField(_("código"), max_length=40, unique=True)
    prefix = models.CharField(_("prefixo"), max_length=10, db_index=True)
    number = models.PositiveIntegerField(_("número"))
    parent_product_id = models.BigIntegerField(_("produto pai (variação)"), null=True, blank=True)
    status = models.CharField(
        _("situação"),
        max_length=10,
        choices=Status.choices,
        default=Status.RESERVED,
        db_index=True,
    )
    rule = models.CharField(_("regra"), max_length=300, blank=True)
    attempts = models.PositiveIntegerField(_("tentativas"), default=0)
    error = models.TextField(_("erro"), blank=True)
    created_at = models.DateTimeField(_("criado em"), auto_now_add=True)
    updated_at = models.DateTimeField(_("atualizado em"), auto_now=True)
    applied_at = models.DateTimeField(_("aplicado em"), null=True, blank=True)
    # Set (by conditional UPDATE) by the process about to PATCH the code into Bling, so a
    # webhook and a sweep reaching the product at once send one write, not two. A claim
    # left by a dead process expires.
    write_claimed_until = models.DateTimeField(null=True, blank=True, editable=False, db_index=True)

    class Meta:
        verbose_name = _("código atribuído")
        verbose_name_plural = _("códigos atribuídos")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.code} -> {self.bling_product_id}"
