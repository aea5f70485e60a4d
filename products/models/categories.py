"""Mirror of Bling product categories and the rules staff set on them."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from products.prefixes import PREFIX_PATTERN, name_key

prefix_validator = RegexValidator(
    PREFIX_PATTERN, _("Use de 1 a 10 letras maiúsculas sem acento (A-Z), ex.: NTB.")
)


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
    full_path = models.CharField(_("caminho"), max_length=1000, blank=True, db_index=True)
    removed_at = models.DateTimeField(_("removida do Bling em"), null=True, blank=True)
    synced_at = models.DateTimeField(_("sincronizada em"), null=True, blank=True)

    class Meta:
        verbose_name = _("categoria")
        verbose_name_plural = _("categorias")
        ordering = ["full_path"]

    def __str__(self) -> str:
        return self.full_path or self.description

    @property
    def is_removed(self) -> bool:
        return self.removed_at is not None


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
        _("prefixo"),
        max_length=10,
        blank=True,
        validators=[prefix_validator],
        help_text=_("Vazio: herdado da categoria pai ou derivado do nome da categoria."),
    )
    code_policy = models.CharField(
        _("política de código"),
        max_length=20,
        choices=CodePolicy.choices,
        blank=True,
        help_text=_("Vazio: herdada da categoria pai (padrão: gerar código)."),
    )
    deactivate_when_sold_out = models.BooleanField(
        _("inativar quando esgotado"),
        null=True,
        blank=True,
        help_text=_("Vazio: herdado da categoria pai (padrão: sim)."),
    )
    updated_at = models.DateTimeField(_("atualizada em"), auto_now=True)

    class Meta:
        verbose_name = _("regra de categoria")
        verbose_name_plural = _("regras de categoria")
        permissions = [("edit_rules", _("editar regras de categoria e prefixos"))]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(category__isnull=False) | ~models.Q(name_match=""),
                name="categoryrule_category_or_name",
            ),
        ]

    def __str__(self) -> str:
        return str(self.category or self.name_match)

    def clean(self) -> None:
        if self.category_id is None and not self.name_match.strip():
            raise ValidationError(_("Escolha uma categoria ou informe o nome da categoria."))

    @property
    def name_key(self) -> str:
        return name_key(self.name_match)
