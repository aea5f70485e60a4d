"""Admin of the category mirror and its rules.

Categories are Bling's (read-only here, refreshed by `sync_categories`); staff edit the rule
of a category inline and see, next to each category, the result: effective prefix, effective
code policy and whether sold-out products are deactivated, with the category that decided.
Every rule edit is audited (`rule_changed`).
"""

from __future__ import annotations

from contextvars import ContextVar
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.forms.models import model_to_dict
from django.http import HttpRequest
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from blingsync.audit import audit_record
from blingsync.jobrunner import job_run_queue
from blingsync.models import AuditLog, JobRun
from blingsync.permissions import EDIT_RULES, RUN_LIVE, permission_require
from blingsync.sweep_cursor import sweep_full_request
from products.category_sync import RULE_SWEEP_KINDS
from products.code_rules import GENERATE, SKIP, SUBCATEGORY, CategoryNode, EffectiveRule
from products.models import Category, CategoryRule
from products.selectors import category_nodes_load, category_rule_effective

_RULE_FIELDS = ("category", "name_match", "prefix", "code_policy", "deactivate_when_sold_out")
_POLICY_LABELS = {
    GENERATE: _("gera código"),
    SUBCATEGORY: _("usa o prefixo da subcategoria"),
    SKIP: _("não gera código"),
}

# The mirror and rules, loaded once per admin page rather than once per row.
_nodes: ContextVar[dict[int, CategoryNode] | None] = ContextVar("category_nodes", default=None)


def _effective(category_id: int) -> EffectiveRule:
    nodes = _nodes.get()
    if nodes is None:
        nodes = category_nodes_load()
    return category_rule_effective(category_id=category_id, nodes=nodes)


def _with_nodes(view):
    def wrapper(self, request, *args, **kwargs):
        token = _nodes.set(category_nodes_load())
        try:
            response = view(self, request, *args, **kwargs)
            if hasattr(response, "render") and not getattr(response, "is_rendered", True):
                response.render()  # render while the nodes are loaded
            return response
        finally:
            _nodes.reset(token)

    return wrapper


def _rule_snapshot(rule: CategoryRule | None) -> dict[str, Any] | None:
    if rule is None:
        return None
    data = model_to_dict(rule, fields=_RULE_FIELDS)
    data["category"] = rule.category_id
    return data


def rule_change_record(
    *, before: dict[str, Any] | None, rule: CategoryRule | None, actor: str, what: str
) -> None:
    """Audit a staff edit of a rule (`rule_changed`), with the values before and after, and
    make the next code and stock sweeps full: a rule decides which products those sweeps
    must cover, and products untouched since the last run would otherwise never be listed."""
    after = _rule_snapshot(rule)
    if before == after:
        return
    sweep_full_request(
        kinds=RULE_SWEEP_KINDS,
        reason=f"regra de categoria {what} por {actor} ({_rule_label(before, rule)})",
    )
    audit_record(
        action=AuditLog.Action.RULE_CHANGED,
        before=before,
        after=after,
        reason=f"regra de categoria {what} por {actor}",
        reason_rule="rule.edited",
        reason_data={"what": what, "actor": actor},
        actor=actor,
        source=AuditLog.Source.ADMIN,
    )


def _rule_label(before: dict[str, Any] | None, rule: CategoryRule | None) -> str:
    category_id = rule.category_id if rule is not None else (before or {}).get("category")
    category = Category.objects.filter(pk=category_id).first() if category_id else None
    if category is not None:
        return category.full_path
    return (rule.name_match if rule is not None else (before or {}).get("name_match")) or "?"


class _InheritedBooleanSelect(forms.NullBooleanSelect):
    """Yes / no / inherited: an empty choice is "Herdado" (as the field's help says), not
    Django's "Desconhecido"."""

    def __init__(self, attrs=None):
        super().__init__(attrs)
        self.choices = [
            ("unknown", _("Herdado (da categoria pai)")),
            ("true", _("Sim")),
            ("false", _("Não")),
        ]


