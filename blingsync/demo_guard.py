"""The demonstration's promise that nothing reaches a real Bling, checked by the settings.

`make demo` (scripts/demo.py) sets `DEMO=true` and points every Bling address at the sandbox
on loopback. The settings refuse to start a demonstration whose Bling addresses (API and
token endpoint, authorization page, redirect, the sandbox page) name any other host, so a
stray variable cannot turn a demonstration into a client of a real account. Read before
Django starts: imports nothing of Django.
"""

from __future__ import annotations

from urllib.parse import urlsplit

LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})


def demo_addresses_problem(*, addresses: dict[str, str]) -> str:
    """A sentence naming the first address that is not on loopback, or "" when all are."""
    for name, url in addresses.items():
        host = urlsplit(url).hostname if url else None
        if host not in LOOPBACK_HOSTS:
            return (
                f"DEMO=true: {name} must point at the sandbox on loopback (127.0.0.1), "
                f"not {url or '(empty)'!r}; a demonstration never talks to a real Bling."
            )
    return ""
