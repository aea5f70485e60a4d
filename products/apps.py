"""App config of products: categories, rules, codes, sold-out evidence and sweeps."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ProductsConfig(AppConfig):
    name = "products"
    verbose_name = _("Produtos")
    default_auto_field = "django.db.models.BigAutoField"
