"""Setting the runtime mode (dry-run / live / paused): audited, and a resume from paused
queues the webhook backlog. Reading the mode is the core's (`blingsync.runtime`)."""

from __future__ import annotations

from blingsync.audit import audit_record
from blingsync.backlog import inbox_backlog_queue
from blingsync.models import AuditLog, RuntimeSettings
from blingsync.runtime import runtime_settings_get


def mode_set(*, mode: str, actor: str, source: str = AuditLog.Source.ADMIN) -> RuntimeSettings:
    """Switch the mode and audit the change. Raises ValueError on an unknown mode."""
    if mode not in RuntimeSettings.Mode.values:
        choices = ", ".join(RuntimeSettings.Mode.values)
        raise ValueError(f"unknown mode {mode!r}; choose one of: {choices}")
    settings_row = runtime_settings_get()
    before = settings_row.mode
    if before != mode:
        settings_row.mode = mode
        settings_row.updated_by = actor
        settings_row.save(update_fields=["mode", "updated_by", "updated_at"])
        audit_record(
            action=AuditLog.Action.MODE_CHANGED,
            before={"mode": before},
            after={"mode": mode},
            reason=f"mode changed by {actor}",
            reason_rule="mode.changed",
            reason_data={"actor": actor},
            source=source,
            actor=actor,
        )
        if before == RuntimeSettings.Mode.PAUSED:
            # Webhooks were stored, not processed, while paused: pick them up now.
            inbox_backlog_queue(requested_by=actor)
    return settings_row
