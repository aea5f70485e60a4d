"""Job kinds of the core app.

`tokens`: refresh the Bling access token ahead of expiry (the schedule runs it hourly; a
token expiring within `TOKENS_JOB_MARGIN`, or within a quarter of its lifetime when that is
shorter, is refreshed). It runs in every mode, paused
included: letting the token lapse would only cost a refresh later, but letting the refresh
token (30 days) lapse would need staff to reconnect.
"""

from __future__ import annotations

from datetime import timedelta

from blingsync.bling.tokens import token_refresh_if_due
from blingsync.connection import connection_get
from blingsync.jobrunner import JobContext, register_job

TOKENS_JOB_MARGIN = timedelta(minutes=60)


@register_job("tokens", runs_when_paused=True, uses_since=False)
def tokens_job(ctx: JobContext) -> None:
    refreshed = token_refresh_if_due(margin=TOKENS_JOB_MARGIN)
    # Counted once there was a token to look at (a run without a connection saw nothing).
    ctx.count("seen")
    if refreshed:
        ctx.count("changed")
    else:
        ctx.skip("token ainda válido")
    conn = connection_get()
    if conn is not None and conn.expires_at:
        ctx.note("expires_at", conn.expires_at.isoformat())
