"""Settings staff change at run time (single row): mode, page size, debounce, retention."""

from __future__ import annotations

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _


class RuntimeSettings(models.Model):
    class Mode(models.TextChoices):
        DRY_RUN = "dry_run", _("simulação (dry-run)")
        LIVE = "live", _("ao vivo")
        PAUSED = "paused", _("pausado")

    mode = models.CharField(
        _("modo"),
        max_length=10,
        choices=Mode.choices,
        default=Mode.DRY_RUN,
        help_text=_(
            "Simulação: tudo é calculado e registrado como 'faria', nada é escrito no Bling. "
            "Ao vivo: as mudanças são escritas no Bling. Pausado: nada é processado (os "
            "webhooks continuam sendo guardados)."
        ),
    )
    sweep_page_size = models.PositiveSmallIntegerField(
        _("tamanho da página das varreduras"),
        default=100,
        validators=[MinValueValidator(1), MaxValueValidator(100)],
    )
    stock_debounce_seconds = models.PositiveIntegerField(
        _("espera para agrupar eventos de estoque (s)"),
        default=30,
        help_text=_(
            "Eventos de estoque do mesmo produto dentro deste intervalo são avaliados uma vez."
        ),
    )
    event_retention_days = models.PositiveIntegerField(
        _("retenção de eventos processados (dias)"),
        default=14,
        validators=[MinValueValidator(7)],
        help_text=_(
            "Mínimo 7: o Bling reenvia por até 3 dias e o eventId guardado impede repetição."
        ),
    )
    sold_out_grace_minutes = models.PositiveIntegerField(
        _("carência antes de inativar (min)"), default=0
    )
    stock_deposit_id = models.BigIntegerField(
        _("depósito considerado"),
        null=True,
        blank=True,
        help_text=_("Vazio: soma de todos os depósitos."),
    )
    plan_max_age_hours = models.PositiveIntegerField(
        _("validade de um plano (horas)"),
        default=24,
        validators=[MinValueValidator(1)],
        help_text=_("Um plano de simulação pode ser aplicado até esta idade."),
    )
    updated_at = models.DateTimeField(_("alterado em"), auto_now=True)
    updated_by = models.CharField(_("alterado por"), max_length=150, blank=True, editable=False)

    class Meta:
        verbose_name = _("configurações de execução")
        verbose_name_plural = _("configurações de execução")
        permissions = [("change_mode", _("mudar o modo (simulação, ao vivo, pausado)"))]

    def __str__(self) -> str:
        return str(_("Configurações de execução"))

    def save(self, *args, **kwargs) -> None:
        self.pk = 1
        super().save(*args, **kwargs)

    @classmethod
    def load(cls) -> RuntimeSettings:
        """The single row, created with defaults (dry-run) on first use."""
        obj, _created = cls.objects.get_or_create(pk=1)
        return obj
