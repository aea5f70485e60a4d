"""Admin of the runtime settings (a single row): the mode, with a confirmation to go live and
its own permission, and the sweep and event settings."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

from django import forms
from django.contrib import admin, messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from blingsync.deposits import deposits_available
from blingsync.models import AuditLog, RuntimeSettings
from blingsync.operations.mode import mode_set
from blingsync.permissions import CHANGE_MODE, permission_require
from blingsync.sweep_cursor import sweep_full_request

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

# By the plain value too: a `Mode` is a str, and the form's choices are the plain values.
MODE_EXPLANATIONS: dict[str, StrOrPromise] = {
    RuntimeSettings.Mode.DRY_RUN: _(
        "Simulação (dry-run): tudo é calculado e registrado na auditoria como 'faria'; "
        "nada é escrito no Bling e nenhum contador é consumido."
    ),
    RuntimeSettings.Mode.LIVE: _(
        "Ao vivo: códigos, inativações e reativações são escritos no Bling."
    ),
    RuntimeSettings.Mode.PAUSED: _(
        "Pausado: nada é processado; os webhooks continuam sendo guardados e serão "
        "processados quando o modo mudar."
    ),
}


def deposit_field(*, current: int | None, label: Any) -> forms.TypedChoiceField:
    """The deposit setting as a choice among the account's deposits (blank = all of them).

    The deposit set now stays a choice even when Bling no longer lists it (or cannot be
    asked): saving the page never changes it behind staff's back.
    """
    deposits = deposits_available()
    choices: list[tuple[Any, str]] = [("", gettext("Todos os depósitos (soma dos saldos)"))]
    for deposit in deposits or []:
        text = deposit.description or gettext("Depósito %(id)s") % {"id": deposit.id}
        if deposit.default:
            text = gettext("%(name)s (padrão do Bling)") % {"name": text}
        choices.append((deposit.id, text))
    if current and all(value != current for value, _text in choices):
        choices.append(
            (current, gettext("Depósito %(id)s (não listado pelo Bling)") % {"id": current})
        )
    help_text = gettext("Vazio: soma de todos os depósitos.")
    if deposits is None:
        help_text += " " + gettext(
            "Não foi possível ler os depósitos do Bling agora (não conectado ou indisponível); "
            "o depósito atual é mantido."
        )
    return forms.TypedChoiceField(
        label=label,
        choices=choices,
        coerce=int,
        empty_value=None,
        required=False,
        help_text=help_text,
    )


class RuntimeSettingsForm(forms.ModelForm):
    confirm_live = forms.BooleanField(
        label=_("Confirmo a mudança para o modo ao vivo"),
        required=False,
        help_text=_(
            "Obrigatório ao mudar para 'ao vivo': a partir daí as mudanças são escritas no Bling."
        ),
    )

    class Meta:
        model = RuntimeSettings
        fields = [
            "mode",
            "confirm_live",
            "sweep_page_size",
            "stock_debounce_seconds",
            "event_retention_days",
            "sold_out_grace_minutes",
            "stock_deposit_id",
        ]
        widgets = {"mode": forms.RadioSelect}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if "stock_deposit_id" in self.fields:
            self.fields["stock_deposit_id"] = deposit_field(
                current=self.instance.stock_deposit_id if self.instance else None,
                label=self.fields["stock_deposit_id"].label,
            )
        if "mode" not in self.fields:
            return  # read-only for a user who may not change the mode
        # The model field has choices, so its form field is a (typed) choice field.
        mode_field = cast(forms.ChoiceField, self.fields["mode"])
        mode_field.choices = [
            (value, MODE_EXPLANATIONS[value]) for value in RuntimeSettings.Mode.values
        ]
        mode_field.help_text = ""

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        # ModelForm.clean returns cleaned_data; django-stubs allows None for overrides.
        assert cleaned is not None
        switching_to_live = (
            cleaned.get("mode") == RuntimeSettings.Mode.LIVE
            and self.initial.get("mode") != RuntimeSettings.Mode.LIVE
        )
        if switching_to_live and not cleaned.get("confirm_live"):
            self.add_error(
                "confirm_live",
                _("Marque a confirmação para mudar para o modo ao vivo."),
            )
        return cleaned


@admin.register(RuntimeSettings)
class RuntimeSettingsAdmin(admin.ModelAdmin):
    form = RuntimeSettingsForm
    readonly_fields = ["updated_at", "updated_by"]
    fieldsets = [
        (_("Modo"), {"fields": ["mode", "confirm_live"]}),
        (
            _("Varreduras e eventos"),
            {
                "fields": [
                    "sweep_page_size",
                    "stock_debounce_seconds",
                    "event_retention_days",
                    "sold_out_grace_minutes",
                    "stock_deposit_id",
                ]
            },
        ),
        (_("Última alteração"), {"fields": ["updated_at", "updated_by"]}),
    ]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def get_readonly_fields(self, request: HttpRequest, obj=None):
        # The mode needs its own permission; the other settings need the change permission.
        if request.user.has_perm(CHANGE_MODE):
            return self.readonly_fields
        return ["mode", *self.readonly_fields]

    def get_fieldsets(self, request: HttpRequest, obj=None):
        if request.user.has_perm(CHANGE_MODE):
            return self.fieldsets
        return [
            (title, {**box, "fields": [f for f in box["fields"] if f != "confirm_live"]})
            for title, box in self.fieldsets
        ]

    def changelist_view(self, request: HttpRequest, extra_context=None) -> HttpResponse:
        # A single row: the list would only ever hold it, so go straight to it.
        row = RuntimeSettings.load()
        return HttpResponseRedirect(
            reverse("admin:blingsync_runtimesettings_change", args=[row.pk])
        )

    def change_view(self, request, object_id, form_url="", extra_context=None):
        RuntimeSettings.load()  # a new install has no row until someone asks for it
        return super().change_view(request, object_id, form_url, extra_context)

    def save_model(self, request: HttpRequest, obj: RuntimeSettings, form, change) -> None:
        actor = request.user.get_username()
        new_mode = obj.mode
        if "mode" in form.changed_data:
            permission_require(request, CHANGE_MODE)
            # The mode goes through mode_set so the switch is audited like any other change.
            obj.mode = form.initial.get("mode", RuntimeSettings.Mode.DRY_RUN)
        obj.updated_by = actor
        super().save_model(request, obj, form, change)
        if "stock_deposit_id" in form.changed_data:
            # The stock counted changes for every product: the next stock sweep is full.
            sweep_full_request(
                kinds=["stock"],
                reason=f"depósito de estoque alterado por {actor} "
                f"({form.initial.get('stock_deposit_id') or 'todos'} → "
                f"{obj.stock_deposit_id or 'todos'})",
            )
        if new_mode != obj.mode:
            mode_set(mode=new_mode, actor=actor, source=AuditLog.Source.ADMIN)
            obj.refresh_from_db()
            self.message_user(
                request,
                gettext("Modo alterado para: %(mode)s.") % {"mode": obj.get_mode_display()},
                messages.WARNING if new_mode == RuntimeSettings.Mode.LIVE else messages.INFO,
            )
