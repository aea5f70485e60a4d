"""Small things of a first hour: a favicon (no 404 per page), ensure_admin naming what it
creates (a superuser)."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command

pytestmark = pytest.mark.django_db


def test_favicon_is_served(client):
    response = client.get("/favicon.ico")
    assert response.status_code == 301
    assert response["Location"].endswith("favicon.svg")
    from django.contrib.staticfiles import finders

    assert finders.find("favicon.svg")


def test_admin_pages_link_the_icon(admin_client):
    assert 'rel="icon"' in admin_client.get("/admin/").content.decode()


def test_ensure_admin_says_superuser(monkeypatch, django_user_model):
    monkeypatch.setenv("ADMIN_USER", "ana")
    monkeypatch.setenv("ADMIN_PASSWORD", "uma-senha-bem-longa-123")
    out = io.StringIO()
    call_command("ensure_admin", stdout=out)
    assert "superusuário 'ana' criado" in out.getvalue()
    assert "staff user" not in out.getvalue()
    assert django_user_model.objects.get(username="ana").is_superuser


def test_log_lines_carry_the_local_time_with_its_offset(settings):
    """One clock in the logs: our lines in TIME_ZONE with the offset, like gunicorn's."""
    import logging
    import re
    import time

    from blingsync.log_redaction import RedactingFormatter

    line = settings.LOGGING["formatters"]["line"]
    formatter = RedactingFormatter(fmt=line["fmt"], datefmt=line["datefmt"])
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "oi", None, None)
    text = formatter.format(record)
    offset = time.strftime("%z", time.localtime(record.created))
    assert re.match(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2} [+-]\d{4} INFO", text)
    assert f" {offset} " in text
    # The process clock is the site's TIME_ZONE (Django sets TZ from it).
    from datetime import datetime
    from zoneinfo import ZoneInfo

    assert datetime.now(ZoneInfo(settings.TIME_ZONE)).strftime("%z") == offset
