"""The brake on writes to Bling: may a write go out *now*? (SPEC 5.8, 5.14)

The mode holds for work already running: the entry point of a piece of work declares under
which authority it writes (`write_scope`), and every write call to Bling asks
`write_gate_check` first, which reads the mode (and the run's stop request) from the database
at that moment. So a switch to paused or dry-run, or "Parar" on a run, stops the work at its
next write, and nothing is written after the switch is saved.

Two authorities:
- `MODE`: blingsync acting on its own (sweeps, webhooks, evaluations): writes only while the
  installation is live. This is the default: work that declares nothing is held to the mode.
- `APPROVED`: staff approved exactly these writes (applying a plan, undoing a run): writes in
  any mode but paused (in dry-run, applying an approved plan is the way to write).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from enum import StrEnum

from blingsync.models import JobRun, RuntimeSettings


class WriteAuthority(StrEnum):
    MODE = "mode"
    APPROVED = "approved"


class StopReason(StrEnum):
    """Why a write was refused (and so why a running run ends "interrompida")."""

    PAUSED = "paused"
    DRY_RUN = "dry_run"
    STOPPED = "stopped"


@dataclass(frozen=True)
class WriteScope:
    authority: WriteAuthority = WriteAuthority.MODE
    # The job run doing the work, when there is one: its stop request ("Parar") is honoured.
    run_id: int | None = None


class WritesStopped(Exception):
    """A write to Bling may not go out now; nothing was sent."""

    def __init__(self, reason: StopReason, detail: str = "") -> None:
        self.reason = reason
        self.detail = detail
        super().__init__(detail or str(reason))


_DEFAULT_SCOPE = WriteScope()
_scope: ContextVar[WriteScope | None] = ContextVar("write_scope", default=None)


@contextmanager
def write_scope(
    *, authority: WriteAuthority = WriteAuthority.MODE, run_id: int | None = None
) -> Iterator[WriteScope]:
    """Declare, for the code run inside, under which authority it writes to Bling."""
    scope = WriteScope(authority=authority, run_id=run_id)
    token = _scope.set(scope)
    try:
        yield scope
    finally:
        _scope.reset(token)


def write_scope_current() -> WriteScope:
    return _scope.get() or _DEFAULT_SCOPE


def write_gate_check() -> None:
    """Raise `WritesStopped` when a write to Bling may not go out at this moment.

    Reads the mode and the run's stop request from the database on every call (never a
    cached value): this is the check that makes a switch of mode a brake."""
    scope = write_scope_current()
    mode = RuntimeSettings.objects.filter(pk=1).values_list("mode", flat=True).first()
    mode = mode or RuntimeSettings.Mode.DRY_RUN
    if mode == RuntimeSettings.Mode.PAUSED:
        raise WritesStopped(StopReason.PAUSED, "a instalação foi pausada")
    if mode == RuntimeSettings.Mode.DRY_RUN and scope.authority != WriteAuthority.APPROVED:
        raise WritesStopped(StopReason.DRY_RUN, "a instalação passou para simulação")
    if scope.run_id is not None:
        stop = (
            JobRun.objects.filter(pk=scope.run_id, stop_requested_at__isnull=False)
            .values_list("stop_requested_by", flat=True)
            .first()
        )
        if stop is not None:
            raise WritesStopped(StopReason.STOPPED, f"parada pedida por {stop or '?'}")
