"""Settings are read from the environment exactly as SPEC section 3 names them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

_DUMP = (
    "import json, django; from django.conf import settings; django.setup();"
    "db = settings.DATABASES['default'];"
    "print(json.dumps({'engine': db['ENGINE'], 'name': str(db['NAME']),"
    " 'options': db.get('OPTIONS', {}), 'broker': settings.Q_BROKER,"
    " 'q': {k: settings.Q_CLUSTER.get(k) for k in ('timeout','retry','max_attempts','catch_up','orm','redis')},"
    " 'lang': settings.LANGUAGE_CODE, 'tz': settings.TIME_ZONE,"
    " 'static': settings.STORAGES['staticfiles']['BACKEND'],"
    " 'rate': [settings.BLING_RATE_PER_SECOND, settings.BLING_RATE_PER_DAY],"
    " 'base': settings.BLING_API_BASE_URL}))"
)


def _settings_with(env: dict[str, str]) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_URL", "BLING"))}
    clean.update(
        {
            "DJANGO_SETTINGS_MODULE": "blingsync.settings",
            "SECRET_KEY": "settings-test-" + "0123456789abcdef" * 3,
        }
    )
    clean.update(env)
    return subprocess.run(
        [sys.executable, "-c", _DUMP], cwd=ROOT, env=clean, capture_output=True, text=True
    )


def _dump(env: dict[str, str]) -> dict:
    result = _settings_with(env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_it_defaults_to_sqlite_with_wal_and_immediate_transactions():
    data = _dump({"DATABASE_URL": "sqlite:///db.sqlite3"})
    assert data["engine"] == "django.db.backends.sqlite3"
    assert data["name"] == str(ROOT / "db.sqlite3")
    assert data["options"]["transaction_mode"] == "IMMEDIATE"
    assert "journal_mode=WAL" in data["options"]["init_command"]


def test_it_switches_to_postgresql_from_database_url():
    data = _dump({"DATABASE_URL": "postgres://u:p@db.example:5432/blingsync"})
    assert data["engine"] == "django.db.backends.postgresql"
    assert data["name"] == "blingsync"


def test_it_uses_the_orm_broker_by_default_and_redis_when_asked():
    orm = _dump({})
    assert orm["broker"] == "orm" and orm["q"]["orm"] == "default"
    assert orm["q"]["retry"] > orm["q"]["timeout"]
    assert orm["q"]["catch_up"] is False
    assert 1 <= orm["q"]["max_attempts"] <= 5
    redis = _dump({"Q_BROKER": "redis", "REDIS_URL": "redis://127.0.0.1:6379/3"})
    assert redis["q"]["redis"] == "redis://127.0.0.1:6379/3" and redis["q"]["orm"] is None


def test_it_defaults_to_brazilian_portuguese_and_sao_paulo_time():
    data = _dump({})
    assert data["lang"] == "pt-br"
    assert data["tz"] == "America/Sao_Paulo"
    assert data["rate"] == [3, 120000]
    assert data["base"] == "https://api.bling.com.br/Api/v3"


def test_it_uses_compressed_manifest_static_files_outside_tests():
    assert _dump({})["static"] == "whitenoise.storage.CompressedManifestStaticFilesStorage"


def test_it_refuses_to_start_without_a_secret_key_when_debug_is_off():
    result = _settings_with({"SECRET_KEY": "", "DEBUG": "false"})
    assert result.returncode != 0
    assert "SECRET_KEY is required" in result.stderr


def test_it_refuses_an_unknown_broker():
    result = _settings_with({"Q_BROKER": "rabbit"})
    assert result.returncode != 0
    assert "Q_BROKER" in result.stderr