class CategoryRuleForm(forms.ModelForm):
    class Meta:
        model = CategoryRule
        fields = ["category", "name_match", "prefix", "code_policy", "deactivate_when_sold_out"]
        widgets = {"deactivate_when_sold_out": _InheritedBooleanSelect}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        policy = self.fields.get("code_policy")
        if isinstance(policy, forms.TypedChoiceField | forms.ChoiceField):
            policy.choices = [("", _("Herdada (da categoria pai)"))] + [
                c for c in CategoryRule.CodePolicy.choices if c[0]
            ]


def _inherited_text(value: bool | str | None, labels: dict | None = None) -> str:
    """A rule's own setting in words; unset reads "herdado"."""
    if value is None or value == "":
        return str(_("herdado"))
    if isinstance(value, bool):
        return str(_("sim") if value else _("não"))
    return str((labels or {}).get(value, value))


class _DeactivationFilter(admin.SimpleListFilter):
    title = _("inativar quando esgotado")
    parameter_name = "deactivate"

    def lookups(self, request, model_admin):
        return [("yes", _("sim")), ("no", _("não")), ("inherited", _("herdado"))]

    def queryset(self, request, queryset):
        value = {"yes": True, "no": False, "inherited": None}.get(self.value() or "", "")
        if value == "":
            return queryset
        if value is None:
            return queryset.filter(deactivate_when_sold_out__isnull=True)
        return queryset.filter(deactivate_when_sold_out=value)


class _RemovedFilter(admin.SimpleListFilter):
    title = _("situação no Bling")
    parameter_name = "removed"

    def lookups(self, request, model_admin):
        return [("no", _("existe no Bling")), ("yes", _("removida do Bling"))]

    def queryset(self, request, queryset):
        if self.value() == "no":
            return queryset.filter(removed_at__isnull=True)
        if self.value() == "yes":
            return queryset.filter(removed_at__isnull=False)
        return queryset


class _HasRuleFilter(admin.SimpleListFilter):
    title = _("regra própria")
    parameter_name = "has_rule"

    def lookups(self, request, model_admin):
        return [("yes", _("com regra própria")), ("no", _("herda / padrão"))]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(rule__isnull=False)
        if self.value() == "no":
            return queryset.filter(rule__isnull=True)
        return queryset


