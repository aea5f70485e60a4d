"""Core models: the Bling connection, runtime settings, job runs and the audit log."""

from blingsync.models.audit import AuditLog
from blingsync.models.connection import BlingConnection
from blingsync.models.jobs import JobRun
from blingsync.models.ratelimit import RateLimitBucket
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
