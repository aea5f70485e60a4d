"""Fixtures of the alert tests: staff with and without the permission to receive alerts, the
mail outbox (locmem backend) and a way to run what is queued after commit."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth.models import Group, Permission

GESTAO = "blingsync – gestão"
SITE = "http://blingsync.example"


def permission(app_label: str, codename: str) -> Permission:
    return Permission.objects.get(content_type__app_label=app_label, codename=codename)


@pytest.fixture(autouse=True)
def mail_settings(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.SITE_URL = SITE
    settings.ALERTS_TO = []
    settings.ALERTS_FROM = "alertas@loja.example"
    settings.LANGUAGE_CODE = "pt-br"
    return settings


@pytest.fixture
def gestao_group(db) -> Group:
    """The group the data migration gives `receive_alerts` (re-created when an earlier
    transactional test flushed it)."""
    group, _created = Group.objects.get_or_create(name=GESTAO)
    group.permissions.add(permission("alerts", "receive_alerts"))
    return group


def staff(django_user_model, username: str, *, email: str, perms=(), groups=()):
    user = django_user_model.objects.create_user(
        username=username, email=email, password="senha-forte-123", is_staff=True
    )
    for app_label, codename in perms:
        user.user_permissions.add(permission(app_label, codename))
    for group in groups:
        user.groups.add(group)
    return user


@pytest.fixture
def manager(django_user_model, gestao_group):
    """Non-superuser staff of "gestão": receives alerts and may open the pages they link."""
    return staff(
        django_user_model,
        "gestora",
        email="gestora@loja.example",
        groups=[gestao_group],
        perms=[
            ("webhooks", "view_webhookevent"),
            ("blingsync", "view_auditlog"),
            ("alerts", "view_alertmessage"),
        ],
    )


@pytest.fixture
def operator(django_user_model, db):
    """Staff without the permission to receive alerts (but with an e-mail address)."""
    return staff(
        django_user_model,
        "operador",
        email="operador@loja.example",
        perms=[("webhooks", "view_webhookevent"), ("blingsync", "view_auditlog")],
    )


@pytest.fixture
def run_after_commit(django_capture_on_commit_callbacks):
    """Run a block and then what it queued after commit (the alert checks and sends; django-q
    runs tasks inline in the tests)."""

    class _Runner:
        def __call__(self, func, *args, **kwargs):
            with django_capture_on_commit_callbacks(execute=True):
                return func(*args, **kwargs)

    return _Runner()


def link_in(text: str) -> str:
    """The first absolute link to the site in a message body."""
    match = re.search(re.escape(SITE) + r"[^\s\"<]*", text)
    assert match, text
    return match.group(0)


def site_path(link: str) -> str:
    assert link.startswith(SITE), link
    return link[len(SITE) :].replace("&amp;", "&")
