"""Admin faces of operations: the alerts' models, the runtime settings (the mode, with a
confirmation for live) and django-q's schedules in Portuguese.

Admin autodiscovery imports this package only: importing the modules here registers them.
"""

from blingsync.operations.admin import alerts, runtime_settings, schedules  # noqa: F401
