"""Mirror of Bling product categories and the rules staff set on them."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class Category(models.Model):
    """A Bling product category (primary key = Bling's id)."""

    id = models.BigIntegerField(_("id no Bling"), primary_key=True)
    description = models.CharField(_("descrição"), max_length=200)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("categoria pai"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="children",
        db_constraint=False,
    )
    full_path = models.CharField(_("caminho"), max_length=1000, blank=True)
    removed_at = models.DateTimeField(_("removida do Bling em"), null=True, blank=True)
    synced_at = models.DateTimeField(_("sincronizada em"), null=True, blank=True)

    class Meta:
        verbose_name = _("categoria")
        verbose_name_plural = _("categorias")
        ordering = ["full_path"]

    def __str__(self) -> str:
        return self.full_path or self.description


class CategoryRule(models.Model):
    """Per-category rule; unset fields inherit from the parent category's rule.

    Default rules seeded on a new install match categories by name (`name_match`, compared
    case- and accent-insensitively) until the category is mirrored; then by id.
    """

    class CodePolicy(models.TextChoices):
        GENERATE = "generate", _("gerar código")
        SUBCATEGORY_PREFIX = "subcategory", _("usar o prefixo da subcategoria")
        SKIP = "skip", _("não gerar código")

    category = models.OneToOneField(
        Category,
        verbose_name=_("categoria"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="rule",
    )
    name_match = models.CharField(
        _("nome da categoria"),
        max_length=200,
        blank=True,
        help_text=_("Usado enquanto a categoria ainda não foi espelhada do Bling."),
    )
    prefix = models.CharField(
        _("prefixo"), max_length=10, blank=True, help_text=_("Vazio: derivado do nome.")
    )
    code_policy = models.CharField(
        _("política de código"), max_length=20, choices=CodePolicy.choices, blank=True
    )
    deactivate_when_sold_out = models.BooleanField(
        _("inativar quando esgotado"), null=True, blank=True
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("regra de categoria")
        verbose_name_plural = _("regras de categoria")

    def __str__(self) -> str:
        return str(self.category or self.name_match)
