"""Who may do what (SPEC 5.12): one permission per ability, checked on the server in every
view, admin action and dashboard button, and used to hide what a user cannot do.

The permissions live on the models' Meta; the roles that bundle them are in
`blingsync/roles.py`. Superusers hold every permission.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest

RUN_SIMULATION = "blingsync.run_simulation"
RUN_LIVE = "blingsync.run_live"
CHANGE_MODE = "blingsync.change_mode"
CONNECT_BLING = "blingsync.connect_bling"
EXPORT_AUDIT = "blingsync.export_audit"
EDIT_RULES = "products.edit_rules"
RAISE_COUNTERS = "products.raise_counters"
REPROCESS_EVENTS = "webhooks.reprocess_events"

# Kinds whose runs act the same with or without `dry_run`: refreshing the token, mirroring
# the categories and recovering the event inbox (which queues real processing). Running
# them always takes the live permission.
KINDS_WITHOUT_SIMULATION = frozenset({"tokens", "categories", "events"})
# Kinds that act on another run (a plan to apply, a run to undo): started from that run's page
# or the plan page (with the live-run permission), never from a "run now" button.
KINDS_WITH_TARGET = frozenset({"plan", "undo"})


def job_run_permission(*, kind: str, dry_run: bool) -> str:
    """The permission a run of `kind` needs: a simulation only when it asks for dry-run and
    the kind honours it. `seed_counters` raises counters even while the installation is in
    dry-run mode, so it is live unless the run itself asks for dry-run."""
    if dry_run and kind not in KINDS_WITHOUT_SIMULATION:
        return RUN_SIMULATION
    return RUN_LIVE


def job_run_permitted(*, user: Any, kind: str, params: dict[str, Any]) -> bool:
    """May `user` queue a run of `kind` with `params` (a new run or a rerun of one)?"""
    return user.has_perm(job_run_permission(kind=kind, dry_run=bool(params.get("dry_run"))))


def job_kind_buttons(*, user: Any, kind: str) -> dict[str, bool]:
    """What the run buttons of `kind` offer `user`: a simulation, a live run, or neither."""
    if kind in KINDS_WITH_TARGET:
        return {"may_simulate": False, "may_run_live": False}
    simulation = job_run_permission(kind=kind, dry_run=True) == RUN_SIMULATION
    return {
        "may_simulate": simulation and user.has_perm(RUN_SIMULATION),
        "may_run_live": user.has_perm(RUN_LIVE),
    }


def user_may_run_jobs(user: Any) -> bool:
    """Holds at least one of the two run permissions (shows the run buttons at all)."""
    return user.has_perm(RUN_SIMULATION) or user.has_perm(RUN_LIVE)


def permission_require(request: HttpRequest, permission: str) -> None:
    """Refuse (403) a request whose user lacks `permission`."""
    if not request.user.has_perm(permission):
        raise PermissionDenied(permission)  # the 403 page names the role that holds it
