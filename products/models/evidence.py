"""The sold-out evidence ledger: stock movements (from stock webhooks) and sale lines (from
orders), because Bling v3 has no per-product movement history with origins."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class StockMovement(models.Model):
    class Operation(models.TextChoices):
        ENTRY = "E", _("entrada")
        EXIT = "S", _("saída")
        BALANCE = "B", _("balanço")

    bling_product_id = models.BigIntegerField(_("id do produto no Bling"), db_index=True)
    deposit_id = models.BigIntegerField(_("depósito"), null=True, blank=True)
    operation = models.CharField(_("operação"), max_length=1, choices=Operation.choices, blank=True)
    quantity = models.DecimalField(_("quantidade"), max_digits=14, decimal_places=4, null=True)
    deposit_physical = models.DecimalField(max_digits=14, decimal_places=4, null=True)
    deposit_virtual = models.DecimalField(max_digits=14, decimal_places=4, null=True)
    physical_total = models.DecimalField(max_digits=14, decimal_places=4, null=True)
    virtual_total = models.DecimalField(max_digits=14, decimal_places=4, null=True)
    occurred_at = models.DateTimeField(_("quando"), db_index=True)
    event_id = models.CharField(_("evento"), max_length=100, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("movimento de estoque")
        verbose_name_plural = _("movimentos de estoque")
        ordering = ["-occurred_at", "-id"]

    def __str__(self) -> str:
        return f"{self.bling_product_id} {self.operation} {self.quantity}"


class SaleLine(models.Model):
    order_id = models.BigIntegerField(_("pedido"), db_index=True)
    order_number = models.CharField(_("número do pedido"), max_length=50, blank=True)
    bling_product_id = models.BigIntegerField(_("id do produto no Bling"), db_index=True)
    quantity = models.DecimalField(_("quantidade"), max_digits=14, decimal_places=4)
    situation_id = models.BigIntegerField(_("situação do pedido"), null=True, blank=True)
    situation_name = models.CharField(_("nome da situação"), max_length=100, blank=True)
    counted = models.BooleanField(_("conta como venda"), default=True)
    order_date = models.DateTimeField(_("data do pedido"))
    recorded_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("item vendido")
        verbose_name_plural = _("itens vendidos")
        ordering = ["-order_date", "-id"]

    def __str__(self) -> str:
        return f"{self.order_id}: {self.bling_product_id} x {self.quantity}"
