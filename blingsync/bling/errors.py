"""Exceptions raised by the Bling client, carrying Bling's error envelope.

Envelope: {"error": {"type", "message", "description", "fields": [{"code", "msg",
"element", "namespace", "collection": [...]}]}} (bling-v3.md section 2).
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class FieldError:
    element: str
    message: str
    code: int | None = None


@dataclass
class BlingError(Exception):
    """Any error answer from Bling (or no answer at all)."""

    status: int | None
    error_type: str = ""
    message: str = ""
    description: str = ""
    fields: list[FieldError] = field(default_factory=list)

    def __str__(self) -> str:
        parts = [f"Bling {self.status or 'no answer'}", self.error_type, self.message]
        if self.description and self.description != self.message:
            parts.append(self.description)
        text = ": ".join(p for p in parts if p)
        if self.fields:
            text += " [" + "; ".join(f"{f.element}: {f.message}" for f in self.fields) + "]"
        return text


class BlingValidationError(BlingError):
    """400: Bling refused the data (field errors in `fields`)."""


class BlingNotFound(BlingError):
    """404 RESOURCE_NOT_FOUND."""


class BlingForbidden(BlingError):
    """403: insufficient scope."""


class BlingAuthError(BlingError):
    """401 that a token refresh did not cure."""


class BlingNotConnected(BlingError):
    """No usable connection: never connected, or the refresh token was refused
    (`invalid_grant`): staff must reconnect from the admin."""


@dataclass
class BlingRateLimited(BlingError):
    """429 that waiting did not cure; `period` is "second" or "day" (Bling's `error.period`).
    A daily limit stops the run until tomorrow."""

    period: str = "second"


class BlingUnavailable(BlingError):
    """5xx, timeouts or connection errors after the bounded retries."""


class BlingCircuitOpen(BlingUnavailable):
    """Calls are suspended after repeated failures (protects against Bling's IP block)."""
