"""Core models: the Bling connection, runtime settings, job runs and the audit log.

BlingConnection and RateLimitBucket are defined beside the client that owns them
(`blingsync.bling.models`) and re-exported here.
"""

from blingsync.bling.models import BlingConnection, RateLimitBucket
from blingsync.models.audit import AuditLog
from blingsync.models.jobs import JobRun
from blingsync.models.runtime import RuntimeSettings
from blingsync.models.sweeps import SweepFullRequest

__all__ = [
    "AuditLog",
    "BlingConnection",
    "JobRun",
    "RateLimitBucket",
    "RuntimeSettings",
    "SweepFullRequest",
]
