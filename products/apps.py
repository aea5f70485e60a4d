"""App config of products: categories, rules, codes, sold-out evidence and sweeps."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ProductsConfig(AppConfig):
    name = "products"
    verbose_name = _("Produtos")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from django.db.models.signals import post_migrate

        from products.rule_defaults import rules_seed_on_new_install

        # Also after a flush (tests): the data migration alone would not bring them back.
        post_migrate.connect(rules_seed_on_new_install, sender=self)
