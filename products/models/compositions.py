"""Mirror of Bling compositions (kits): products of `formato` "E" and their `estrutura`.

List items carry `formato` but not `estrutura`, so a composition is mirrored from its
product detail: when a product webhook re-reads it, and when the codes or stock sweep meet a
product of `formato` "E" (one detail call per composition product per sweep at most).
"""

from __future__ import annotations

from typing import TypedDict

from django.db import models
from django.utils.translation import gettext_lazy as _


class _DecimalSize(TypedDict):
    """A DecimalField's size, typed so that `**_AMOUNT` type-checks field by field."""

    max_digits: int
    decimal_places: int


_AMOUNT: _DecimalSize = {"max_digits": 14, "decimal_places": 4}


class Composition(models.Model):
    """A kit as Bling defines it (`estrutura` of the product detail)."""

    class StockType(models.TextChoices):
        PHYSICAL = "F", _("físico")
        VIRTUAL = "V", _("virtual")

    class Posting(models.TextChoices):
        PRODUCT_AND_PARTS = "A", _("produto e componentes")
        PARTS = "M", _("componentes")
        PRODUCT = "P", _("produto")

    bling_product_id = models.BigIntegerField(_("id do kit no Bling"), unique=True)
    name = models.CharField(_("nome"), max_length=200, blank=True)
    code = models.CharField(_("código"), max_length=60, blank=True)
    stock_type = models.CharField(_("tipo de estoque"), max_length=1, choices=StockType.choices)
    posting = models.CharField(_("lançamento de estoque"), max_length=1, choices=Posting.choices)
    read_at = models.DateTimeField(_("lido do Bling em"))

    class Meta:
        verbose_name = _("kit (composição)")
        verbose_name_plural = _("kits (composições)")
        ordering = ["bling_product_id"]

    def __str__(self) -> str:
        return self.name or str(self.bling_product_id)

    @property
    def moves_parts(self) -> bool:
        """A sale of the kit posts exits on its parts (`lancamentoEstoque` A or M)."""
        return self.posting in (self.Posting.PRODUCT_AND_PARTS, self.Posting.PARTS)

    @property
    def label(self) -> str:
        return self.name or self.code or str(self.bling_product_id)


class CompositionPart(models.Model):
    """One component of a kit: `quantity` units of product `bling_product_id` per kit."""

    composition = models.ForeignKey(
        Composition, verbose_name=_("kit"), on_delete=models.CASCADE, related_name="parts"
    )
    bling_product_id = models.BigIntegerField(_("id do componente no Bling"), db_index=True)
    quantity = models.DecimalField(_("quantidade no kit"), **_AMOUNT)

    class Meta:
        verbose_name = _("componente do kit")
        verbose_name_plural = _("componentes do kit")
        ordering = ["composition", "bling_product_id"]
        constraints = [
            models.UniqueConstraint(
                fields=["composition", "bling_product_id"], name="composition_part_once"
            )
        ]

    def __str__(self) -> str:
        return f"{self.composition_id}: {self.bling_product_id} x {self.quantity}"
