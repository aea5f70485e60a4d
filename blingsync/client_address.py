"""The client's address behind the reverse proxies this installation trusts (SPEC 6).

`TRUSTED_PROXY_COUNT` says how many proxies in front of the app add the address they saw to
`X-Forwarded-For` (each appends its peer to the right). With 0 (the default: the app is
reached directly, as `make run` does) the client is the TCP peer, `REMOTE_ADDR`, and
`X-Forwarded-For` is ignored: anyone can send it. With N the client is the N-th entry
counted from the right, the one the outermost trusted proxy wrote; entries further left
were written by the client itself and are never used. A request carrying fewer entries
than that did not come through the proxies (or they are set up otherwise): its peer
address is used.

Login throttling (django-axes, `AXES_CLIENT_IP_CALLABLE`) and the webhook inbox (the
address of refusals) both read the client's address here."""

from __future__ import annotations

import ipaddress

from django.conf import settings
from django.http import HttpRequest

FORWARDED_FOR = "HTTP_X_FORWARDED_FOR"


def _address(value: str | None) -> str | None:
    """A normalised IP address, or None (junk, a unix socket peer, a port glued to it)."""
    try:
        return str(ipaddress.ip_address((value or "").strip()))
    except ValueError:
        return None


def client_address(request: HttpRequest) -> str | None:
    """The client's IP address as text, or None when none is usable."""
    peer = _address(request.META.get("REMOTE_ADDR"))
    trusted = int(getattr(settings, "TRUSTED_PROXY_COUNT", 0) or 0)
    if trusted <= 0:
        return peer
    header = request.META.get(FORWARDED_FOR, "")
    # Several X-Forwarded-For headers arrive joined by commas: one list, left to right.
    hops = [hop.strip() for hop in str(header).split(",") if hop.strip()]
    if len(hops) < trusted:
        return peer
    return _address(hops[-trusted]) or peer
