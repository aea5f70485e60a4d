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
# The Procfile's variables: the environment first, then .env, then the defaults (as the
# settings read theirs). honcho gets no .env of its own (`-e /dev/null` below): it would let
# .env override the environment.
dotenv_value() { sed -n "s/^$1=//p" .env | tail -n 1 | sed -e 's/^"\(.*\)"$/\1/' -e "s/^'\(.*\)'$/\1/"; }
for name in PORT BIND_ADDRESS WEB_CONCURRENCY FORWARDED_ALLOW_IPS; do
  if [ -z "${!name:-}" ] && [ -n "$(dotenv_value "$name")" ]; then
    export "$name=$(dotenv_value "$name")"
  fi
done
export PORT="${PORT:-8000}"
# Loopback only unless told otherwise (BIND_ADDRESS=0.0.0.0 listens on every interface).
export BIND_ADDRESS="${BIND_ADDRESS:-127.0.0.1}"
# One clock in every log line (ours, gunicorn's, django-q's, the process prefixes): the
# site's TIME_ZONE (from .env or the environment), with its UTC offset.
TZ=$($PY -c 'import os; os.environ.setdefault("DJANGO_SETTINGS_MODULE", "blingsync.settings"); from django.conf import settings; print(settings.TIME_ZONE)')
export TZ
$PY manage.py migrate --noinput
$PY manage.py collectstatic --noinput -v 0
$PY manage.py setup_schedules
$PY manage.py ensure_admin
echo "blingsync: listening on ${BIND_ADDRESS}:${PORT}; admin at http://localhost:${PORT}/admin/  health at http://localhost:${PORT}/health/"
exec $PY scripts/procs.py
