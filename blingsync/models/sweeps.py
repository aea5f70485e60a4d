"""What makes the next sweep of a kind full (SPEC 5.7): one row per job kind, the latest
widening event (a rule changed, a category added, counters raised, the deposit changed, a
reconnect). See `blingsync.sweep_cursor`."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class SweepFullRequest(models.Model):
    """The next run of `kind` is full when this is newer than the start of the kind's last
    complete live run; only the latest request per kind matters, so one row per kind."""

    kind = models.CharField(_("tipo"), max_length=20, unique=True)
    requested_at = models.DateTimeField(_("pedida em"))
    reason = models.CharField(_("motivo"), max_length=300)

    class Meta:
        verbose_name = _("pedido de varredura completa")
        verbose_name_plural = _("pedidos de varredura completa")

    def __str__(self) -> str:
        return f"{self.kind}: {self.reason}"