class CategoryRuleInline(admin.StackedInline):
    model = CategoryRule
    form = CategoryRuleForm
    fk_name = "category"
    extra = 1
    max_num = 1
    can_delete = True
    fields = ["prefix", "code_policy", "deactivate_when_sold_out", "name_match"]
    readonly_fields = ["name_match"]
    verbose_name = _("regra desta categoria")
    verbose_name_plural = _("regra desta categoria")

    def has_add_permission(self, request: HttpRequest, obj=None) -> bool:
        return request.user.has_perm(EDIT_RULES)

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return request.user.has_perm(EDIT_RULES)

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return request.user.has_perm(EDIT_RULES)


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
    list_display = [
        "full_path",
        "id",
        "effective_prefix",
        "effective_policy",
        "effective_deactivation",
        "own_rule",
        "removed_display",
    ]
    list_filter = [_RemovedFilter, _HasRuleFilter]
    search_fields = ["full_path", "description", "=id"]
    search_help_text = _("Busque pelo nome, caminho ou id da categoria no Bling.")
    list_select_related = ["rule"]
    readonly_fields = [
        "id",
        "description",
        "full_path",
        "parent",
        "removed_at",
        "synced_at",
        "effective_prefix",
        "effective_policy",
        "effective_deactivation",
    ]
    # A copy: django-stubs types `fields` (groups of names) apart from `readonly_fields`.
    fields = list(readonly_fields)
    inlines = [CategoryRuleInline]
    actions = ["sync_now"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # categories come from Bling

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False  # removed categories are marked, never deleted

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        # A category's only editable part is its rule.
        return request.user.has_perm(EDIT_RULES)

    def has_sync_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm(RUN_LIVE)

    changelist_view = _with_nodes(admin.ModelAdmin.changelist_view)
    change_view = _with_nodes(admin.ModelAdmin.change_view)

    @admin.display(description=_("prefixo efetivo"))
    def effective_prefix(self, obj: Category) -> str:
        rule = _effective(obj.id)
        if not rule.prefix:
            return "—"
        return f"{rule.prefix} ({rule.prefix_source})"

    @admin.display(description=_("política efetiva"))
    def effective_policy(self, obj: Category) -> str:
        rule = _effective(obj.id)
        return f"{_POLICY_LABELS.get(rule.code_policy, rule.code_policy)} ({rule.policy_source})"

    @admin.display(description=_("inativa quando esgotado"))
    def effective_deactivation(self, obj: Category) -> str:
        rule = _effective(obj.id)
        answer = _("sim") if rule.deactivate_when_sold_out else _("não")
        return f"{answer} ({rule.deactivation_source})"

    @admin.display(description=_("regra própria"), boolean=True)
    def own_rule(self, obj: Category) -> bool:
        return hasattr(obj, "rule")

    @admin.display(description=_("removida do Bling"), boolean=True, ordering="removed_at")
    def removed_display(self, obj: Category) -> bool:
        return obj.removed_at is not None

    def save_formset(self, request, form, formset, change):
        before = {
            f.instance.pk: _rule_snapshot(CategoryRule.objects.filter(pk=f.instance.pk).first())
            for f in formset.forms
            if f.instance.pk
        }
        super().save_formset(request, form, formset, change)
        actor = request.user.get_username()
        for rule in formset.new_objects:
            rule_change_record(before=None, rule=rule, actor=actor, what="criada")
        for rule, _changed in formset.changed_objects:
            rule_change_record(before=before.get(rule.pk), rule=rule, actor=actor, what="alterada")
        for rule in formset.deleted_objects:
            rule_change_record(before=before.get(rule.pk), rule=None, actor=actor, what="removida")

    @admin.action(description=_("Sincronizar categorias com o Bling agora"), permissions=["sync"])
    def sync_now(self, request: HttpRequest, queryset: QuerySet) -> None:
        permission_require(request, RUN_LIVE)
        run = job_run_queue(
            kind="categories",
            trigger=JobRun.Trigger.ADMIN,
            requested_by=request.user.get_username(),
        )
        self.message_user(
            request,
            _("Sincronização de categorias enfileirada (execução #%(id)s).") % {"id": run.pk},
            messages.SUCCESS,
        )


@admin.register(CategoryRule)
class CategoryRuleAdmin(admin.ModelAdmin):
    """All rules, including those by name not attached to a mirrored category yet."""

    form = CategoryRuleForm
    list_display = [
        "__str__",
        "prefix",
        "policy_display",
        "deactivation_display",
        "effective_prefix",
    ]
    list_filter = [
        "code_policy",
        _DeactivationFilter,
        ("category", admin.EmptyFieldListFilter),
    ]
    search_fields = ["name_match", "category__full_path", "prefix"]
    list_select_related = ["category"]
    autocomplete_fields = ["category"]
    fields = ["category", "name_match", "prefix", "code_policy", "deactivate_when_sold_out"]

    changelist_view = _with_nodes(admin.ModelAdmin.changelist_view)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm(EDIT_RULES)

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return request.user.has_perm(EDIT_RULES)

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return request.user.has_perm(EDIT_RULES)

    @admin.display(description=_("política de código"), ordering="code_policy")
    def policy_display(self, obj: CategoryRule) -> str:
        return _inherited_text(obj.code_policy, dict(CategoryRule.CodePolicy.choices))

    @admin.display(description=_("inativar quando esgotado"), ordering="deactivate_when_sold_out")
    def deactivation_display(self, obj: CategoryRule) -> str:
        return _inherited_text(obj.deactivate_when_sold_out)

    @admin.display(description=_("prefixo efetivo"))
    def effective_prefix(self, obj: CategoryRule) -> str | Promise:
        if obj.category_id is None:
            return _("(categoria ainda não espelhada)")
        return _effective(obj.category_id).prefix or "—"

    def save_model(self, request, obj, form, change):
        before = _rule_snapshot(CategoryRule.objects.filter(pk=obj.pk).first()) if change else None
        super().save_model(request, obj, form, change)
        rule_change_record(
            before=before,
            rule=obj,
            actor=request.user.get_username(),
            what="alterada" if change else "criada",
        )

    def delete_model(self, request, obj):
        before = _rule_snapshot(obj)
        super().delete_model(request, obj)
        rule_change_record(
            before=before, rule=None, actor=request.user.get_username(), what="removida"
        )

    def delete_queryset(self, request, queryset):
        for rule in queryset:
            self.delete_model(request, rule)
