"""Reading the runtime mode (dry-run / live / paused); changing it is an operations face
(`blingsync.operations.mode`).

Who decides: the entry points (the job runner, webhook processing, the debounced stock
evaluation, management commands and tasks) call `run_mode_resolve` once and pass the
result down; services take a required `dry_run: bool` and never look at the mode or the
running job themselves. So a service behaves the same whoever calls it, and a test or a
caller can see from the call what it will do.
"""

from __future__ import annotations

from dataclasses import dataclass

from blingsync.models import RuntimeSettings


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
