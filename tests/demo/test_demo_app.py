"""The app's side of the demonstration: DEMO refuses Bling addresses off loopback, the gestão
user the demo prints, and the banner on every admin page."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import CommandError

from blingsync.demo_guard import demo_addresses_problem
from blingsync.roles import ROLE_MANAGEMENT

REPO = Path(__file__).resolve().parents[2]


def test_demo_addresses_must_all_be_on_loopback():
    good = {"api": "http://127.0.0.1:8900/Api/v3", "page": "http://localhost:8900/sandbox/"}
    assert demo_addresses_problem(addresses=good) == ""
    problem = demo_addresses_problem(
        addresses={**good, "BLING_API_BASE_URL": "https://api.bling.com.br/Api/v3"}
    )
    assert "BLING_API_BASE_URL" in problem and "api.bling.com.br" in problem
    assert demo_addresses_problem(addresses={"BLING_AUTHORIZE_URL": ""})
    assert demo_addresses_problem(addresses={"x": "http://127.0.0.1.example.com/"})


def test_a_demonstration_pointed_at_a_real_bling_refuses_to_start(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "BLING", "PYTEST"))}
    env.update(
        {
            "DEMO": "true",
            "DEBUG": "true",
            "DATABASE_URL": f"sqlite:///{tmp_path / 'x.sqlite3'}",
            "BLING_API_BASE_URL": "http://127.0.0.1:8900/Api/v3",
            "BLING_REDIRECT_URI": "http://127.0.0.1:8000/bling/callback/",
            "DEMO_SANDBOX_URL": "http://127.0.0.1:8900/sandbox/",
            # BLING_AUTHORIZE_URL left to its default: Bling's real page
        }
    )
    out = subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert out.returncode != 0
    assert "BLING_AUTHORIZE_URL must point at the sandbox" in out.stderr


@pytest.mark.django_db
def test_demo_setup_runs_only_in_a_demonstration(settings, monkeypatch):
    monkeypatch.setenv("DEMO_PASSWORD", "uma-senha-longa-123")
    settings.DEMO = False
    with pytest.raises(CommandError, match="só roda na demonstração"):
        call_command("demo_setup", "--username", "gestao")
    assert not get_user_model().objects.filter(username="gestao").exists()


@pytest.mark.django_db
def test_demo_setup_makes_a_gestao_member_who_is_not_a_superuser(settings, monkeypatch):
    settings.DEMO = True
    monkeypatch.setenv("DEMO_PASSWORD", "short")
    with pytest.raises(CommandError, match="DEMO_PASSWORD"):
        call_command("demo_setup")
    monkeypatch.setenv("DEMO_PASSWORD", "uma-senha-longa-123")
    call_command("demo_setup", "--username", "gestao")
    user = get_user_model().objects.get(username="gestao")
    assert user.is_staff and not user.is_superuser
    assert list(user.groups.values_list("name", flat=True)) == [ROLE_MANAGEMENT]
    assert user.check_password("uma-senha-longa-123")


@pytest.mark.django_db
def test_every_admin_page_says_it_is_a_demonstration(settings, role_client, client):
    settings.DEMO_SANDBOX_URL = "http://127.0.0.1:8900/sandbox/"
    settings.DEMO = False
    staff = role_client("operacao")
    assert 'id="demo-banner"' not in staff.get("/dashboard/").content.decode()
    settings.DEMO = True
    for url in ("/dashboard/", "/admin/", "/admin/blingsync/jobrun/", "/admin/products/category/"):
        page = staff.get(url).content.decode()
        assert 'id="demo-banner"' in page, url
        assert 'href="http://127.0.0.1:8900/sandbox/"' in page
    staff.logout()
    assert 'id="demo-banner"' in client.get("/admin/login/").content.decode()
