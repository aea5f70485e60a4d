"""Fake Bling ERP API v3 server for blingsync tests and benchmarks.

Pure stdlib: a ``ThreadingHTTPServer`` on 127.0.0.1 in a daemon thread, an in-memory catalog
behind one lock, and a request log. Facts it imitates are in /work/shared/bling-v3.md; the
allowed query params and body fields are hand-written from Bling's OpenAPI document.

    from tests.fakebling import FakeBling
    fake = FakeBling().start()
    fake.add_product("Caderno", codigo="NTB-1", stock=3)
    tokens = fake.issue_tokens()
    # ... point the client at fake.base_url with Bearer tokens["access_token"] ...
    fake.stop()

Modules: ``fake`` (the FakeBling facade), ``server`` (HTTP pipeline), ``oauth``, ``products``,
``categories``, ``stock``, ``orders``, ``compositions`` (kits), ``company``, ``webhooks``, ``catalog`` (generator),
``state``, ``errors``, ``validation``, ``routing``; ``sandbox`` grows the fake into the sandbox
of ``make demo`` (a retailer's catalog, actions that send webhooks, its page and command),
which tests use too.
"""

from .fake import FakeBling
from .state import Recorded, TokenCall

__all__ = ["FakeBling", "Recorded", "TokenCall"]
