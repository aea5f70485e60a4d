"""Every admin page of every registered model (ours, the products', the webhooks', django-q's,
auth's) answers 200 for staff and sends anonymous visitors to the login page.

The models are discovered from `admin.site._registry`, so a model registered later is
covered without touching this test. Change, delete and history pages are checked on one row of every
model: made by our baseline, or generically from the model's required fields.
"""

from __future__ import annotations

import uuid

import pytest
from django.contrib import admin
from django.core.management import call_command
from django.db import models, transaction
from django.urls import reverse
from django.utils import timezone
from django_q.models import OrmQ, Task
from django_q.signing import SignedPackage

from blingsync.audit import audit_record
from blingsync.jobrunner import job_run_now
from blingsync.models import AuditLog, BlingConnection, JobRun, RuntimeSettings
from webhooks.models import WebhookEvent

pytestmark = pytest.mark.django_db

MODEL_ADMINS = sorted(admin.site._registry.items(), key=lambda item: item[0]._meta.label)
IDS = [model._meta.label for model, _model_admin in MODEL_ADMINS]
EXTRA_PAGES = [
    "/dashboard/",
    "/admin/",
    "/admin/blingsync/jobrun/run-now/",
    "/admin/blingsync/auditlog/export-csv/",
]


@pytest.fixture
def baseline(recorded_jobs, staff_user):
    """One row of every model we know how to make, so change pages have something to show."""
    call_command("setup_schedules", stdout=open("/dev/null", "w"))  # noqa: SIM115
    RuntimeSettings.load()
    run = job_run_now(kind="codes", trigger=JobRun.Trigger.COMMAND)
    audit_record(action=AuditLog.Action.COUNTER_ADJUSTED, code="TEMO00001")
    BlingConnection.objects.create(company_name="Loja", status="connected")
    WebhookEvent.objects.create(event_id="evt-1", event_type="product.created", body="{}")
    now = timezone.now()
    for success in (True, False):
        Task.objects.create(
            id=uuid.uuid4().hex,
            name=f"task-{success}",
            func="blingsync.tasks.job_run_task",
            args=(run.pk,),
            kwargs={},
            started=now,
            stopped=now,
            success=success,
            result="ok" if success else "Traceback: boom",
        )
    OrmQ.objects.create(
        key="blingsync",
        payload=SignedPackage.dumps(
            {
                "id": uuid.uuid4().hex,
                "name": "queued",
                "func": "blingsync.tasks.job_run_task",
                "args": (run.pk,),
                "kwargs": {},
                "group": None,
            }
        ),
    )
    # Whatever else is registered (products, webhooks...) gets a row made from its fields.
    for model in admin.site._registry:
        instance_make(model)


def _field_value(field):
    """A plausible value for a required field (first choice, a number, a text, now...)."""
    if field.choices:
        return field.choices[0][0]
    if isinstance(field, models.BooleanField):
        return False
    if isinstance(field, models.DateTimeField):
        return timezone.now()
    if isinstance(field, models.DateField):
        return timezone.localdate()
    if isinstance(field, models.DecimalField):
        return 1
    if isinstance(field, models.IntegerField | models.FloatField):
        return 1
    if isinstance(field, models.JSONField):
        return {}
    if isinstance(field, models.GenericIPAddressField):
        return "127.0.0.1"
    if isinstance(field, models.CharField | models.TextField):
        return "X"[: field.max_length or 1]
    raise ValueError(f"no value for {field!r}")


def instance_make(model, depth: int = 0):
    """One row of `model` with its required fields filled (and required foreign keys made
    the same way), or None when the model refuses such a row (constraints, clean)."""
    existing = model._default_manager.first()
    if existing is not None or depth > 3:
        return existing
    values = {}
    for field in model._meta.concrete_fields:
        if field.primary_key and field.auto_created:
            continue
        if field.has_default() or field.null or getattr(field, "auto_now_add", False):
            continue
        if getattr(field, "auto_now", False):
            continue
        if field.is_relation:
            related = instance_make(field.related_model, depth + 1)
            if related is None:
                return None
            values[field.name] = related
            continue
        try:
            values[field.name] = _field_value(field)
        except ValueError:
            return None
    try:
        with transaction.atomic():
            return model._default_manager.create(**values)
    except Exception:
        return None


def admin_urls(model, model_admin, request) -> list[str]:
    info = (model._meta.app_label, model._meta.model_name)
    urls = [reverse("admin:{}_{}_changelist".format(*info))]
    if model_admin.has_add_permission(request):
        urls.append(reverse("admin:{}_{}_add".format(*info)))
    obj = model_admin.get_queryset(request).first()
    if obj is not None:
        urls.append(reverse("admin:{}_{}_change".format(*info), args=[obj.pk]))
        if model_admin.has_delete_permission(request, obj):
            urls.append(reverse("admin:{}_{}_delete".format(*info), args=[obj.pk]))
        urls.append(reverse("admin:{}_{}_history".format(*info), args=[obj.pk]))
    return urls


@pytest.mark.parametrize("model,model_admin", MODEL_ADMINS, ids=IDS)
def test_every_admin_page_answers_staff(model, model_admin, baseline, staff_user, client, rf):
    client.force_login(staff_user)
    request = rf.get("/admin/")
    request.user = staff_user
    urls = admin_urls(model, model_admin, request)
    for url in urls:
        response = client.get(url, follow=True)
        assert response.status_code == 200, url
        assert response.redirect_chain == [] or model is RuntimeSettings, url


@pytest.mark.parametrize("model,model_admin", MODEL_ADMINS, ids=IDS)
def test_every_admin_page_sends_anonymous_visitors_to_the_login(
    model, model_admin, baseline, staff_user, client, rf
):
    request = rf.get("/admin/")
    request.user = staff_user
    for url in admin_urls(model, model_admin, request):
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith("/admin/login/"), url


@pytest.mark.parametrize("url", EXTRA_PAGES)
def test_our_own_pages_answer_staff_and_send_anonymous_to_the_login(
    url, baseline, staff_user, client
):
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")
    client.force_login(staff_user)
    assert client.get(url).status_code == 200
