"""E-mail alerts and the daily summary (SPEC 5.13): what to tell the retailer, to whom, when.

The models and the one-line triggers stay in the core (`blingsync.alerts`): the core raises
alerts, this package checks, words and sends them."""
