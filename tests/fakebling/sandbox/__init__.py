"""The fake Bling as a sandbox: a retailer's catalog, things that happen, and its own page.

``make demo`` runs the app against this sandbox (``scripts/demo.py``); tests use the same
pieces on the fake they already start:

- ``retail.retail_catalog_generate(fake)``: a computer retailer's catalog (deterministic);
- ``actions``: ``sale``, ``restock``, ``manual_balance``, ``new_product``, each changing the
  catalog and sending the signed webhooks Bling would send to ``fake.webhook_url``;
- ``page``: the sandbox's page and controls under ``/sandbox/`` of the fake's server;
- ``python -m tests.fakebling.sandbox``: the command (serve a sandbox; make a sale, an entry,
  a balance or a new product happen in a running one).

Everything here listens on and posts to loopback only.
"""

from .actions import ActionError, ActionResult, manual_balance, new_product, restock, sale
from .retail import RetailCatalog, retail_catalog_generate

__all__ = [
    "ActionError",
    "ActionResult",
    "RetailCatalog",
    "manual_balance",
    "new_product",
    "restock",
    "retail_catalog_generate",
    "sale",
]
