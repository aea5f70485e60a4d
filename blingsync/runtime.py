"""Reading and changing the runtime mode (dry-run / live / paused).

Who decides: the entry points (the job runner, webhook processing, the debounced stock
evaluation, management commands and tasks) call `run_mode_resolve` once and pass the
result down; services take a required `dry_run: bool` and never look at the mode or the
running job themselves. So a service behaves the same whoever calls it, and a test or a
caller can see from the call what it will do.
"""

from __future__ import annotations

from dataclasses import dataclass

from blingsync.audit import audit_record
from blingsync.models import AuditLog, RuntimeSettings


def runtime_settings_get() -> RuntimeSettings:
    """The single settings row (created with defaults on first use)."""
    return RuntimeSettings.load()


# Why a run is a simulation (recorded in a job run's details as `dry_run_reason`).
DRY_RUN_ASKED = "pedida"
DRY_RUN_INSTALLATION = "modo da instalação: simulação"


@dataclass(frozen=True)
class RunMode:
    """What a piece of work may do, decided once by its entry point.

    `paused`: the installation is paused (entry points that honour it do nothing).
    `dry_run`: compute and audit as "would do", write nothing to Bling.
    `dry_run_reason`: why it is a simulation ("" when live).
    """

    paused: bool
    dry_run: bool
    dry_run_reason: str = ""


def run_mode_resolve(*, dry_run: bool | None) -> RunMode:
    """The mode of a piece of work that asks for `dry_run` (None: nothing asked).

    Dry-run when asked for (`dry_run=True`) or when the installation is in dry-run mode. An
    explicit `dry_run=False` asks for nothing: it never overrides the installation's dry-run
    mode (the safe reading; the one kind that must run live in a dry-run installation,
    `seed_counters`, decides that itself from what its run asked, because raising counters
    writes nothing to Bling). Reads the settings row once."""
    mode = runtime_settings_get().mode
    paused = mode == RuntimeSettings.Mode.PAUSED
    if dry_run:
        return RunMode(paused=paused, dry_run=True, dry_run_reason=DRY_RUN_ASKED)
    if mode == RuntimeSettings.Mode.DRY_RUN:
        return RunMode(paused=paused, dry_run=True, dry_run_reason=DRY_RUN_INSTALLATION)
    return RunMode(paused=paused, dry_run=False)


def mode_is_paused() -> bool:
    """Whether the installation is paused (for entry points that need nothing else)."""
    return run_mode_resolve(dry_run=None).paused


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
            # Imported here: the backlog queues a job run, and the job runner resolves its
            # mode with this module.
            from blingsync.backlog import inbox_backlog_queue

            # Webhooks were stored, not processed, while paused: pick them up now.
            inbox_backlog_queue(requested_by=actor)
    return settings_row
