"""gunicorn reads this file from the project root (also under the Procfile in production).

One clock in the logs: loading the Django settings sets the process's TZ to TIME_ZONE, so
gunicorn's own lines and its access log use the site's local time with its offset, like the
app's lines (the workers already did; the master did not).
"""

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "blingsync.settings")
try:
    from django.conf import settings

    settings.TIME_ZONE  # noqa: B018 (loading the settings sets TZ)
except Exception:  # noqa: BLE001 (a settings error is reported by the workers, with its reason)
    pass
