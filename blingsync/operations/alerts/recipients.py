"""Who receives alerts and the daily summary (selectors: read only).

Alerts: active users allowed to receive them (the `alerts.receive_alerts` permission, given
directly or through a group such as "blingsync – gestão"; superusers have every permission)
who have an e-mail address, plus the `ALERTS_TO` addresses. The daily summary is opt-in: the
same users, only those who asked for it in their alert preferences.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.db.models import Q

PERMISSION_APP = "alerts"
PERMISSION_CODENAME = "receive_alerts"


@dataclass(frozen=True)
class Recipient:
    email: str
    language: str


def alert_recipients(*, daily_summary: bool = False) -> list[Recipient]:
    """Recipients of an alert (or, with `daily_summary`, of the summary), one per address."""
    site_language = settings.LANGUAGE_CODE
    found: dict[str, Recipient] = {}
    perm = Permission.objects.filter(
        codename=PERMISSION_CODENAME, content_type__app_label=PERMISSION_APP
    ).first()
    allowed = Q(is_superuser=True)
    if perm is not None:
        allowed |= Q(user_permissions=perm) | Q(groups__permissions=perm)
    users = (
        get_user_model()
        .objects.filter(is_active=True)
        .exclude(email="")
        .filter(allowed)
        .select_related("alert_preference")
        .distinct()
        .order_by("pk")
    )
    if daily_summary:
        users = users.filter(alert_preference__daily_summary=True)
    for user in users:
        pref = getattr(user, "alert_preference", None)
        language = (pref.language if pref else "") or site_language
        found.setdefault(user.email.strip().lower(), Recipient(user.email.strip(), language))
    if not daily_summary:
        for address in settings.ALERTS_TO:
            address = address.strip()
            if address:
                found.setdefault(address.lower(), Recipient(address, site_language))
    return list(found.values())


def recipients_by_language(recipients: list[Recipient]) -> dict[str, list[str]]:
    """{language: [addresses]}: one message per language."""
    groups: dict[str, list[str]] = defaultdict(list)
    for recipient in recipients:
        groups[recipient.language].append(recipient.email)
    return dict(groups)
