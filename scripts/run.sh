#!/usr/bin/env bash
# `make run`: prepare the database and static files, then run the web server (gunicorn) and
# the task cluster (django-q2) together until Ctrl-C or SIGTERM (scripts/procs.py stops both,
# giving them STOP_TIMEOUT seconds, and exits 0 on a clean stop).
set -euo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin/python

if [ ! -f .env ]; then
  # A local secret key, kept in .env (ignored by git) so sessions and encrypted tokens
  # survive restarts.
  key=$($PY -c 'import secrets; print(secrets.token_urlsafe(50))')
  printf '# Written by `make run` on first start; see .env.example for every setting.\nSECRET_KEY=%s\n' "$key" > .env
  echo "wrote .env with a new SECRET_KEY"
fi

# The Procfile names plain `python` and `gunicorn`: use the project virtualenv's.
export PATH="$PWD/.venv/bin:$PATH"
export PORT="${PORT:-8000}"
# One clock in every log line (ours, gunicorn's, django-q's, the process prefixes): the
# site's TIME_ZONE (from .env or the environment), with its UTC offset.
TZ=$($PY -c 'import os; os.environ.setdefault("DJANGO_SETTINGS_MODULE", "blingsync.settings"); from django.conf import settings; print(settings.TIME_ZONE)')
export TZ
$PY manage.py migrate --noinput
$PY manage.py collectstatic --noinput -v 0
$PY manage.py setup_schedules
$PY manage.py ensure_admin
echo "blingsync: admin at http://localhost:${PORT}/admin/  health at http://localhost:${PORT}/health/"
exec $PY scripts/procs.py
