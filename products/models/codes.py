"""Code counters (one per prefix) and the assignment of codes to Bling products."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class CodeCounter(models.Model):
    prefix = models.CharField(_("prefixo"), max_length=10, unique=True)
    last_value = models.PositiveIntegerField(_("último número"), default=0)
    updated_at = models.DateTimeField(_("atualizado em"), auto_now=True)

    class Meta:
        verbose_name = _("contador de códigos")
        verbose_name_plural = _("contadores de códigos")
        ordering = ["prefix"]

    def __str__(self) -> str:
        return f"{self.prefix} {self.last_value}"


class CodeAssignment(models.Model):
    class Status(models.TextChoices):
        RESERVED = "reserved", _("reservado")
        APPLIED = "applied", _("aplicado no Bling")
        FAILED = "failed", _("falhou")

    bling_product_id = models.BigIntegerField(_("id do produto no Bling"), unique=True)
    code = models.CharField(_("código"), max_length=40, unique=True)
    prefix = models.CharField(_("prefixo"), max_length=10, db_index=True)
    number = models.PositiveIntegerField(_("número"))
    status = models.CharField(
        _("situação"), max_length=10, choices=Status.choices, default=Status.RESERVED
    )
    attempts = models.PositiveIntegerField(_("tentativas"), default=0)
    error = models.TextField(_("erro"), blank=True)
    created_at = models.DateTimeField(_("criado em"), auto_now_add=True)
    updated_at = models.DateTimeField(_("atualizado em"), auto_now=True)
    applied_at = models.DateTimeField(_("aplicado em"), null=True, blank=True)

    class Meta:
        verbose_name = _("código atribuído")
        verbose_name_plural = _("códigos atribuídos")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.code} -> {self.bling_product_id}"
