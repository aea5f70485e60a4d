"""Admin of the core app, one module per admin: job runs (run now, rerun), the read-only
audit log with its CSV export, the Bling connection, and django-q's tasks in Portuguese. The
runtime settings (the mode) and the schedules are operations faces
(`blingsync.operations.admin`).

Admin autodiscovery imports this package only: importing the modules here registers them.
Everything that takes time is queued (`job_run_queue`), never run inside the request.
"""

from blingsync.admin import (  # noqa: F401
    audit_csv,
    audit_log,
    connection,
    django_q_strings,
    django_q_tasks,
    jobs,
    readonly,
    site,
)
