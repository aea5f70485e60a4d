"""The debounced sold-out evaluations waiting to run (`products.stock_evaluations`)."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class StockEvaluation(models.Model):
    """A debounced sold-out evaluation waiting for one product.

    Stock events of a product only ask for an evaluation: the first one creates this row due
    `stock_debounce_seconds` later, the next ones within the window just count themselves in
    (`requests`). Whoever runs it claims the row, evaluates against Bling's current state and
    deletes the row only if no new request arrived meanwhile; otherwise the row is released
    for one more evaluation. So a burst costs one evaluation and no request is ever lost.
    """

    bling_product_id = models.BigIntegerField(_("id do produto no Bling"), unique=True)
    due_at = models.DateTimeField(_("avaliar a partir de"), db_index=True)
    requests = models.PositiveIntegerField(_("pedidos agrupados"), default=1)
    first_event_id = models.CharField(_("primeiro evento"), max_length=100, blank=True)
    claimed_at = models.DateTimeField(_("em avaliação desde"), null=True, blank=True)
    # As on WebhookEvent: due + grace when waiting, the claim's lease end while evaluated.
    recover_at = models.DateTimeField(_("recuperar em"), null=True, blank=True)
    attempts = models.PositiveIntegerField(_("tentativas"), default=0)
    last_error = models.TextField(_("último erro"), blank=True)
    created_at = models.DateTimeField(_("criado em"), auto_now_add=True)

    class Meta:
        verbose_name = _("avaliação de estoque pendente")
        verbose_name_plural = _("avaliações de estoque pendentes")
        # Kept from when the model lived in the webhooks app (moved without touching the
        # database: the table and index names stay).
        db_table = "webhooks_stockevaluation"
        ordering = ["due_at"]
        indexes = [
            models.Index(
                fields=["recover_at"],
                name="webhooks_eval_recover_idx",
                condition=models.Q(recover_at__isnull=False),
            )
        ]

    def __str__(self) -> str:
        return f"{self.bling_product_id} @ {self.due_at:%Y-%m-%d %H:%M:%S}"
